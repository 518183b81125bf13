"""Kernel density: grid evaluation against brute-force sums, reflection, bandwidth selectors."""

import numpy as np
import pytest
from scipy import integrate, stats

from redistributor import KDEDistribution, Redistributor
from redistributor.bandwidth import isj, scott, select_bandwidth, silverman


def _exact(q, x, h):
    z = (q[:, None] - x[None, :]) / h
    return stats.norm.pdf(z).mean(1) / h, stats.norm.cdf(z).mean(1)


def test_grid_density_and_cdf_match_brute_force(rng):
    x = rng.standard_normal(2000)
    d = KDEDistribution.fit(x, bandwidth=0.3)
    q = np.linspace(-5, 5, 101)
    pdf, cdf = _exact(q, x, 0.3)
    assert np.max(np.abs(d.pdf(q) - pdf)) < 1e-6
    assert np.max(np.abs(d.cdf(q) - cdf)) < 1e-6
    assert np.max(np.abs(d.sf(q) - (1 - cdf))) < 1e-6
    u = rng.random(2000)
    assert np.allclose(d.cdf(d.ppf(u)), u, atol=1e-12)
    assert np.allclose(d.sf(d.isf(u)), u, atol=1e-12)
    # beyond the grid the CDF follows the extreme kernel's Gaussian tail
    far = x.min() - 12 * 0.3
    assert d.cdf(far) == pytest.approx(stats.norm.cdf(-12) / 2000, rel=1e-6)


def test_reflection_at_bounds(rng):
    y = rng.exponential(size=2000)
    h = 0.2
    d = KDEDistribution.fit(y, bandwidth=h, bounds=(0.0, None))
    q = np.linspace(0, 5, 51)
    exact = (stats.norm.pdf((q[:, None] - y) / h) + stats.norm.pdf((q[:, None] + y) / h)).mean(1) / h
    assert np.max(np.abs(d.pdf(q) - exact)) < 1e-5
    assert d.cdf(0.0) == 0.0 and d.pdf(-1.0) == 0.0 and d.ppf(0.0) == 0.0


def test_rule_of_thumb_formulas(rng):
    x = rng.gamma(2.0, size=5000)
    n, sd = x.size, np.std(x, ddof=1)
    # scipy's 1-D 'silverman' factor (3n/4)^(-1/5) is the normal-reference constant used by scott()
    kde = stats.gaussian_kde(x, bw_method="silverman")
    assert scott(x) == pytest.approx(kde.factor * sd, rel=1e-12)
    iqr = np.subtract(*np.percentile(x, [75, 25]))
    assert silverman(x) == pytest.approx(0.9 * min(sd, iqr / 1.349) * n ** -0.2)
    with pytest.raises(ValueError, match="bandwidth='wide'"):
        select_bandwidth(x, "wide")
    with pytest.raises(ValueError, match="bandwidth=-1"):
        select_bandwidth(x, -1)


def _amise_bandwidth(f2, n):
    """AMISE-optimal Gaussian-kernel bandwidth (R(K)/(R(f'') n))^(1/5), R(f'') by quadrature."""
    r = integrate.quad(lambda t: f2(t) ** 2, -20, 20, limit=400)[0]
    return (1 / (2 * np.sqrt(np.pi)) / (r * n)) ** 0.2


def test_isj_close_to_amise_optimum_on_normal_and_bimodal(rng):
    n = 100_000
    x = rng.standard_normal(n)
    h_opt = _amise_bandwidth(lambda t: stats.norm.pdf(t) * (t**2 - 1), n)
    assert isj(x) == pytest.approx(h_opt, rel=0.1)
    xb = np.concatenate([rng.normal(-3, 1, n // 2), rng.normal(3, 1, n // 2)])

    def f2(t):
        return 0.5 * stats.norm.pdf(t, -3) * ((t + 3) ** 2 - 1) + 0.5 * stats.norm.pdf(t, 3) * ((t - 3) ** 2 - 1)

    hb = _amise_bandwidth(f2, n)
    assert isj(xb) == pytest.approx(hb, rel=0.15)
    assert silverman(xb) > 2 * hb  # the rule of thumb oversmooths two modes; ISJ does not


def test_kde_source_in_redistributor(rng):
    X = rng.gamma(3.0, size=(20_000, 1))
    r = Redistributor(source="kde", target="norm").fit(X)
    Y = r.transform(X)
    assert stats.kstest(Y[:, 0], "norm").statistic < 0.015
    assert np.allclose(r.inverse_transform(Y), X, atol=1e-9)
    assert r.sources_[0].bandwidth == pytest.approx(isj(X[:, 0]))


def test_kde_bad_input():
    with pytest.raises(ValueError, match="constant"):
        KDEDistribution.fit(np.ones(5))
    with pytest.raises(ValueError, match="at least 2"):
        KDEDistribution.fit(np.array([1.0, np.nan]))
