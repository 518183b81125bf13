"""Dask path: sketches per chunk merged, lazy transform, local distributed cluster."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from redistributor import EmpiricalDistribution, Redistributor  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_fit_agrees_with_numpy_within_sketch_guarantee(client, rng):
    n = 120_000
    X = np.column_stack([rng.standard_normal(n), rng.gamma(2.0, size=n)])
    dX = da.from_array(X, chunks=(30_000, 1))
    r = Redistributor(target="uniform", random_state=3).fit(dX)
    ref = Redistributor(target="uniform", n_quantiles="all").fit(X)
    U = r.transform(dX)
    assert isinstance(U, da.Array)
    U = U.compute()
    U_np = ref.transform(X)
    for j in range(2):
        sk = r.sketches_[j]
        assert sk.n == n
        vals, wts = sk.items()
        order = np.argsort(vals)
        vals, wts = vals[order], wts[order]
        # 1. at the sketch items: estimated rank within the Azuma-Hoeffding bound (all items at once)
        bound = sk.rank_error_bound(1e-3 / vals.size)
        exact_rank = np.searchsorted(np.sort(X[:, j]), vals, side="right")
        est_rank = r.sources_[j].cdf(vals) * (n + 1)
        assert np.max(np.abs(est_rank - exact_rank) - wts / 2) <= bound
        # 2. everywhere: monotone sandwich between items -> bound + item weight + largest exact rank gap
        gap = np.max(np.diff(exact_rank))
        assert np.max(np.abs(U[:, j] - U_np[:, j])) <= (bound + wts.max() + gap) / n
        assert bound / n < 0.01  # the guarantee is informative


def test_dask_transform_equals_numpy_transform(client, rng):
    X = rng.standard_normal((30_000, 3))
    X[::11, 1] = np.nan
    r = Redistributor(target="beta", target_params={"a": 2, "b": 5}).fit(X)
    dX = da.from_array(X, chunks=(7000, 2))
    assert np.allclose(r.transform(dX).compute(), r.transform(X), equal_nan=True, rtol=0, atol=1e-15)
    assert np.allclose(r.inverse_transform(r.transform(dX)).compute(), X, equal_nan=True)


def test_dask_threaded_scheduler_and_ties_reproducible(rng):
    X = rng.integers(0, 20, size=(20_000, 2)).astype(float)
    dX = da.from_array(X, chunks=(5000, 2))
    r = Redistributor(target="norm", random_state=0).fit(dX)
    a = r.transform(dX).compute(scheduler="threads")
    b = r.transform(dX).compute(scheduler="threads")
    assert np.array_equal(a, b)
    # ties spread: the output is close to normal although the input has 20 values
    from scipy import stats

    assert stats.kstest(a[:, 0], "norm").statistic < 0.02


def test_dask_elementwise_given_source(rng):
    src = EmpiricalDistribution.fit(rng.standard_normal(10_000))
    r = Redistributor(source=src, target="uniform")
    img = da.from_array(rng.standard_normal((64, 64, 3)), chunks=(32, 32, 3))
    out = r.transform(img).compute(scheduler="threads")
    assert out.shape == (64, 64, 3)
    assert np.allclose(out, r.transform(img.compute()))


def test_dask_bad_input(rng):
    X = da.from_array(np.array([[1.0, np.inf], [2.0, 3.0]]), chunks=(1, 2))
    with pytest.raises(ValueError, match=r"\+-inf"):
        Redistributor().fit(X)
    with pytest.raises(ValueError, match="2-D"):
        Redistributor().fit(da.ones(10))
