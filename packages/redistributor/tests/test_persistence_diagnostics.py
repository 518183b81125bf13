"""Save/load without pickle, and the diagnostics."""

import json

import numpy as np
import pytest
from scipy import stats

from redistributor import Redistributor, load, save
from redistributor.diagnostics import ks_statistic, plot_transform, report, wasserstein_distance


@pytest.mark.parametrize("kwargs", [
    {"target": "beta", "target_params": {"a": 2, "b": 5}},
    {"source": "kde", "target": "uniform", "bandwidth": "scott"},
    {"target": "TARGET_SAMPLES", "tails": "clip"},
    {"target": "TARGET_SAMPLES"},  # default "gpd" tails on source and target
    {"target": ["norm", "expon"], "ties": "midrank", "random_state": 4},
])
def test_save_load_round_trip(rng, tmp_path, kwargs):
    X = np.column_stack([rng.gamma(2.0, size=3000), rng.standard_normal(3000)])
    if kwargs.get("target") == "TARGET_SAMPLES":
        kwargs = dict(kwargs, target=rng.uniform(2, 3, size=(500, 2)))
    r = Redistributor(**kwargs).fit(X)
    if kwargs.get("tails") is None and kwargs.get("source") is None:
        assert r.sources_[0].tails == ("gpd", "gpd")
    path = save(r, tmp_path / "model.npz")
    r2 = load(path)
    Xn = np.vstack([X[:100], [[50.0, -9.0], [-1.0, 9.0]]])
    assert np.array_equal(r.transform(Xn), r2.transform(Xn))
    assert np.array_equal(r.inverse_transform(r.transform(Xn)), r2.inverse_transform(r2.transform(Xn)))
    assert r2.get_params()["ties"] == r.ties
    # no pickle inside: loads with allow_pickle=False and holds only plain arrays
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)


