"""Fast target quantile paths against scipy, and the distribution interface."""

import numpy as np
import pytest
from scipy import stats

from redistributor import ScipyDistribution, as_distribution

FAMILIES = [
    stats.norm(1.5, 2.0),
    stats.uniform(-1, 3),
    stats.expon(0.5, 2.0),
    stats.logistic(0, 0.7),
    stats.laplace(1, 3),
    stats.beta(2, 5),
    stats.beta(0.5, 0.5),
    stats.gamma(0.7, scale=2),
    stats.gamma(5),
    stats.t(3),
    stats.t(30, loc=1),
    stats.lognorm(0.8),
]


@pytest.mark.parametrize("frozen", FAMILIES, ids=lambda f: f.dist.name + str(f.args))
def test_fast_ppf_matches_scipy_within_stated_bound(frozen, rng):
    d = ScipyDistribution(frozen)
    # probabilities over the whole range, including deep tails on both sides
    q = np.concatenate([rng.random(20_000), 10.0 ** rng.uniform(-15, -1, 2000)])
    got = d.ppf(q)
    got_isf = d.isf(q)
    ref = frozen.ppf(q)
    ref_isf = frozen.isf(q)
    bound = d.error_bound
    assert d.method in ("closed-form", "hermite-table")
    scale = np.maximum(1.0, np.abs(ref))
    tol = max(bound, 1e-13) * 1.0001 + 4e-15
    assert np.max(np.abs(got - ref) / scale) <= tol
    assert np.max(np.abs(got_isf - ref_isf) / np.maximum(1.0, np.abs(ref_isf))) <= tol
    if d.method == "hermite-table":
        assert 0 < bound < 1e-10


def test_beta_table_error_below_1e9_and_monotone():
    d = ScipyDistribution(stats.beta(2, 5))
    q = np.linspace(0, 1, 200_001)
    y = d.ppf(q)
    assert np.max(np.abs(y - stats.beta(2, 5).ppf(q))) < 1e-9
    assert np.all(np.diff(y) >= -1e-12)
    assert y[0] == 0.0 and y[-1] == 1.0


def test_cdf_sf_pdf_rvs(rng):
    d = as_distribution("gamma", params={"a": 3.0})
    x = np.array([0.5, 2.0, 7.0, 40.0])
    assert np.allclose(d.cdf(x), stats.gamma(3).cdf(x))
    assert np.allclose(d.sf(x), stats.gamma(3).sf(x), rtol=1e-12)
    assert np.allclose(d.pdf(x), stats.gamma(3).pdf(x))
    s = d.rvs(20_000, random_state=1)
    assert stats.kstest(s, stats.gamma(3).cdf).pvalue > 1e-3
    assert np.array_equal(s, d.rvs(20_000, random_state=1))
    assert np.isnan(d.cdf(np.nan))


def test_unknown_names_and_bad_params_are_clear_errors():
    with pytest.raises(ValueError, match="target='gauss'.*norm"):
        as_distribution("gauss")
    with pytest.raises(ValueError, match="beta"):
        as_distribution("beta", params={"alpha": 2})
    with pytest.raises(TypeError, match="frozen scipy"):
        as_distribution(3.0)
    with pytest.raises(TypeError, match="continuous"):
        as_distribution(stats.poisson(3))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_distribution("norm").ppf(1.5)
