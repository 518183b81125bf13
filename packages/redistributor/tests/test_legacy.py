"""1.x calls keep working through deprecation wrappers."""

import numpy as np
import pytest
from scipy import stats
from scipy.stats import dgamma, norm

import redistributor
from redistributor import KDEDistribution, Redistributor


def test_1x_quickstart_still_runs():
    # the 1.x README quick-start, verbatim apart from the seed
    from redistributor import LearnedDistribution as L
    from redistributor import Redistributor as R

    S = dgamma(7).rvs(size=1000, random_state=0)
    target = norm(0, 1)
    with pytest.warns(DeprecationWarning, match="EmpiricalDistribution"):
        r = R(source=L(S), target=target)
    r.fit()
    output = r.transform(S)
    assert output.shape == S.shape
    assert stats.kstest(output, "norm").statistic < 0.01
    assert np.allclose(r.inverse_transform(output), S)
    # 1.x support semantics: clipped to the sample range when no bounds are given
    assert np.all(np.isfinite(r.transform(np.array([S.min() - 100, S.max() + 100]))))


def test_learned_distribution_bounds_and_bins(rng):
    x = rng.uniform(0, 1, 2000)
    with pytest.warns(DeprecationWarning):
        d = redistributor.LearnedDistribution(x, a=0, b=1, bins=100)
    assert d.cdf(0.0) == 0.0 and d.cdf(1.0) == 1.0
    assert d.n_knots <= 102
    assert isinstance(d, redistributor.EmpiricalDistribution)
    assert (d.xmin, d.xmax) == (x.min(), x.max())


def test_kernel_density_wrapper(rng):
    x = rng.standard_normal(3000)
    with pytest.warns(DeprecationWarning, match="KDEDistribution"):
        k = redistributor.KernelDensity(x, bandwidth=0.4)
    new = KDEDistribution.fit(x, bandwidth=0.4, grid_size=5000)
    q = np.linspace(-3, 3, 13)
    assert np.allclose(k.cdf(q), new.cdf(q))
    r = Redistributor(source=k, target="uniform")
    u = r.transform(x)
    assert stats.kstest(u, "uniform").statistic < 0.03
    with pytest.raises(ValueError, match="kernel='tophat'"), pytest.warns(DeprecationWarning):
        redistributor.KernelDensity(x, kernel="tophat")


def test_save_load_and_kstest_wrappers(rng, tmp_path):
    r = Redistributor().fit(rng.standard_normal((500, 1)))
    with pytest.warns(DeprecationWarning):
        redistributor.save_redistributor(r, tmp_path / "m.npz")
    with pytest.warns(DeprecationWarning):
        r2 = redistributor.load_redistributor(tmp_path / "m.npz")
    x = rng.standard_normal((50, 1))
    assert np.array_equal(r.transform(x), r2.transform(x))
    fixed = Redistributor(source=stats.gamma(2), target="norm", random_state=0)
    with pytest.warns(DeprecationWarning):
        res = fixed.kstest(n=2000)
    assert res.pvalue > 1e-3  # exact map of a known source: transformed samples are N(0, 1)
