"""Redistributor as a scikit-learn transformer."""

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from redistributor import EmpiricalDistribution, Redistributor


def _expected_failures(est):
    # partial_fit learns through the KLL sketch; a kernel-density source cannot be updated in place,
    # so the checks that call partial_fit do not apply to source="kde" (documented opt-out)
    if est.source == "kde":
        return {"check_fit_score_takes_y": "partial_fit is defined for sketch-based sources only",
                "check_estimators_partial_fit_n_features": "partial_fit is defined for sketch-based sources only",
                "check_n_features_in_after_fitting": "calls partial_fit, defined for sketch-based sources only"}
    return {}


@parametrize_with_checks([Redistributor(), Redistributor(target="uniform", dtype="preserve", random_state=0),
                          Redistributor(source="kde", bandwidth="scott"), Redistributor(source="sketch", sketch_size=64)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(estimator)


def test_maps_each_column_to_target_and_back(rng):
    X = np.column_stack([rng.gamma(2.0, size=20_000), rng.standard_t(3, size=20_000), rng.uniform(-5, 5, 20_000)])
    r = Redistributor(target="norm")
    Y = r.fit_transform(X)
    for j in range(3):
        assert stats.kstest(Y[:, j], "norm").statistic < 0.01
        # monotone per column
        order = np.argsort(X[:, j])
        assert np.all(np.diff(Y[order, j]) > 0)
    assert np.allclose(r.inverse_transform(Y), X, rtol=1e-10, atol=1e-10)


def test_transform_matches_exact_map(rng):
    x = rng.standard_normal((400_000, 1))
    r = Redistributor(target="beta", target_params={"a": 2, "b": 5}).fit(x)
    y = r.transform(x)
    exact = stats.beta(2, 5).ppf(stats.norm.cdf(x))
    # sampling error of F_n is about 1/sqrt(n) ~ 1.6e-3; map error is that times the target density scale
    bulk = np.abs(x) < 3
    assert np.max(np.abs(y - exact)[bulk]) < 5e-3
    assert np.max(np.abs(y - exact)) < 2e-2  # extreme order statistics vary more
    assert np.mean(np.abs(y - exact)) < 1e-3


def test_tails_beyond_sample_range_are_not_clamped(rng):
    x = rng.standard_normal((5000, 1))
    r = Redistributor().fit(x)
    far = np.array([[-30.0], [-8.0], [8.0], [30.0]])
    y = r.transform(far)
    assert np.all(np.isfinite(y)) and np.all(np.diff(y[:, 0]) > 0)
    assert y[-1, 0] > 5 and y[0, 0] < -5  # not stuck near +-3.5 as in 1.x
    assert np.allclose(r.inverse_transform(y), far)
    clipped = Redistributor(tails="clip").fit(x).transform(far)
    assert clipped[0, 0] == clipped[1, 0] == pytest.approx(stats.norm.ppf(1 / 5001))


def test_nan_passes_through_and_input_not_modified(rng):
    X = rng.standard_normal((1000, 2))
    X[::7, 0] = np.nan
    before = X.copy()
    Y = Redistributor().fit_transform(X)
    assert np.array_equal(np.isnan(Y), np.isnan(X))
    assert np.array_equal(X, before, equal_nan=True)


def test_integer_and_uint8_input_and_dtypes(rng):
    X = rng.integers(0, 256, size=(5000, 3)).astype(np.uint8)
    r = Redistributor(target="uniform", random_state=0)
    Y = r.fit_transform(X)
    assert Y.dtype == np.float64
    # ties spread at random within their jump: tied inputs follow the continuous target
    assert stats.kstest(Y[:, 0], "uniform").statistic < 0.03
    assert np.array_equal(Y, r.transform(X))  # seeded: the same spreading each call
    mid = Redistributor(target="uniform", ties="midrank").fit(X)
    Ym = mid.transform(X)
    assert all(len(np.unique(Ym[X[:, 0] == v, 0])) == 1 for v in np.unique(X[:, 0])[:5])
    X32 = rng.standard_normal((100, 2)).astype(np.float32)
    assert Redistributor(dtype="preserve").fit_transform(X32).dtype == np.float32
    assert Redistributor().fit_transform(X32).dtype == np.float64
    assert Redistributor(dtype="float32").fit_transform(X).dtype == np.float32


def test_bad_input_errors(rng):
    X = rng.standard_normal((100, 2))
    r = Redistributor().fit(X)
    with pytest.raises(ValueError, match="2 features"):
        r.transform(X[:, :1])
    with pytest.raises(ValueError, match=r"X contains \+-inf; accepted are finite values"):
        r.transform(np.array([[np.inf, 0.0]]))
    with pytest.raises(ValueError, match=r"X contains \+-inf"):
        Redistributor().fit(np.array([[1.0, 2.0], [-np.inf, 0.0]]))
    with pytest.raises(ValueError, match=r"X\[:, 1\] is constant \(every value equals 1.0\)"):
        Redistributor().fit(np.column_stack([np.arange(10.0), np.ones(10)]))
    with pytest.raises(ValueError, match=r"X\[:, 0\] is constant"):
        Redistributor().fit(np.full((10, 1), 7, dtype=np.uint8))  # counting path, same message
    with pytest.raises(ValueError, match=r"X\[:, 0\] got 1 sample\(s\) that are not NaN"):
        Redistributor().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"target\[:, 1\] is constant"):
        Redistributor(target=np.column_stack([np.arange(5.0), np.zeros(5)])).fit(X)
    with pytest.raises(ValueError, match=r"target contains \+-inf"):
        Redistributor(target=np.array([0.0, 1.0, np.inf])).fit(X)
    with pytest.raises(TypeError, match="X must be a real numeric array, got dtype <U1"):
        Redistributor().fit(np.array([["a"], ["b"]]))
    with pytest.raises(TypeError, match="random_state must be an int"):
        Redistributor(random_state="seed").fit(X)
    with pytest.raises(ValueError, match="0 sample"):
        Redistributor().fit(np.empty((0, 1)))
    with pytest.raises(ValueError, match="target='nrom'"):
        Redistributor(target="nrom").fit(X)
    with pytest.raises(ValueError, match="source='hist'"):
        Redistributor(source="hist").fit(X)
    with pytest.raises(NotFittedError):
        Redistributor().transform(X)
    with pytest.raises(ValueError, match="one per feature"):
        Redistributor(target=["norm"]).fit(X)


def test_pipeline_column_transformer_clone(rng):
    X = np.column_stack([rng.lognormal(size=3000), rng.exponential(size=3000), rng.standard_normal(3000)])
    y = np.log(X[:, 0]) + X[:, 2]
    pipe = make_pipeline(Redistributor(target="norm"), LinearRegression()).fit(X, y)
    assert pipe.score(X, y) > 0.9
    ct = ColumnTransformer([("g", Redistributor(target="uniform"), [0, 1])], remainder="passthrough")
    Z = ct.fit_transform(X)
    assert Z.shape == (3000, 3) and 0 < Z[:, :2].min() and Z[:, :2].max() < 1
    assert list(ct.named_transformers_["g"].get_feature_names_out()) == ["x0", "x1"]
    assert list(Redistributor().fit(X).get_feature_names_out(["a", "b", "c"])) == ["a", "b", "c"]
    c = clone(Redistributor(target="beta", target_params={"a": 2, "b": 5}, tails="clip"))
    assert c.get_params()["target_params"] == {"a": 2, "b": 5}


def test_target_learned_from_samples_and_per_column(rng):
    X = rng.standard_normal((20_000, 2))
    ref = np.column_stack([rng.gamma(2.0, size=30_000), rng.uniform(3, 4, 30_000)])
    Y = Redistributor(target=ref).fit_transform(X)
    assert stats.ks_2samp(Y[:, 0], ref[:, 0]).statistic < 0.02
    assert stats.ks_2samp(Y[:, 1], ref[:, 1]).statistic < 0.02
    Y1 = Redistributor(target=ref[:, 0]).fit_transform(X)
    assert stats.ks_2samp(Y1[:, 1], ref[:, 0]).statistic < 0.02
    Y2 = Redistributor(target=["expon", stats.laplace()]).fit_transform(X)
    assert stats.kstest(Y2[:, 0], "expon").statistic < 0.02
    assert stats.kstest(Y2[:, 1], "laplace").statistic < 0.02


def test_given_source_elementwise_without_fit(rng):
    src = EmpiricalDistribution.fit(rng.gamma(3.0, size=50_000))
    r = Redistributor(source=src, target=stats.norm(0, 1))
    img = rng.gamma(3.0, size=(40, 50))
    out = r.transform(img)
    assert out.shape == img.shape
    assert np.allclose(r.inverse_transform(out), img)
    direct = Redistributor(source=stats.gamma(3.0), target="norm").transform(img)
    assert np.max(np.abs(direct - stats.norm.ppf(stats.gamma(3.0).cdf(img)))) < 1e-9


def test_partial_fit_and_merge(rng):
    X = rng.standard_normal((60_000, 2))
    a = Redistributor(target="uniform", random_state=1)
    for chunk in np.array_split(X[:30_000], 5):
        a.partial_fit(chunk)
    b = Redistributor(target="uniform", random_state=2).partial_fit(X[30_000:])
    a.merge(b)
    assert a.sketches_[0].n == 60_000
    U = a.transform(X)
    exact = stats.norm.cdf(X)
    bound = a.sketches_[0].rank_error_bound(1e-4) / 60_000
    # the map differs from the exact one by the sketch error plus the sampling error (~3/sqrt(n))
    assert np.max(np.abs(U - exact)) < bound + 3 / np.sqrt(60_000)
    with pytest.raises(ValueError, match="partial_fit"):
        Redistributor(source="kde").partial_fit(X)
