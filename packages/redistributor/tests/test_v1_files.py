"""Reading redistributor 1.x joblib files safely (``load_v1``).

The files are written in a subprocess that does not import redistributor 2.x: it defines stand-ins
under the 1.x module name ``redistributor`` with the 1.x class names and attribute layout (the 1.x
``LearnedDistribution`` is a scipy ``rv_continuous`` whose CDF is an ``interp1d_with_warning``
through ``lattice_vals`` and ``lattice``; ``Redistributor`` holds ``source`` and ``target``) and
saves them with ``joblib.dump`` as 1.x ``save_redistributor`` did.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import stats

from redistributor import Redistributor, load, load_v1

WRITER = textwrap.dedent('''
    import sys, types
    import joblib
    import numpy as np
    from scipy import stats
    from scipy.interpolate import interp1d
    from scipy.stats import rv_continuous

    mod = types.ModuleType("redistributor")
    sys.modules["redistributor"] = mod

    class interp1d_with_warning(interp1d):
        def __init__(self, *args, **kwargs):
            self.warn = False
            self.name = kwargs.pop("name", "Interp1D")
            if kwargs.get("bounds_error") == "warn":
                self.warn = True
                kwargs["bounds_error"] = True
            super().__init__(*args, **kwargs)

    class LearnedDistribution(rv_continuous):
        def __init__(self, x, a=None, b=None, bins=None, name="LearnedDistribution", seed=None):
            super().__init__(name=name, seed=seed)
            self.xmin, self.xmax, self.a, self.b = x.min(), x.max(), a, b
            self.bins = min(x.size, 5000) if bins is None else bins
            idx = np.linspace(0, x.size - 1, self.bins).round().astype(int)
            L, R = a is not None, b is not None
            vals = np.hstack([[a] * L, np.sort(x)[idx], [b] * R])
            delta = 1 / (self.bins + 1)
            lattice = np.linspace(delta * (not L), 1 - delta * (not R), vals.size)
            fill = (lattice[0] if a is None else None, lattice[-1] if b is None else None)
            self._cdf = interp1d_with_warning(vals, lattice, kind="linear", assume_sorted=True,
                                              bounds_error="warn", fill_value=fill, name=name + " cdf")
            self._ppf = interp1d_with_warning(lattice, vals, kind="linear", assume_sorted=True,
                                              bounds_error=False, fill_value=(vals[0], vals[-1]), name=name + " ppf")

    class KernelDensity:
        def __init__(self, x, grid_density=5000, bandwidth=1.0):
            from sklearn.neighbors import KernelDensity as ScikitKDE
            self.name = "KDE"
            self.kde = ScikitKDE(bandwidth=bandwidth).fit(x.reshape(-1, 1))
            self.cdf_method = "fast"
            # wide grid, as 1.x: its CDF starts at 0 or denormal probabilities
            cdfx = np.linspace(x.min() - 40 * bandwidth, x.max() + 40 * bandwidth, grid_density)
            cdfy = stats.norm.cdf((cdfx[:, None] - x[None, :]) / bandwidth).mean(axis=1)
            self.a, self.b, self.ppfa, self.ppfb = cdfx[0], cdfx[-1], cdfy[0], cdfy[-1]
            self.grid_density = cdfx.size
            self._cdf_fast = interp1d(cdfx, cdfy, bounds_error=False, fill_value=np.nan)
            self._ppf = interp1d(cdfy, cdfx, bounds_error=False, fill_value=(-np.inf, np.inf))

    class Redistributor:
        def __init__(self, source, target):
            self.source, self.target = source, target

    for cls in (interp1d_with_warning, LearnedDistribution, KernelDensity, Redistributor):
        cls.__module__ = "redistributor"
        setattr(mod, cls.__name__, cls)

    out = sys.argv[1]
    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, size=3000)
    joblib.dump(Redistributor(LearnedDistribution(x), stats.norm), out + "/learned_norm.joblib")
    joblib.dump(Redistributor(LearnedDistribution(x, a=0.0, bins=500), stats.beta(2, 5)),
                out + "/bounded_beta.joblib", compress=3)
    joblib.dump(Redistributor(KernelDensity(x[:400], grid_density=8000, bandwidth=0.3), stats.uniform()),
                out + "/kde_uniform.joblib", compress=("gzip", 3))
    joblib.dump(x, out + "/x.joblib")

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("echo pwned > " + out + "/pwned",))

    joblib.dump(Redistributor(Evil(), stats.norm), out + "/evil.joblib")
''')


@pytest.fixture(scope="module")
def v1_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("v1")
    subprocess.run([sys.executable, "-c", WRITER, str(out)], check=True, cwd=str(out))
    return out, np.random.default_rng(0).gamma(2.0, size=3000)


def _v1_learned_cdf(x, q, a=None, bins=None):
    """The 1.x LearnedDistribution CDF, from its definition (lattice through sorted samples, clamped)."""
    bins = min(x.size, 5000) if bins is None else bins
    idx = np.linspace(0, x.size - 1, bins).round().astype(int)
    vals = np.sort(x)[idx]
    delta = 1 / (bins + 1)
    if a is not None:
        vals = np.concatenate([[a], vals])
    lattice = np.linspace(0 if a is not None else delta, 1 - delta, vals.size)
    return np.interp(q, vals, lattice)


def test_load_v1_learned_source_to_norm(v1_files):
    out, x = v1_files
    r = load_v1(out / "learned_norm.joblib")
    assert isinstance(r, Redistributor)
    q = np.linspace(x.min(), x.max(), 1001)
    expected = stats.norm.ppf(_v1_learned_cdf(x, q))
    assert np.allclose(r.transform(q), expected, rtol=1e-10, atol=1e-10)
    # beyond the sample range: the 1.x clamp at 1 / (K + 1), as 1.x did
    assert r.transform(np.array([x.max() + 5.0]))[0] == pytest.approx(stats.norm.ppf(3000 / 3001), rel=1e-10)
    assert np.allclose(r.inverse_transform(r.transform(q)), q, atol=1e-8)


def test_load_v1_compressed_files_bounds_frozen_target_and_kde(v1_files):
    out, x = v1_files
    r = load_v1(out / "bounded_beta.joblib")
    q = np.linspace(0.0, x.max(), 777)
    assert np.allclose(r.transform(q), stats.beta(2, 5).ppf(_v1_learned_cdf(x, q, a=0.0, bins=500)),
                       rtol=1e-9, atol=1e-10)
    k = load_v1(out / "kde_uniform.joblib")
    xs = x[:400]
    q = np.linspace(np.quantile(xs, 0.01), np.quantile(xs, 0.99), 301)
    kde_cdf = stats.norm.cdf((q[:, None] - xs[None, :]) / 0.3).mean(axis=1)  # exact 1.x KDE CDF
    assert np.allclose(k.transform(q), kde_cdf, atol=1e-5)  # uniform target: the CDF itself (grid error)


def test_load_v1_refuses_other_names_without_running_them(v1_files):
    out, _ = v1_files
    with pytest.raises(ValueError, match=r"names (posix|nt|os)\.system"):
        load_v1(out / "evil.joblib")
    assert not (out / "pwned").exists()
    with pytest.raises(ValueError, match="ndarray, which load_v1 cannot convert|cannot convert"):
        load_v1(out / "x.joblib")
    (out / "text.joblib").write_text("not a pickle")
    with pytest.raises(ValueError, match="not a redistributor 1.x file"):
        load_v1(out / "text.joblib")
    with pytest.raises(ValueError, match="is not a file"):
        load_v1(out / "missing.joblib")
    # the 2.x loader points 1.x files to load_v1
    with pytest.raises(ValueError, match="load_v1"):
        load(out / "learned_norm.joblib")


def test_readme_v1_example_runs(v1_files, tmp_path, monkeypatch, capsys):
    import re
    import shutil
    from pathlib import Path

    readme = Path(__file__).resolve().parents[1] / "README.md"
    if not readme.is_file():
        pytest.skip("README.md is not next to the tests (installed elsewhere)")
    block = re.search(r"```python\n(.*?)```", readme.read_text(encoding="utf-8").split("### Reading 1.x files", 1)[1],
                      re.S).group(1)
    out, x = v1_files
    shutil.copy(out / "learned_norm.joblib", tmp_path / "model-1x.joblib")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README-v1", "exec"), {})
    printed = np.array([float(v) for v in capsys.readouterr().out.strip(" []\n").split()])
    q = np.array([0.5, 1.0, 2.0])
    assert np.allclose(printed, stats.norm.ppf(_v1_learned_cdf(x, q)), rtol=1e-6)
