"""Counting path for integer data with few distinct values (8/16-bit images): exact against the general path."""

import numpy as np
import pytest
from scipy import stats

import redistributor.images as images_module
import redistributor.transformer as transformer_module
from redistributor import EmpiricalDistribution, Redistributor
from redistributor.images import match_image


@pytest.fixture
def general_path(monkeypatch):
    """Switch the counting path off: integer input then goes through the sort-based general path."""

    def use():
        monkeypatch.setattr(transformer_module, "_MAX_LEVELS", 0)
        monkeypatch.setattr(images_module, "_SPREAD_TABLE", False)

    return use


@pytest.mark.parametrize("n", [7, 3000, 4097, 60_000])
@pytest.mark.parametrize("n_quantiles,tails", [("auto", None), ("all", "clip"), (50, ("exponential", "clip"))])
def test_from_counts_equals_fit_on_repeated_values(rng, n, n_quantiles, tails):
    for x in (rng.integers(0, 256, n), np.round(rng.standard_normal(n) * 40), rng.geometric(0.02, n) * 0.5,
              np.concatenate([rng.standard_normal(n - n // 2), np.full(n // 2, 0.25)])):
        if np.ptp(x) == 0:
            continue
        a = EmpiricalDistribution.fit(x, n_quantiles=n_quantiles, tails=tails)
        values, counts = np.unique(x, return_counts=True)
        perm = rng.permutation(values.size)  # any order of the values is accepted
        b = EmpiricalDistribution.from_counts(values[perm], counts[perm], n_quantiles=n_quantiles, tails=tails)
        assert np.array_equal(a.knots_x, b.knots_x)
        assert np.array_equal(a.knots_rank, b.knots_rank)
        assert a.tail_scales == b.tail_scales and a.tails == b.tails and a.n == b.n


def test_from_counts_bad_input():
    with pytest.raises(ValueError, match="counts must be non-negative integers"):
        EmpiricalDistribution.from_counts([1.0, 2.0], [1, -1])
    with pytest.raises(ValueError, match="counts must be 1-D with one entry per value"):
        EmpiricalDistribution.from_counts([1.0, 2.0], [1, 2, 3])
    with pytest.raises(ValueError, match="values must be distinct"):
        EmpiricalDistribution.from_counts([1.0, 1.0], [1, 2])
    with pytest.raises(ValueError, match="values is constant"):
        EmpiricalDistribution.from_counts([1.0, 2.0], [5, 0])
    with pytest.raises(ValueError, match="values is empty"):
        EmpiricalDistribution.from_counts([], [])
    with pytest.raises(ValueError, match=r"\+-inf"):
        EmpiricalDistribution.from_counts([1.0, np.inf], [1, 1])


# scipy's beta.ppf warns (boost root finding) at the probability ~1e-300 of the far point -32768
@pytest.mark.filterwarnings("ignore:Error in function boost")
@pytest.mark.parametrize("ties", ["spread", "midrank"])
@pytest.mark.parametrize("target", ["norm", "int-samples", "beta"])
def test_integer_input_equals_general_path_bit_for_bit(rng, general_path, ties, target):
    n = 150_000  # more than two chunks of the general path
    X = np.column_stack([(rng.random(n) ** 2 * 255).astype(np.uint8), rng.integers(-300, 40, n).astype(np.int16),
                         rng.binomial(1, 0.3, n).astype(bool), rng.poisson(3.0, n).astype(np.int64)])
    kw = {"target": rng.integers(0, 1000, (5000, 4)) if target == "int-samples" else target,
          "target_params": {"a": 2, "b": 5} if target == "beta" else None, "ties": ties, "random_state": 3}
    fast = Redistributor(**kw).fit(X)
    y_fast = fast.transform(X)
    x_new = np.vstack([X[:1000], [[255, 32767, 1, 1000]], [[0, -32768, 0, -5]]]).astype(X.dtype)  # beyond the data
    back_fast = fast.inverse_transform(y_fast[:2000])
    new_fast = fast.transform(x_new)
    general_path()
    ref = Redistributor(**kw).fit(X)
    assert np.array_equal(ref.transform(X), y_fast)
    assert np.array_equal(Redistributor(**kw).fit(X.astype(np.float64)).transform(X.astype(np.float64)), y_fast)
    assert np.array_equal(ref.transform(x_new), new_fast)
    assert np.array_equal(ref.inverse_transform(y_fast[:2000]), back_fast)
    for s_fast, s_ref in zip(fast.sources_, ref.sources_, strict=True):
        assert np.array_equal(s_fast.knots_x, s_ref.knots_x) and np.array_equal(s_fast.knots_rank, s_ref.knots_rank)


def test_spread_is_uniform_within_each_jump(rng):
    # independent check of the distribution of spread ties: n <= 4096 keeps every order statistic, so the
    # value v seen c_v times owns the ranks r0 = C_(v-1) + 1 .. r1 = C_v and its jump of the CDF is
    # [r0 / (n + 1), r1 / (n + 1)]; with a U(0, 1) target the output is the spread position itself
    n = 4000
    x = rng.integers(0, 12, (n, 1)).astype(np.uint8)
    y = Redistributor(target="uniform", ties="spread", random_state=0).fit_transform(x)[:, 0]
    counts = np.bincount(x[:, 0], minlength=12)
    cum = np.cumsum(counts)
    lo, hi = (cum - counts + 1) / (n + 1), cum / (n + 1)
    v = x[:, 0]
    pos = (y - lo[v]) / (hi[v] - lo[v])
    assert np.all((pos >= 0) & (pos <= 1))
    assert stats.kstest(pos, "uniform").pvalue > 1e-3
    for level in (0, 5, 11):
        assert stats.kstest(pos[v == level], "uniform").pvalue > 1e-4
    # midrank: the middle of the jump
    mid = Redistributor(target="uniform", ties="midrank").fit_transform(x)[:, 0]
    assert np.allclose(mid, 0.5 * (lo[v] + hi[v]), rtol=0, atol=1e-15)


# 8-bit images with ties="spread" take the table path: same distribution, another random stream
# (test_8bit_spread_table_has_the_distribution_of_the_general_path)
@pytest.mark.parametrize("ties,dtype", [("spread", np.uint16), ("midrank", np.uint8), ("midrank", np.uint16)])
def test_match_image_counting_path_equals_general_path(rng, general_path, ties, dtype):
    top = np.iinfo(dtype).max
    img = (rng.random((90, 80, 3)) ** 2 * top).astype(dtype)
    ref = (rng.beta(5, 2, (70, 60, 3)) * 255).astype(np.uint8)
    fast = match_image(img, ref, ties=ties, random_state=1)
    fast_dist = match_image(img, stats.uniform(0, top), ties=ties, random_state=1)
    general_path()
    assert np.array_equal(match_image(img, ref, ties=ties, random_state=1), fast)
    assert np.array_equal(match_image(img, stats.uniform(0, top), ties=ties, random_state=1), fast_dist)


def test_integer_levels_counts_8bit_by_byte_pairs(rng):
    for dtype in (np.uint8, np.int8, bool):
        for n in (1, 2, 7, 100_001):
            x = rng.integers(0, 2, n).astype(bool) if dtype is bool else \
                rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max + 1, n).astype(dtype)
            for view in (x, x[::3]):  # contiguous and strided (an image channel)
                lo, counts = transformer_module.integer_levels(view)
                assert np.array_equal(counts, np.bincount(view.astype(np.int64) - lo, minlength=counts.size))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_8bit_spread_table_has_the_distribution_of_the_general_path(rng, general_path, dtype):
    # joint counts of (input level, output level) from the table path and from the general per-pixel
    # path (each pixel evaluated at its own uniform position in the jump) are two samples of the same
    # distribution: chi-square test of homogeneity, per channel
    info = np.iinfo(dtype)
    img = (rng.beta(2, 3, (300, 200, 3)) * 40 + max(info.min, 0) + 10).astype(dtype)  # 40 levels: wide jumps
    ref = (rng.beta(5, 2, (250, 240, 3)) * 120).astype(np.uint8)
    table = match_image(img, ref, random_state=3)
    assert np.array_equal(table, match_image(img, ref, random_state=3))  # seeded
    assert not np.array_equal(table, match_image(img, ref, random_state=4))
    general_path()
    general = match_image(img, ref, random_state=5)
    for c in range(3):
        key_t = img[..., c].astype(np.int64).ravel() * 256 + table[..., c].astype(np.int64).ravel() - info.min * 256
        key_g = img[..., c].astype(np.int64).ravel() * 256 + general[..., c].astype(np.int64).ravel() - info.min * 256
        keys = np.union1d(key_t, key_g)
        ct = np.stack([np.searchsorted(keys, np.sort(key_t)), np.searchsorted(keys, np.sort(key_g))])
        counts = np.stack([np.bincount(ct[0], minlength=keys.size), np.bincount(ct[1], minlength=keys.size)])
        assert np.array_equal(counts.sum(0) > 0, np.ones(keys.size, dtype=bool))
        big = counts.sum(0) >= 20  # cells with enough counts for the chi-square approximation
        assert counts[:, big].sum() > 0.99 * img[..., c].size
        res = stats.chi2_contingency(counts[:, big])
        assert res.pvalue > 1e-3
