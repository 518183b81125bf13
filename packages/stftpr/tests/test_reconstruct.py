"""Each algorithm recovers a known signal; the reconstruct() options; bad input."""

import numpy as np
import pytest
from _signals import fm_tone

from stftpr import STFT, IterationState, reconstruct, snr, spectral_convergence

L = 4000


@pytest.fixture(scope="module")
def problem():
    tf = STFT(256, 32, "gauss")  # redundancy 8
    x = fm_tone(L)
    return tf, x, np.abs(tf.forward(x))


# (method, n_iter, spectral convergence bound dB, SNR bound dB). The signal is connected, so
# it is determined up to a global phase of its analytic signal (its spectrum stays away from 0
# and Nyquist), and a good magnitude fit must give a good SNR after that alignment.
CASES = [
    ("gla", 200, -30, 10),
    ("fgla", 100, -32, 10),
    ("agla", 100, -32, 10),
    ("admm", 100, -32, 10),
    ("lbfgs", 100, -60, 40),
    ("pghi", 0, -50, 30),
    ("rtpghi", 0, -50, 30),
    ("pghi+fgla", 50, -60, 38),
    ("pghi+gla", 50, -55, 35),
    ("pghi+agla", 50, -60, 38),
    ("pghi+admm", 50, -55, 35),
    ("pghi+lbfgs", 30, -60, 45),
]


@pytest.mark.parametrize("method,n_iter,sc_bound,snr_bound", CASES)
def test_methods_recover_known_signal(problem, method, n_iter, sc_bound, snr_bound):
    tf, x, s = problem
    res = reconstruct(s, tf, method, n_iter=n_iter, length=L)
    assert res.signal.shape == x.shape and np.isrealobj(res.signal)
    # the reported figure is the spectral convergence of the returned signal
    assert res.spectral_convergence == pytest.approx(spectral_convergence(s, res.signal, tf), abs=1e-6)
    assert res.spectral_convergence < sc_bound
    assert snr(x, res.signal, align="analytic") > snr_bound
    assert res.n_iter == n_iter
    assert res.history.shape == (n_iter,)


def test_iterations_improve_on_their_start(problem):
    tf, x, s = problem
    for method in ("gla", "fgla", "admm"):
        res = reconstruct(s, tf, method, n_iter=30, length=L)
        assert res.history[-1] < res.history[0] - 5
    # FGLA's momentum accelerates GLA (Perraudin et al.): same start, same iterations
    gla = reconstruct(s, tf, "gla", n_iter=60, length=L)
    fgla = reconstruct(s, tf, "fgla", n_iter=60, length=L)
    assert fgla.spectral_convergence < gla.spectral_convergence - 3
    # and PGHI is a far better start than random phases
    assert reconstruct(s, tf, "pghi+fgla", n_iter=60, length=L).spectral_convergence < fgla.spectral_convergence - 10


def test_agla_reduces_to_fgla_and_checks_its_parameters(problem):
    tf, x, s = problem
    # with beta = gamma = 1 the accelerated GLA (Nenov et al. 2023) is Fast Griffin-Lim: same iterates
    fgla = reconstruct(s, tf, "fgla", n_iter=25, length=L)
    same = reconstruct(s, tf, "agla", n_iter=25, length=L, beta=1.0, gamma=1.0)
    np.testing.assert_allclose(same.history, fgla.history, atol=1e-9)
    np.testing.assert_allclose(same.signal, fgla.signal, atol=1e-9)
    # the defaults differ from FGLA and still improve on their start
    agla = reconstruct(s, tf, "agla", n_iter=25, length=L)
    assert not np.allclose(agla.history, fgla.history)
    assert agla.history[-1] < agla.history[0] - 5
    with pytest.raises(ValueError, match="gamma"):
        reconstruct(s, tf, "agla", gamma=2.5)
    with pytest.raises(ValueError, match="beta"):
        reconstruct(s, tf, "agla", beta=-1.0)
    with pytest.raises(ValueError, match="backend='torch'"):
        reconstruct(s, tf, "pghi+agla", backend="torch")


def test_admm_relaxed_consistency(problem):
    tf, x, s = problem
    exact = reconstruct(s, tf, "admm", n_iter=30, length=L)
    # rho -> infinity is the indicator of the consistent set
    near = reconstruct(s, tf, "admm", n_iter=30, length=L, rho=1e12)
    np.testing.assert_allclose(near.history, exact.history, atol=1e-6)
    relaxed = reconstruct(s, tf, "admm", n_iter=100, length=L, rho=10.0)
    assert relaxed.history[-1] < relaxed.history[0] - 5
    assert not np.allclose(relaxed.history[:30], exact.history)
    with pytest.raises(ValueError, match="rho"):
        reconstruct(s, tf, "admm", rho=-1.0)


def test_complex_signals_and_batches(rng):
    tf = STFT(128, 16, "hann", onesided=False)
    n = np.arange(1500)
    x = np.stack([np.exp(2j * np.pi * (0.1 * n + 5e-5 * n**2)), np.exp(-2j * np.pi * (0.05 * n + 3e-5 * n**2))])
    x = x * np.hanning(1500)
    s = np.abs(tf.forward(x))
    res = reconstruct(s, tf, n_iter=50, length=1500)
    assert res.signal.shape == x.shape and np.iscomplexobj(res.signal)
    assert res.history.shape == (50, 2)
    assert np.all(snr(x, res.signal) > 25)
    lb = reconstruct(s, tf, "pghi+lbfgs", n_iter=20, length=1500)
    assert np.all(lb.spectral_convergence < -30)


