"""Empirical distribution: plotting positions, knot grid, tail models, ties, consistency."""

import numpy as np
import pytest
from scipy import stats

from redistributor import EmpiricalDistribution


def test_all_points_interpolate_order_statistics(rng):
    x = rng.standard_normal(500)
    d = EmpiricalDistribution.fit(x, n_quantiles="all")
    xs = np.sort(x)
    r = np.arange(1, 501) / 501
    assert np.allclose(d.cdf(xs), r)
    assert np.allclose(d.ppf(r), xs)
    # linear in between: midpoints of order statistics get the mean plotting position
    mid = 0.5 * (xs[:-1] + xs[1:])
    assert np.allclose(d.cdf(mid), 0.5 * (r[:-1] + r[1:]))
    q = rng.random(1000)
    assert np.allclose(d.cdf(d.ppf(q)), q)


def test_input_is_not_modified_and_integers_accepted(rng):
    x = rng.integers(0, 1000, 300)
    before = x.copy()
    d = EmpiricalDistribution.fit(x)
    assert np.array_equal(x, before)
    assert d.cdf(1000.0) > d.cdf(0.0)


def test_grid_error_below_sampling_error(rng):
    n = 200_000
    x = rng.standard_normal(n)
    full = EmpiricalDistribution.fit(x, n_quantiles="all")
    grid = EmpiricalDistribution.fit(x)  # auto grid
    assert grid.n_knots < n / 10
    q = np.sort(np.concatenate([rng.standard_normal(50_000), np.linspace(-4.5, 4.5, 1000)]))
    p = stats.norm.cdf(q)
    diff = np.abs(grid.cdf(q) - full.cdf(q))
    sampling_sd = np.sqrt(p * (1 - p) / n)
    # the grid error is a small fraction of the pointwise sampling error, in the bulk and the tails
    assert np.all(diff <= 0.5 * sampling_sd + 2.0 / n)


def test_exponential_tail_continues_beyond_sample_range(rng):
    x = rng.standard_normal(10_000)
    d = EmpiricalDistribution.fit(x)
    xmax = x.max()
    far = np.array([xmax + 0.1, xmax + 1.0, xmax + 10.0])
    s = d.sf(far)
    assert np.all(np.diff(s) < 0) and np.all(s > 0)
    # exponential model: log S decreases linearly with slope -1/beta
    slope = np.diff(np.log(s)) / np.diff(far)
    assert np.allclose(slope, -1.0 / d.tail_scales[1])
    assert s[0] < 1.0 / 10_001
    # quantile function inverts the tail
    assert np.allclose(d.isf(s), far)
    # density integrates to one (piecewise linear part plus the two exponential tails)
    grid = np.linspace(x.min() - 40 * d.tail_scales[0], xmax + 40 * d.tail_scales[1], 400_001)
    assert abs(np.trapezoid(d.pdf(grid), grid) - 1.0) < 1e-3


def test_bounds_and_clip_tails(rng):
    x = rng.uniform(0, 1, 1000)
    d = EmpiricalDistribution.fit(x, bounds=(0.0, 1.0))
    assert d.tails == ("bounds", "bounds")
    assert d.cdf(0.0) == 0.0 and d.cdf(1.0) == 1.0
    assert d.ppf(0.0) == 0.0 and d.ppf(1.0) == 1.0
    c = EmpiricalDistribution.fit(x, tails="clip")
    assert c.cdf(-5.0) == pytest.approx(1 / 1001) and c.sf(7.0) == pytest.approx(1 / 1001)
    assert c.ppf(1e-9) == x.min() and c.ppf(1 - 1e-9) == x.max()
    mixed = EmpiricalDistribution.fit(x, tails=("clip", "exponential"))
    assert mixed.sf(2.0) < 1 / 1001
    with pytest.raises(ValueError, match="lower bound"):
        EmpiricalDistribution.fit(x, bounds=(0.5, None))
    with pytest.raises(ValueError, match="tails='bounds'"):
        EmpiricalDistribution.fit(x, tails="bounds")
    with pytest.raises(ValueError, match="tails='gauss'"):
        EmpiricalDistribution.fit(x, tails="gauss")


def test_ties_become_atoms_spread_within_their_jump():
    x = np.array([1, 1, 1, 2, 2, 3, 4, 4, 4, 4.0])
    d = EmpiricalDistribution.fit(x)
    # right-continuous CDF: F(1) = 3/11, F(4) = 10/11
    assert np.allclose(d.cdf([1.0, 2.0, 4.0]), [3 / 11, 5 / 11, 10 / 11])
    v = np.full(10_000, 4.0)
    F, S = d.cdf_sf_ties(v, "spread", np.random.default_rng(0))
    assert F.min() >= 7 / 11 and F.max() <= 10 / 11
    assert stats.kstest((F - 7 / 11) / (3 / 11), "uniform").pvalue > 1e-3
    assert np.allclose(F + S, 1.0)
    F, _ = d.cdf_sf_ties(np.array([1.0, 4.0]), "midrank", None)
    assert np.allclose(F, [2 / 11, 8.5 / 11])


