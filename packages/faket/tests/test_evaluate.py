"""Evaluation metrics on inputs with known answers."""

import numpy as np
import pytest
from skimage.feature import match_template

from faket.evaluate import (
    Detection,
    compare_tilt_series,
    f1_score,
    locate_particles,
    normalized_cross_correlation,
    radial_power_spectrum,
    tilt_statistics,
)


def test_radial_spectrum_of_a_cosine_and_white_noise():
    h = w = 32
    x = np.arange(w)
    img = np.cos(2 * np.pi * 5 * x / w)[None, :].repeat(h, axis=0)
    f, p = radial_power_spectrum(img)
    assert len(f) == 16 and f[4] == pytest.approx(5 / 32)
    assert np.nanargmax(p) == 4
    # all the power sits at +-5/32: |FFT|^2 = (h*w/2)^2 at two frequencies, bin 5 has 4 frequencies at radius 5
    ring = (np.sqrt(np.fft.fftfreq(h)[:, None] ** 2 + np.fft.fftfreq(w)[None, :] ** 2) * 32).round() == 5
    assert p[4] == pytest.approx(2 * (h * w / 2) ** 2 / (h * w) / ring.sum())
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 3.0, size=(40, 64, 64))
    _, pn = radial_power_spectrum(noise)
    # white noise: flat at the variance (Parseval), here 9
    np.testing.assert_allclose(pn[2:], 9.0, rtol=0.1)
    assert np.mean(pn) == pytest.approx(9.0, rel=0.02)


def test_tilt_statistics_and_identical_series():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 32, 32)) * np.array([1, 2, 3])[:, None, None] + np.array([0, 5, -1])[:, None, None]
    st = tilt_statistics(a)
    np.testing.assert_allclose(st["mean"], [a[i].mean() for i in range(3)])
    np.testing.assert_allclose(st["std"], [a[i].std() for i in range(3)])
    same = compare_tilt_series(a, a)
    assert same["spectrum_log_rmse"] == 0 and same["mean_abs_diff"] == 0 and same["std_rel_diff"] == 0
    assert same["gram_mean"] == pytest.approx(0, abs=1e-6)
    other = compare_tilt_series(a, 2 * a + 1)
    assert other["mean_abs_diff"] > 0 and other["std_rel_diff"] == pytest.approx(0.5)
    # a linear change of grey values leaves the standardised spectrum unchanged
    assert other["spectrum_log_rmse"] == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError, match="measured: 2 tilts but simulated has 3"):
        compare_tilt_series(a, a[:2])


def test_ncc_against_skimage_and_brute_force():
    rng = np.random.default_rng(2)
    vol = rng.normal(size=(12, 13, 14))
    tpl = rng.normal(size=(5, 4, 3))
    ncc = normalized_cross_correlation(vol, tpl)
    ref = match_template(vol, tpl, pad_input=True)
    inner = (slice(3, -3), slice(3, -3), slice(3, -3))
    np.testing.assert_allclose(ncc[inner], ref[inner], atol=1e-6)
    # brute force at one interior position: Pearson correlation of the patch and the template
    p = (6, 7, 5)
    c = tuple(s // 2 for s in tpl.shape)
    patch = vol[tuple(slice(pi - ci, pi - ci + s) for pi, ci, s in zip(p, c, tpl.shape))]
    assert ncc[p] == pytest.approx(np.corrcoef(patch.ravel(), tpl.ravel())[0, 1], abs=1e-9)
    # a planted copy (scaled and shifted) correlates perfectly
    vol[4:9, 3:7, 8:11] = 3 * tpl + 2
    assert normalized_cross_correlation(vol, tpl)[4 + 2, 3 + 2, 8 + 1] == pytest.approx(1.0, abs=1e-9)


def _ball(r, size):
    g = np.indices((size,) * 3) - size // 2
    return (np.sqrt((g**2).sum(0)) <= r).astype(float)


def test_locate_particles_and_f1_on_a_known_volume():
    rng = np.random.default_rng(3)
    vol = rng.normal(0, 0.2, size=(32, 40, 40))
    templates = {"small": _ball(2, 7), "large": _ball(4, 11)}
    truth = [Detection("small", 8, 10, 8), Detection("large", 28, 12, 16), Detection("small", 20, 30, 24), Detection("large", 30, 30, 10)]
    for p in truth:
        t = templates[p.cls]
        r = t.shape[0] // 2
        z, y, x = int(p.z), int(p.y), int(p.x)
        vol[z - r : z + r + 1, y - r : y + r + 1, x - r : x + r + 1] += t
    found = locate_particles(vol, templates, threshold=0.5, min_distance=4)
    scores = f1_score(found, truth, tolerance=1.5)
    assert scores == {"tp": 4, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_f1_by_hand():
    P = [Detection("a", 0, 0, 0), Detection("a", 2, 0, 0), Detection("b", 10, 0, 0)]
    # D1 is within 1 of both a-particles, D2 only of the first: a greedy nearest match would find 1
    D = [Detection("a", 1, 0, 0), Detection("a", -0.5, 0, 0), Detection("a", 10, 0, 0), Detection("b", 30, 0, 0)]
    s = f1_score(D, P, tolerance=1.0)
    assert (s["tp"], s["fp"], s["fn"]) == (2, 2, 1)
    assert s["precision"] == 0.5 and s["recall"] == pytest.approx(2 / 3) and s["f1"] == pytest.approx(4 / 7)
    s2 = f1_score(D, P, tolerance=1.0, match_class=False)
    assert s2["tp"] == 3
    assert f1_score([], P, tolerance=1.0)["f1"] == 0.0