def test_warm_start_callback_and_target(problem):
    tf, x, s = problem
    true_phase = np.angle(tf.forward(x))
    res = reconstruct(s, tf, "gla", n_iter=3, init=true_phase, length=L)
    assert res.history[0] < -250  # the true phase is a fixed point
    assert snr(x, res.signal) > 200  # the true phase: no alignment beyond the sign needed
    seen = []

    def cb(state: IterationState):
        seen.append(state)
        return state.iteration == 7

    res = reconstruct(s, tf, "fgla", n_iter=50, callback=cb, length=L)
    assert res.n_iter == 7 and len(seen) == 7 and not res.converged
    assert seen[-1].signal.shape == (L,)
    assert seen[-1].spectral_convergence == pytest.approx(res.spectral_convergence)
    res = reconstruct(s, tf, "pghi+fgla", n_iter=500, tol_db=-40, length=L)
    assert res.converged and res.spectral_convergence <= -40 and res.n_iter < 500
    assert np.all(res.history[:-1] > -40)
    # complex coefficients as a warm start; and zeros
    res0 = reconstruct(s, tf, "fgla", n_iter=5, init=tf.forward(x), length=L)
    assert res0.spectral_convergence < -200
    assert reconstruct(s, tf, "gla", n_iter=1, init="zeros", length=L).n_iter == 1


def test_lbfgs_gradient_matches_finite_differences(rng):
    """The gradient used by L-BFGS is that of 0.5 * sum over all channels of (|Tx| - s)^2."""
    from stftpr.algorithms import _lbfgs_single

    tf = STFT(32, 8, "hann")
    Ls = 100
    s = np.abs(tf.forward(rng.standard_normal(Ls)))
    grads = {}

    def objective(x):
        c = tf.forward(x)
        full = np.concatenate([c, np.conj(c[1:-1][::-1])], axis=0)  # the whole spectrum
        sf = np.concatenate([s, s[1:-1][::-1]], axis=0)
        return 0.5 * np.sum((np.abs(full) - sf) ** 2)

    import scipy.optimize

    captured = {}
    orig = scipy.optimize.minimize

    def spy(fun, x0, **kw):
        captured["fun"] = fun
        captured["x0"] = x0
        return orig(fun, x0, **{**kw, "options": {**kw["options"], "maxiter": 1}})

    scipy.optimize.minimize = spy
    try:
        _lbfgs_single(s, rng.uniform(-np.pi, np.pi, s.shape), tf, Ls, 1, None, None, False)
    finally:
        scipy.optimize.minimize = orig
    x0 = captured["x0"]
    f, g = captured["fun"](x0)
    assert f == pytest.approx(objective(x0), rel=1e-10)
    eps = 1e-6
    for i in rng.choice(Ls, 8, replace=False):
        e = np.zeros(Ls)
        e[i] = eps
        fd = (objective(x0 + e) - objective(x0 - e)) / (2 * eps)
        grads[i] = (fd, g[i])
        assert g[i] == pytest.approx(fd, rel=1e-5, abs=1e-7)


def test_float32_magnitudes(problem):
    tf, x, s = problem
    res = reconstruct(s.astype(np.float32), tf, "pghi+fgla", n_iter=30, length=L)
    assert res.signal.dtype == np.float32
    assert res.spectral_convergence < -40


def test_progress_bar_runs(problem, capsys):
    tf, x, s = problem
    reconstruct(s, tf, "fgla", n_iter=3, length=L, progress=True)
    reconstruct(s, tf, "lbfgs", n_iter=2, length=L, progress=True)


def test_bad_input(problem):
    tf, x, s = problem
    with pytest.raises(ValueError, match="method must be one of"):
        reconstruct(s, tf, "magic")
    with pytest.raises(ValueError, match=r"magnitude has shape \(10, 5\)"):
        reconstruct(np.ones((10, 5)), tf)
    with pytest.raises(ValueError, match="negative"):
        reconstruct(-s, tf)
    with pytest.raises(ValueError, match="non-finite"):
        reconstruct(np.full_like(s, np.nan), tf)
    with pytest.raises(ValueError, match="n_iter must be an integer >= 0"):
        reconstruct(s, tf, n_iter=-1)
    with pytest.raises(ValueError, match="alpha"):
        reconstruct(s, tf, "fgla", alpha=1.5)
    with pytest.raises(ValueError, match="init cannot be combined"):
        reconstruct(s, tf, "pghi+fgla", init="zeros")
    with pytest.raises(ValueError, match="init has shape"):
        reconstruct(s, tf, "fgla", init=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="init must be one of"):
        reconstruct(s, tf, "fgla", init="ones")
    with pytest.raises(TypeError, match="transform must be a stftpr.STFT"):
        reconstruct(s, "stft")
    with pytest.raises(ValueError, match="for length=10"):
        reconstruct(s, tf, length=10)
    with pytest.raises(ValueError, match="backend"):
        reconstruct(s, tf, backend="jax")
