"""The noise model recovers the parameters it was given on synthetic data."""

import json

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from faket.noise import NoiseModel, estimate_tilt_parameters, match_moments, tilt_positions

TRUE = {"scale": [0.3, -0.2, 1.5], "offset": [-1.0, 0.5, 10.0], "noise": [0.8, 0.0, 2.0]}  # quadratics, highest first


def _clean(n_tilts, seed, size=48):
    rng = np.random.default_rng(seed)
    return np.stack([gaussian_filter(rng.normal(size=(size, size)), 2.0) * 50 for _ in range(n_tilts)])


def _measured(clean, seed):
    t = tilt_positions(clean.shape[0])
    a, b, s = (np.polyval(TRUE[k], t)[:, None, None] for k in ("scale", "offset", "noise"))
    return a * clean + b + s * np.random.default_rng(seed).standard_normal(clean.shape)


def test_per_tilt_estimates_recover_truth():
    c = _clean(21, 0)
    m = _measured(c, 1)
    est = estimate_tilt_parameters(c, m)
    t = tilt_positions(21)
    np.testing.assert_allclose(est["scale"], np.polyval(TRUE["scale"], t), rtol=0.03)
    np.testing.assert_allclose(est["offset"], np.polyval(TRUE["offset"], t), atol=0.2)  # ~4 standard errors of a mean
    np.testing.assert_allclose(est["noise"], np.polyval(TRUE["noise"], t), rtol=0.03)
    np.testing.assert_allclose(est["mean"], m.reshape(21, -1).mean(axis=1))


def test_fit_aggregates_and_recovers_polynomials(tmp_path):
    cleans = [_clean(31, 2), _clean(41, 3, size=40)]  # two tomograms, different tilt counts
    measured = [_measured(c, 10 + i) for i, c in enumerate(cleans)]
    model = NoiseModel.fit(cleans, measured, degree=2)
    for k, true in TRUE.items():
        np.testing.assert_allclose(model.coefficients[k], true, atol=0.03, rtol=0.02)
    assert len(model.per_tilt) == 2
    p = model.save(tmp_path / "noise.json")
    again = NoiseModel.load(p)
    assert again.coefficients == model.coefficients and again.degree == 2
    # the model reproduces the statistics it was fitted to
    sim = again.apply(cleans[0], seed=5)
    back = estimate_tilt_parameters(cleans[0], sim)
    t = tilt_positions(31)
    np.testing.assert_allclose(back["noise"], np.polyval(TRUE["noise"], t), rtol=0.05)
    np.testing.assert_array_equal(sim, again.apply(cleans[0], seed=5))  # same seed, same result


def test_baseline_is_tilt_independent_and_moment_matching():
    cleans = [_clean(25, 4)]
    model = NoiseModel.fit(cleans, [_measured(cleans[0], 7)], degree=2)
    base = model.parameters(25, "baseline")
    for k in ("scale", "offset", "noise"):
        assert np.ptp(base[k]) == 0
        # the average of the quadratic over [-1, 1]: c + a / 3
        a, _, c = TRUE[k]
        assert base[k][0] == pytest.approx(c + a / 3, abs=0.05)
    out = model.apply(cleans[0], modality="baseline", moment_matching=True, seed=1)
    noisy = model.parameters(25, "noisy")
    np.testing.assert_allclose(out.reshape(25, -1).mean(axis=1), noisy["mean"][0] * 0 + base["mean"], rtol=1e-4, atol=1e-3)
    mm = match_moments(cleans[0], np.arange(25.0), np.full(25, 2.0))
    np.testing.assert_allclose(mm.reshape(25, -1).mean(axis=1), np.arange(25.0), atol=1e-4)
    np.testing.assert_allclose(mm.reshape(25, -1).std(axis=1), 2.0, rtol=1e-4)


def test_bad_inputs(tmp_path):
    c = _clean(5, 0, size=16)
    with pytest.raises(ValueError, match="same shape"):
        estimate_tilt_parameters(c, c[:4])
    with pytest.raises(ValueError, match="constant"):
        estimate_tilt_parameters(np.ones((3, 4, 4)), np.ones((3, 4, 4)))
    with pytest.raises(ValueError, match="degree"):
        NoiseModel.fit([c], [c], degree=9)
    with pytest.raises(ValueError, match="distinct tilts"):
        NoiseModel.fit([c], [c], degree=5)
    with pytest.raises(ValueError, match="same non-zero number"):
        NoiseModel.fit([c], [c, c])
    model = NoiseModel.fit([c], [2 * c + 1], degree=1)
    with pytest.raises(ValueError, match="modality"):
        model.apply(c, modality="loud")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a faket noise model"):
        NoiseModel.load(bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON"):
        NoiseModel.load(bad)
