"""The transform: perfect reconstruction, agreement with scipy, projection, adjoint, bad input."""

import numpy as np
import pytest
from scipy.signal import ShortTimeFFT, get_window

from stftpr import STFT, inconsistency
from stftpr.windows import LAMBDA_FACTORS, fit_gaussian_lambda, gaussian

CONFIGS = [
    (256, 64, "hann", None),
    (256, 64, "hamming", 200),
    (255, 50, "blackman", None),
    (128, 32, ("gauss", 1.0), None),
    (128, 16, ("gauss", 0.5), 100),
]


@pytest.mark.parametrize("n_fft,hop,window,win_length", CONFIGS)
@pytest.mark.parametrize("phase", ["freqinv", "timeinv"])
@pytest.mark.parametrize("onesided", [True, False])
def test_round_trip_machine_precision(n_fft, hop, window, win_length, phase, onesided, rng):
    tf = STFT(n_fft, hop, window, win_length, phase=phase, onesided=onesided)
    L = 1001
    x = rng.standard_normal((3, 2, L))
    if not onesided:
        x = x + 1j * rng.standard_normal((3, 2, L))
    c = tf.forward(x)
    assert c.shape == (3, 2, tf.n_freqs, tf.n_frames(L))
    y = tf.inverse(c, length=L)
    assert np.max(np.abs(y - x)) < 1e-13 * np.max(np.abs(x))
    assert np.isrealobj(y) == onesided


@pytest.mark.parametrize("n_fft,hop,window,win_length", CONFIGS)
@pytest.mark.parametrize("phase", ["freqinv", "timeinv"])
@pytest.mark.parametrize("onesided", [True, False])
def test_agrees_with_scipy_shorttimefft(n_fft, hop, window, win_length, phase, onesided, rng):
    tf = STFT(n_fft, hop, window, win_length, phase=phase, onesided=onesided)
    L = 777
    x = rng.standard_normal(L) if onesided else rng.standard_normal(L) + 1j * rng.standard_normal(L)
    sft = ShortTimeFFT(tf.window, hop, fs=1.0, mfft=n_fft, fft_mode="onesided" if onesided else "twosided")
    assert (sft.p_min, sft.p_max(L)) == (tf.p_min, tf.p_max(L))
    S = S_scipy = sft.stft(x)
    if phase == "freqinv":  # ShortTimeFFT measures the phase from the frame centre
        m = np.arange(tf.n_freqs)[:, None]
        S = S * np.exp(-2j * np.pi * m * tf.frame_centers(S.shape[1])[None, :] / n_fft)
    np.testing.assert_allclose(tf.forward(x), S, atol=1e-12 * np.abs(S).max())
    # the canonical dual equals scipy's (which is scaled for numpy's 1/M inverse FFT)
    np.testing.assert_allclose(n_fft * tf.dual_window, sft.dual_win, atol=1e-14)
    np.testing.assert_allclose(sft.istft(S_scipy, k1=L), tf.inverse(tf.forward(x), L), atol=1e-12)


def test_named_windows_match_scipy():
    for name in ("hann", "hamming", "blackman"):
        np.testing.assert_allclose(STFT(200, 50, name).window, get_window(name, 200), atol=1e-15)
    g = STFT(256, 32, "gauss").window
    np.testing.assert_allclose(g, np.exp(-np.pi * (np.arange(256) - 128) ** 2 / (32 * 256)))


def test_window_constants_close_to_least_squares_fit():
    for name, factor in LAMBDA_FACTORS.items():
        fit = fit_gaussian_lambda(get_window(name, 1024)) / 1024**2
        assert abs(fit - factor) / factor < 0.02
    assert abs(fit_gaussian_lambda(gaussian(512, 5000.0)) - 5000.0) < 1.0


