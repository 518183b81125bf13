"""Empirical distribution: plotting positions, knot grid, tail models, ties, consistency."""

import numpy as np
import pytest
from scipy import stats

from redistributor import EmpiricalDistribution


def test_all_points_interpolate_order_statistics(rng):
    x = rng.standard_normal(500)
    # order-statistic tails (the default Pareto tails smooth the sqrt(n) most extreme samples)
    d = EmpiricalDistribution.fit(x, n_quantiles="all", tails="exponential")
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
    d = EmpiricalDistribution.fit(x, tails="exponential")
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


@pytest.mark.parametrize("dist,ratio", [(stats.expon(), 0.85), (stats.norm(), 0.85), (stats.uniform(), 0.95),
                                        (stats.genpareto(0.3), 1.3), (stats.t(3), 1.3)],
                         ids=["expon", "norm", "uniform", "genpareto0.3", "t3"])
def test_gpd_tail_quantiles_against_exact_quantiles(dist, ratio):
    # at the k = sqrt(n) most extreme tail probabilities j / (n + 1), compare both tail models with the
    # exact quantiles of the known distribution, over seeds: the Pareto tail is closer for light and
    # exponential tails; for heavy tails (the curve passes through the very noisy extreme sample) it is
    # about as close as the order statistics (README, "Error at the extreme points")
    n, k = 20_000, 142
    j = np.arange(1, k + 1)
    s_pos = j / (n + 1)
    err_gpd, err_os = [], []
    for seed in range(6):
        x = dist.rvs(n, random_state=np.random.default_rng(seed))
        g = EmpiricalDistribution.fit(x)
        o = EmpiricalDistribution.fit(x, tails="exponential")
        assert g.tails == ("gpd", "gpd")
        # the fitted curve passes through the extreme samples and the anchors exactly
        assert g.isf(1 / (n + 1)) == pytest.approx(x.max(), rel=1e-12)
        assert g.ppf(1 / (n + 1)) == pytest.approx(x.min(), rel=1e-12, abs=1e-12)
        truth = dist.isf(s_pos)
        err_gpd.append(np.abs(g.isf(s_pos) - truth)[1:].mean())
        err_os.append(np.abs(o.isf(s_pos) - truth)[1:].mean())
    assert np.mean(err_gpd) < ratio * np.mean(err_os)


def test_gpd_tail_shape_recovers_known_tail_index(rng):
    n = 200_000
    for dist, xi in ((stats.genpareto(0.25), 0.25), (stats.expon(), 0.0), (stats.uniform(), -1.0)):
        d = EmpiricalDistribution.fit(dist.rvs(n, random_state=rng))
        assert d.tail_shapes[1] == pytest.approx(xi, abs=0.15)


def test_gpd_tail_is_a_continuous_distribution(rng):
    x = rng.standard_t(4, 5000)
    d = EmpiricalDistribution.fit(x)
    assert d.tails == ("gpd", "gpd")
    xs = np.sort(x)
    lo, hi = xs[0] - 30.0, xs[-1] + 30.0
    grid = np.linspace(lo, hi, 2_000_001)
    assert np.all(np.diff(d.cdf(grid)) >= 0)
    # continuous at the anchors, where the Pareto curves meet the piecewise-linear part
    for a in (d.knots_x[0], d.knots_x[-1]):
        assert d.cdf(np.nextafter(a, -np.inf)) == pytest.approx(d.cdf(a), abs=1e-12)
        assert d.cdf(np.nextafter(a, np.inf)) == pytest.approx(d.cdf(a), abs=1e-12)
    low, high = grid[grid < 0][::997], grid[grid > 0][::997]
    assert np.allclose(d.ppf(d.cdf(low)), low, rtol=1e-9, atol=1e-9)
    assert np.allclose(d.isf(d.sf(high)), high, rtol=1e-9, atol=1e-9)
    assert abs(np.trapezoid(d.pdf(grid), grid) + d.cdf(lo) + d.sf(hi) - 1.0) < 1e-3
    # beyond the sample range the tail continues (exponentially, with the Pareto hazard at the extreme)
    far = xs[-1] + np.array([1.0, 2.0, 3.0])
    assert np.allclose(np.diff(np.log(d.sf(far))), np.diff(np.log(d.sf(far)))[0])


def test_gpd_tail_falls_back_on_ties_and_small_samples(rng):
    assert EmpiricalDistribution.fit(rng.standard_normal(50)).tails == ("exponential", "exponential")
    x = np.round(rng.standard_normal(10_000), 1)  # ties in both tails
    assert EmpiricalDistribution.fit(x).tails == ("exponential", "exponential")
    y = np.concatenate([rng.standard_normal(10_000), np.full(200, 10.0)])  # an atom at the top only
    assert EmpiricalDistribution.fit(y).tails == ("gpd", "exponential")
