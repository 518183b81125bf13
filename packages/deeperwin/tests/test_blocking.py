"""Blocking analysis against closed forms: AR(1) variance of the mean, iid std/sqrt(n)."""

import numpy as np
import pytest
from scipy.signal import lfilter

from deeperwin.blocking import blocking_analysis


def ar1(phi, n, n_series, rng, sigma=1.0):
    """Stationary AR(1) series x_t = phi x_{t-1} + eps_t, eps ~ N(0, sigma^2); shape (n_series, n)."""
    eps = rng.normal(scale=sigma, size=(n_series, n))
    x0 = rng.normal(scale=sigma / np.sqrt(1 - phi**2), size=n_series)  # stationary start
    x, _ = lfilter([1.0], [1.0, -phi], eps, axis=1, zi=(phi * x0)[:, None])
    return x


def ar1_var_of_mean(phi, n, sigma=1.0):
    """Exact Var(mean of n consecutive values) of the stationary AR(1) process."""
    gamma0 = sigma**2 / (1 - phi**2)
    s = phi / (1 - phi) - phi * (1 - phi**n) / (n * (1 - phi) ** 2)  # sum_{k<n} (1 - k/n) phi^k
    return gamma0 / n * (1 + 2 * s)


def test_closed_form_matches_brute_force_sum():
    phi, n = 0.7, 50
    k = np.arange(1, n)
    brute = (1 + 2 * np.sum((1 - k / n) * phi**k)) / (1 - phi**2) / n
    assert ar1_var_of_mean(phi, n) == pytest.approx(brute, rel=1e-12)


def test_ar1_error_matches_exact_variance_of_the_mean():
    rng = np.random.default_rng(1)
    phi, n = 0.9, 2**17
    x = ar1(phi, n, 1, rng)[0]
    res = blocking_analysis(x)
    exact = np.sqrt(ar1_var_of_mean(phi, n))
    assert res.reliable
    assert res.error == pytest.approx(exact, rel=0.1)
    assert res.autocorrelation_time == pytest.approx((1 + phi) / (1 - phi), rel=0.2)  # tau = 19
    naive = np.std(x, ddof=1) / np.sqrt(n)
    assert res.error > 3 * naive  # the naive estimate is far too small
    assert res.block_size >= 32


def test_ar1_errors_over_many_series():
    rng = np.random.default_rng(2)
    phi, n = 0.8, 4096
    xs = ar1(phi, n, 200, rng)
    exact_var = ar1_var_of_mean(phi, n)
    # the scatter of the 200 means matches the closed form (+-10 % at one sigma)
    assert np.var(xs.mean(axis=1), ddof=1) == pytest.approx(exact_var, rel=0.3)
    lee = np.array([blocking_analysis(x).error ** 2 for x in xs])
    assert np.mean(lee) == pytest.approx(exact_var, rel=0.1)  # measured 0.94
    # Jonsson's rule stops at shorter blocks: smaller, biased low (measured 0.78), but far
    # better than the naive estimate (0.11)
    jonsson = np.array([blocking_analysis(x, method="jonsson").error ** 2 for x in xs])
    naive = np.var(xs, axis=1, ddof=1) / n
    assert 0.6 * exact_var < np.mean(jonsson) < np.mean(lee)
    assert np.mean(naive) < 0.2 * exact_var


def test_iid_data_gives_std_over_sqrt_n():
    rng = np.random.default_rng(3)
    x = rng.normal(loc=-1.17, scale=0.3, size=10_000)
    naive = np.std(x, ddof=1) / np.sqrt(x.size)
    lee = blocking_analysis(x)
    assert lee.error == pytest.approx(naive, rel=0.1)  # blocks of (2n)^(1/3) = 27 or more
    assert lee.autocorrelation_time == pytest.approx(1.0, rel=0.2)
    res = blocking_analysis(x, method="jonsson")
    assert res.block_size == 1 and res.n_blocks == 10_000
    assert res.error == pytest.approx(np.std(x, ddof=1) / np.sqrt(x.size), rel=1e-12)
    assert res.mean == pytest.approx(np.mean(x), rel=1e-15)
    assert res.autocorrelation_time == pytest.approx(1.0, rel=1e-12)
    assert len(res.errors) == len(res.block_sizes) == len(res.error_errors)
    assert "+-" in str(res)


def test_constant_and_bad_input():
    res = blocking_analysis(np.full(64, -0.5))
    assert res.error == 0.0 and res.mean == -0.5
    with pytest.raises(ValueError, match="x"):
        blocking_analysis(np.zeros((10, 10)))
    with pytest.raises(ValueError, match="at least"):
        blocking_analysis(np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        blocking_analysis(np.r_[np.zeros(20), np.nan])
    with pytest.raises(ValueError, match="method"):
        blocking_analysis(np.arange(32.0), method="wolff")
    with pytest.raises(ValueError, match="quantile"):
        blocking_analysis(np.arange(32.0), quantile=1.5)