def test_projection_is_orthogonal_projection(rng):
    tf = STFT(64, 16, "hann")
    L = 300
    c = rng.standard_normal(tf.coefficient_shape(L)) + 1j * rng.standard_normal(tf.coefficient_shape(L))
    pc = tf.project(c, L)
    np.testing.assert_allclose(tf.project(pc, L), pc, atol=1e-12)
    # the residual is orthogonal to every consistent array, in the full-spectrum inner product
    d = tf.forward(rng.standard_normal(L))
    w = np.ones(tf.n_freqs)
    w[1:-1] = 2.0
    inner = np.sum(w[:, None] * np.conj(d) * (c - pc)).real
    assert abs(inner) < 1e-10 * np.linalg.norm(c) * np.linalg.norm(d)
    assert inconsistency(tf.forward(rng.standard_normal(L)), tf, L) < -250
    assert inconsistency(c, tf, L) > -10


@pytest.mark.parametrize("onesided", [True, False])
def test_adjoint_identity(onesided, rng):
    tf = STFT(64, 16, "hamming", 50, onesided=onesided)
    L = 257
    x = rng.standard_normal(L) if onesided else rng.standard_normal(L) + 1j * rng.standard_normal(L)
    c = rng.standard_normal(tf.coefficient_shape(L)) + 1j * rng.standard_normal(tf.coefficient_shape(L))
    if onesided:  # DC and Nyquist of a real signal's spectrum are real
        c[0] = c[0].real
        c[-1] = c[-1].real
        w = np.ones(tf.n_freqs)
        w[1:-1] = 2.0
    else:
        w = np.ones(tf.n_freqs)
    lhs = np.sum(w[:, None] * np.conj(tf.forward(x)) * c)
    rhs = np.sum(np.conj(x) * tf.adjoint(c, L))
    if onesided:
        lhs, rhs = lhs.real, rhs.real
    assert abs(lhs - rhs) < 1e-10 * abs(lhs)


def test_float32_and_frame_bookkeeping(rng):
    tf = STFT(128, 32)
    x = rng.standard_normal(500).astype(np.float32)
    c = tf.forward(x)
    assert c.dtype == np.complex64
    assert np.max(np.abs(tf.inverse(c, 500) - x)) < 1e-5
    n = tf.n_frames(500)
    assert tf.n_frames(tf.max_length(n)) == n and tf.n_frames(tf.max_length(n) + 1) == n + 1
    assert len(tf.inverse(c)) == tf.max_length(n)
    assert tf.redundancy == 4.0
    assert tf.frequencies(16000)[-1] == 8000.0


def test_bad_input_is_rejected_with_clear_messages(rng):
    with pytest.raises(ValueError, match="longer than the FFT"):
        STFT(256, 64, "hann", win_length=512)
    with pytest.raises(ValueError, match="hop=300 is too large"):
        STFT(256, 300)
    with pytest.raises(ValueError, match="window must be one of"):
        STFT(256, 64, "kaiser-bessel")
    with pytest.raises(ValueError, match="tfr"):
        STFT(256, 64, ("gauss", -1.0))
    with pytest.raises(ValueError, match="phase must be one of"):
        STFT(256, 64, phase="center")
    with pytest.raises(ValueError, match="n_fft must be a positive integer"):
        STFT(0, 64)
    tf = STFT(64, 16)
    with pytest.raises(ValueError, match="non-finite"):
        tf.forward(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(TypeError, match="onesided"):
        tf.forward(np.ones(10) * 1j)
    s = np.abs(tf.forward(rng.standard_normal(100)))
    with pytest.raises(ValueError, match=r"shape \(30, 10\).*expects \(\.\.\., 33, n_frames\)"):
        tf.check_magnitude(np.ones((30, 10)))
    with pytest.raises(ValueError, match="negative"):
        tf.check_magnitude(-s)
    with pytest.raises(ValueError, match="non-finite"):
        tf.check_magnitude(np.where(s > 0, np.inf, s))
    with pytest.raises(ValueError, match="length=50 gives"):
        tf.inverse(tf.forward(rng.standard_normal(100)), length=50)