def test_load_rejects_unknown_version_and_other_files(rng, tmp_path):
    r = Redistributor().fit(rng.standard_normal((100, 1)))
    path = save(r, tmp_path / "m.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    meta["format_version"] = 99
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(ValueError, match="format_version=99; .* reads versions 1, 2, 3"):
        load(tmp_path / "future.npz")
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="not a saved redistributor"):
        load(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_text("junk")
    with pytest.raises(ValueError, match=r"not a saved redistributor \(not an .npz archive\)"):
        load(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="is a directory; give a file name"):
        save(r, tmp_path)
    with pytest.raises(ValueError, match="not a file"):
        load(tmp_path / "missing.npz")


def test_ks_statistic_matches_scipy(rng):
    x = rng.standard_normal(5000) * 1.1
    assert ks_statistic(x, "norm") == pytest.approx(stats.kstest(x, "norm").statistic, abs=1e-14)
    assert ks_statistic(x, stats.t(5)) == pytest.approx(stats.kstest(x, stats.t(5).cdf).statistic, abs=1e-14)


def test_wasserstein_closed_forms(rng):
    # a single point at 0 against U(0, 1): int_0^1 u du = 1/2; at 1/2: 1/4
    assert wasserstein_distance([0.0], "uniform") == pytest.approx(0.5, abs=1e-12)
    assert wasserstein_distance([0.5], "uniform") == pytest.approx(0.25, abs=1e-12)
    # quantile-function form with exact integrals: sample {0, 1} against U(0, 1) -> 2 * (1/8) = 1/4
    assert wasserstein_distance([0.0, 1.0], "uniform") == pytest.approx(0.25, abs=1e-10)
    # a large normal sample shifted by 0.3: W1 -> 0.3
    x = stats.norm.ppf((np.arange(1, 100_001) - 0.5) / 100_000) + 0.3
    assert wasserstein_distance(x, "norm") == pytest.approx(0.3, abs=2e-3)
    # agrees with scipy's sample-to-sample distance against a fine quantile grid of the target
    y = rng.gamma(2.0, size=2000)
    grid = stats.expon.ppf((np.arange(1, 400_001) - 0.5) / 400_000)
    assert wasserstein_distance(y, "expon") == pytest.approx(stats.wasserstein_distance(y, grid), rel=2e-3)


def test_report_and_plot(rng):
    X = rng.gamma(2.0, size=(5000, 2))
    r = Redistributor().fit(X)
    rows = report(r, X)
    assert len(rows) == 2 and all(row["ks"] < 0.01 and row["wasserstein"] < 0.02 for row in rows)
    import matplotlib

    matplotlib.use("Agg")
    fig = plot_transform(r, 1, exact=lambda t: stats.norm.ppf(stats.gamma(2.0).cdf(t)))
    line = fig.axes[0].lines[0].get_ydata()
    assert np.all(np.diff(line) > 0)


def _same_sketch(a, b):
    return (a.k == b.k and a.n == b.n and a.min == b.min and a.max == b.max and a.compactions == b.compactions
            and len(a.levels) == len(b.levels) and all(np.array_equal(x, y) for x, y in zip(a.levels, b.levels)))


@pytest.mark.parametrize("source", ["empirical", "sketch"])
def test_resume_streaming_after_load_equals_uninterrupted(rng, tmp_path, source):
    batches = [np.column_stack([rng.gamma(2.0, size=700), rng.standard_normal(700)]) for _ in range(12)]
    kw = {"source": source, "target": "uniform", "sketch_size": 32, "random_state": 7}
    whole = Redistributor(**kw)
    for b in batches:
        whole.partial_fit(b)
    first = Redistributor(**kw)
    for b in batches[:5]:
        first.partial_fit(b)
    resumed = load(save(first, tmp_path / "stream.npz"))
    for b in batches[5:]:
        resumed.partial_fit(b)
    # the sketches compacted (so the coins mattered) and continued exactly: same items, counters, coins
    assert all(sum(s.compactions) > 0 for s in whole.sketches_)
    assert all(_same_sketch(a, b) for a, b in zip(whole.sketches_, resumed.sketches_, strict=True))
    X = np.vstack(batches)
    assert np.array_equal(whole.transform(X), resumed.transform(X))
    # the seeds travel too: sketches spawned after loading are those of the uninterrupted run
    spawned_a = whole.sketches_[0].spawn(2)[1].update(X[:, 0])
    spawned_b = resumed.sketches_[0].spawn(2)[1].update(X[:, 0])
    assert _same_sketch(spawned_a, spawned_b)


def test_merge_after_load_and_saving_a_stream_not_fitted_yet(rng, tmp_path):
    a = Redistributor(target=rng.uniform(0, 1, 500), random_state=1).partial_fit(rng.standard_normal((400, 1)))
    b = Redistributor(target=rng.uniform(0, 1, 500), random_state=2).partial_fit(rng.standard_normal((400, 1)))
    a2 = load(save(a, tmp_path / "a.npz"))
    assert np.array_equal(a2.merge(b).transform([[0.3]]), a.merge(b).transform([[0.3]]))
    # too little data to fit (one distinct value so far): the streaming state is still saved and resumes
    c = Redistributor(target="norm", random_state=3).partial_fit(np.ones((5, 1)))
    assert not hasattr(c, "sources_")
    c2 = load(save(c, tmp_path / "c.npz"))
    assert not hasattr(c2, "sources_") and c2.sketches_[0].n == 5
    more = rng.standard_normal((50, 1))
    assert np.array_equal(c2.partial_fit(more).transform(more), c.partial_fit(more).transform(more))


def test_reads_format_version_1_written_by_the_previous_release():
    # written by redistributor 2.0.0.dev0 at format version 1 (before sketches were saved):
    # Redistributor(target="beta", target_params={"a": 2, "b": 5}, tails=("exponential", "clip"))
    # fitted on the data below; fitting is deterministic, so a fresh fit must transform identically
    path = __import__("pathlib").Path(__file__).parent / "data" / "model_format_v1.npz"
    with np.load(path) as z:
        assert json.loads(z["__meta__"].tobytes())["format_version"] == 1
    gen = np.random.default_rng(2024)
    X = np.column_stack([gen.gamma(2.0, size=300), gen.standard_normal(300)])
    old = load(path)
    new = Redistributor(target="beta", target_params={"a": 2, "b": 5}, tails=("exponential", "clip")).fit(X)
    assert not hasattr(old, "sketches_")
    Xn = np.vstack([X, [[40.0, -9.0]]])
    assert np.array_equal(old.transform(Xn), new.transform(Xn))


def test_saved_files_get_ordinary_permissions(rng, tmp_path):
    # written through a private temporary file, but the result has the mode of a newly created file
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    path = save(Redistributor().fit(rng.standard_normal((50, 1))), tmp_path / "m.npz")
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [f.name for f in tmp_path.iterdir()] == ["m.npz"]
