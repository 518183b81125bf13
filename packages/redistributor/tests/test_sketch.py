"""KLL sketch: rank error within its stated bound on adversarial orderings; memory; merging."""

import numpy as np
import pytest

from redistributor import KLLSketch


def _orderings(n, rng):
    base = rng.standard_normal(n)
    s = np.sort(base)
    return {
        "sorted": s,
        "reversed": s[::-1].copy(),
        "zigzag": s.reshape(2, -1).T.ravel(),  # small, large, small, large ...
        "organ_pipe": np.concatenate([s[::2], s[1::2][::-1]]),
        "blocks_of_duplicates": np.repeat(np.round(s[::50], 1), 50),  # long runs of equal values
        "random": base,
    }


@pytest.mark.parametrize("order", ["sorted", "reversed", "zigzag", "organ_pipe", "blocks_of_duplicates", "random"])
@pytest.mark.parametrize("batch", [1_000, 100_000])
def test_rank_error_within_bound_on_adversarial_orders(order, batch):
    n = 100_000
    x = _orderings(n, np.random.default_rng(7))[order]
    sk = KLLSketch(k=128, random_state=3)
    for start in range(0, n, batch):
        sk.update(x[start : start + batch])
    assert sk.n == n and sk.min == x.min() and sk.max == x.max()
    xs = np.sort(x)
    queries = np.unique(np.quantile(xs, np.linspace(0, 1, 401)))
    exact = np.searchsorted(xs, queries, side="right")
    err = np.abs(sk.rank(queries) - exact)
    # Azuma-Hoeffding bound, union over all queries, failure probability 1e-3 in total
    bound = sk.rank_error_bound(1e-3 / queries.size)
    assert err.max() <= bound
    assert bound < 0.05 * n  # informative, not vacuous
    assert sk.size <= 3 * 128 + 2 * 20  # bounded memory, independent of n


def test_memory_does_not_grow_with_stream_length():
    sk = KLLSketch(k=64, random_state=0)
    sizes = []
    rng = np.random.default_rng(0)
    for _ in range(40):
        sk.update(rng.random(25_000))
        sizes.append(sk.size)
    assert max(sizes) <= 3 * 64 + 40
    assert sk.n == 1_000_000


def test_merge_matches_guarantee_and_spawn_seeds(rng):
    x = np.sort(rng.standard_normal(120_000))  # each worker sees a sorted slab: adversarial
    parent = KLLSketch(k=128, random_state=5)
    parts = parent.spawn(4)
    for part, chunk in zip(parts, np.array_split(x, 4), strict=True):
        part.update(chunk)
    merged = parts[0]
    for p in parts[1:]:
        merged.merge(p)
    assert merged.n == x.size
    q = np.quantile(x, np.linspace(0.01, 0.99, 99))
    err = np.abs(merged.rank(q) - np.searchsorted(x, q, side="right"))
    assert err.max() <= merged.rank_error_bound(1e-3 / q.size)
    # quantile() inverts rank() within the same error
    est = merged.quantile(np.array([0.1, 0.5, 0.9]))
    true_rank = np.searchsorted(x, est, side="right")
    assert np.all(np.abs(true_rank - np.array([0.1, 0.5, 0.9]) * x.size) <= merged.rank_error_bound(1e-3) + 2**len(merged.levels))


def test_distribution_from_sketch(rng):
    x = rng.gamma(2.0, size=50_000)
    sk = KLLSketch(k=256, random_state=0).update(x)
    d = sk.to_distribution()
    vals, w = sk.items()
    exact = np.searchsorted(np.sort(x), vals, side="right")
    assert np.max(np.abs(d.cdf(vals) * (x.size + 1) - exact) - w / 2) <= sk.rank_error_bound(1e-3 / vals.size)


def test_sketch_bad_input():
    with pytest.raises(ValueError, match="k=4"):
        KLLSketch(k=4)
    sk = KLLSketch()
    with pytest.raises(ValueError, match="empty"):
        sk.quantile(0.5)
    with pytest.raises(ValueError, match=r"\+-inf"):
        sk.update([1.0, np.inf])
    sk.update([1.0, np.nan, 2.0])
    assert sk.n == 2
    with pytest.raises(TypeError, match="KLLSketch"):
        sk.merge("x")
    with pytest.raises(ValueError, match="delta"):
        sk.rank_error_bound(2.0)