def test_ties_in_large_sample_with_grid(rng):
    x = np.round(rng.standard_normal(100_000), 1)
    d = EmpiricalDistribution.fit(x)
    vals, counts = np.unique(x, return_counts=True)
    cum = np.cumsum(counts)
    assert np.allclose(d.cdf(vals), cum / (x.size + 1))
    F, _ = d.cdf_sf_ties(vals, "midrank", None)
    assert np.allclose(F, (cum - (counts - 1) / 2) / (x.size + 1))


def test_constant_empty_and_nan(rng):
    with pytest.raises(ValueError, match="constant"):
        EmpiricalDistribution.fit(np.full(10, 3.0))
    with pytest.raises(ValueError, match="at least 1"):
        EmpiricalDistribution.fit(np.array([]))
    with pytest.raises(ValueError, match=r"\+-inf"):
        EmpiricalDistribution.fit(np.array([1.0, np.inf, 2.0]))
    x = rng.standard_normal(100)
    xn = np.concatenate([x, [np.nan, np.nan]])
    assert np.allclose(EmpiricalDistribution.fit(xn).knots_x, EmpiricalDistribution.fit(x).knots_x)
    with pytest.raises(TypeError, match="numeric"):
        EmpiricalDistribution.fit(np.array(["a", "b"]))


def test_consistency_rate_of_the_map():
    """Sup error of R_n = Phi^-1 o F_n on a fixed interval falls like n^-1/2 (gamma source, normal target)."""
    src = stats.gamma(3.0)
    grid = np.linspace(src.ppf(0.05), src.ppf(0.95), 400)
    exact = stats.norm.ppf(src.cdf(grid))
    sizes = [1_000, 10_000, 100_000]
    errs = []
    for n in sizes:
        e = []
        for seed in range(8):
            x = src.rvs(n, random_state=seed)
            d = EmpiricalDistribution.fit(x)
            e.append(np.max(np.abs(stats.norm.ppf(d.cdf(grid)) - exact)))
        errs.append(np.median(e))
    slope = np.polyfit(np.log(sizes), np.log(errs), 1)[0]
    assert -0.65 < slope < -0.38, (errs, slope)


def test_learned_target_map_against_exact_map():
    """Both distributions learned (N(0,1) samples onto a target learned from Gamma(3) samples): the sup
    error of the map against F_T^-1(F_S(x)) on a fixed interval falls like n^-1/2, and at the extreme
    sample points it stays of the order of the spread of the extreme order statistics."""
    from redistributor import Redistributor

    S, T = stats.norm(), stats.gamma(3.0)
    grid = np.linspace(-2.5, 2.5, 400)[:, None]
    exact = T.ppf(S.cdf(grid))
    sizes = [2_000, 20_000, 200_000]
    errs, extreme = [], []
    for n in sizes:
        e = []
        for seed in range(6):
            gen = np.random.default_rng(seed)
            x, y = S.rvs((n, 1), random_state=gen), T.rvs(n, random_state=gen)
            r = Redistributor(target=y).fit(x)
            e.append(np.max(np.abs(r.transform(grid) - exact)))
            if n == sizes[-1]:
                top = np.argsort(x[:, 0])[-10:]  # the 10 largest samples
                extreme.append(np.max(np.abs(r.transform(x[top]) - T.isf(S.sf(x[top])))))
        errs.append(np.median(e))
    slope = np.polyfit(np.log(sizes), np.log(errs), 1)[0]
    assert -0.65 < slope < -0.38, (errs, slope)
    # the maximum of n Gamma(3) samples fluctuates with a Gumbel spread of scale about 1 (the tail scale)
    assert np.median(extreme) < 3.0, extreme


def test_many_small_ties_stay_within_grid_budget(rng):
    n = 200_000
    x = np.round(rng.standard_normal(n), 3)  # ~6000 distinct values, most repeated a few dozen times
    grid = EmpiricalDistribution.fit(x)
    full = EmpiricalDistribution.fit(x, n_quantiles="all")
    assert grid.n_knots < full.n_knots
    assert grid.n_knots <= 2 * (2 * int(np.sqrt(n)) + 1024 + 2) + 2
    q = np.unique(x)
    p = full.cdf(q)
    assert np.all(np.abs(grid.cdf(q) - p) <= 0.5 * np.sqrt(p * (1 - p) / n) + 30.0 / n)
