"""PGHI: exactness on a Gaussian-window chirp, its order, the real-time variant, the kernels."""

import numpy as np
import pytest
from _signals import gauss_chirp, harmonic_signal

from stftpr import (
    STFT,
    RealTimePGHI,
    _heap,
    integrate_phase,
    pghi,
    phase_derivatives,
    rtpghi,
    spectral_convergence,
)


def weighted_phase_error(c, phase):
    """Energy-weighted RMS phase error (radians) after removing the best global phase."""
    s = np.abs(c)
    d = np.angle(c * np.exp(-1j * phase))
    d0 = np.angle(np.sum(s**2 * np.exp(1j * d)))
    w = s**2 / np.sum(s**2)
    return float(np.sqrt(np.sum(w * np.angle(np.exp(1j * (d - d0))) ** 2)))


@pytest.mark.parametrize("phase_conv", ["freqinv", "timeinv"])
@pytest.mark.parametrize("n_fft,hop", [(128, 8), (128, 16), (256, 32)])
@pytest.mark.parametrize("tfr", [0.25, 0.5, 1.0, 2.0])
def test_pghi_exact_on_gaussian_chirp_up_to_window_truncation(n_fft, hop, tfr, phase_conv):
    """For a Gaussian window the STFT of a Gaussian chirp has quadratic log-magnitude and phase:
    centred differences and the trapezoidal rule are exact, so the only error left is the
    truncation of the window to n_fft samples, whose relative size is the tail
    exp(-pi (n_fft/2)^2 / lambda). The phase error must follow that tail down to round-off."""
    tf = STFT(n_fft, hop, ("gauss", tfr), phase=phase_conv, onesided=False)
    x = gauss_chirp(2000, 0.1, 0.3, complex_=True)
    c = tf.forward(x)
    err = weighted_phase_error(c, pghi(np.abs(c), tf))
    tail = np.exp(-np.pi * (n_fft / 2) ** 2 / tf.lam)
    assert err <= 0.8 * tail + 1e-8, (err, tail)
    if tail < 1e-9:
        assert err < 1e-8


def test_pghi_real_signal_and_nonexact_windows():
    x = gauss_chirp(4000, 0.05, 0.2)
    tf = STFT(256, 16, "gauss")
    s = np.abs(tf.forward(x))
    sc = spectral_convergence(s, tf.inverse(s * np.exp(1j * pghi(s, tf)), 4000), tf)
    assert sc < -100
    # Hann: lambda is only that of the Gaussian the window resembles; good, not exact
    tf = STFT(256, 32, "hann")
    s = np.abs(tf.forward(x))
    sc = spectral_convergence(s, tf.inverse(s * np.exp(1j * pghi(s, tf)), 4000), tf)
    assert -60 < sc < -20
    # a wrong lambda must hurt: the constant matters
    tf_bad = STFT(256, 32, "hann")
    tf_bad.lam *= 4
    sc_bad = spectral_convergence(s, tf.inverse(s * np.exp(1j * pghi(s, tf_bad)), 4000), tf)
    assert sc_bad > sc + 10


def test_phase_derivatives_match_true_phase_differences():
    tf = STFT(256, 16, ("gauss", 0.5), phase="timeinv", onesided=False)
    c = tf.forward(gauss_chirp(2000, 0.1, 0.3, complex_=True))
    dt, df = phase_derivatives(np.abs(c), tf)
    s = np.abs(c)
    big = s > 1e-2 * s.max()
    # true increments by the trapezoidal rule: phase[p+1] - phase[p] = (dt[p] + dt[p+1]) / 2
    true_t = np.angle(c[:, 1:] * np.conj(c[:, :-1]))
    est_t = np.angle(np.exp(0.5j * (dt[:, 1:] + dt[:, :-1])))
    sel = big[:, 1:] & big[:, :-1]
    assert np.max(np.abs(np.angle(np.exp(1j * (true_t - est_t))))[sel]) < 1e-8
    true_f = np.angle(c[1:] * np.conj(c[:-1]))
    est_f = 0.5 * (df[1:] + df[:-1])
    sel = big[1:] & big[:-1]
    assert np.max(np.abs(np.angle(np.exp(1j * (true_f - est_f))))[sel]) < 1e-8


def test_realtime_pghi_close_to_offline_and_streaming_matches():
    tf = STFT(512, 64, "gauss")
    x = harmonic_signal(6000)
    s = np.abs(tf.forward(x))
    for lookahead, bound in ((1, -35), (0, -25)):
        ph = rtpghi(s, tf, lookahead=lookahead)
        assert spectral_convergence(s, tf.inverse(s * np.exp(1j * ph), 6000), tf) < bound
    # frame-by-frame streaming gives the same coefficients as the whole-array function
    rt = RealTimePGHI(tf, lookahead=1)
    cols = [rt.push(s[:, k]) for k in range(s.shape[1])]
    assert cols[0].shape == (tf.n_freqs, 0)  # one frame of delay
    cols.append(rt.flush())
    c_stream = np.concatenate(cols, axis=1)
    np.testing.assert_allclose(np.angle(c_stream), rtpghi(s, tf, lookahead=1), atol=1e-12)
    with pytest.raises(ValueError, match="lookahead"):
        RealTimePGHI(tf, lookahead=2)
    with pytest.raises(ValueError, match="frame has shape"):
        rt.push(np.ones(3))


def reference_heap_integration(s, dt, df, thresh):
    """Prusa et al.'s Algorithm 1 written plainly with heapq (one-sided, no wrap)."""
    import heapq

    F, N = s.shape
    phase = np.zeros(s.shape)
    done = s < thresh
    heap = []
    while not done.all():
        rest = np.where(done, -np.inf, s)
        m, k = np.unravel_index(np.argmax(rest), s.shape)
        phase[m, k] = 0.0
        done[m, k] = True
        heapq.heappush(heap, (-s[m, k], m, k))
        while heap:
            _, m, k = heapq.heappop(heap)
            for mm, kk, step in ((m, k + 1, 0.5 * (dt[m, k] + dt[m, min(k + 1, N - 1)])),
                                 (m, k - 1, -0.5 * (dt[m, k] + dt[m, max(k - 1, 0)])),
                                 (m + 1, k, 0.5 * (df[m, k] + df[min(m + 1, F - 1), k])),
                                 (m - 1, k, -0.5 * (df[m, k] + df[max(m - 1, 0), k]))):
                if 0 <= mm < F and 0 <= kk < N and not done[mm, kk]:
                    phase[mm, kk] = phase[m, k] + step
                    done[mm, kk] = True
                    heapq.heappush(heap, (-s[mm, kk], mm, kk))
    return phase


def test_heap_kernel_against_plain_reference():
    rng = np.random.default_rng(0)
    s = rng.random((30, 40))
    dt = rng.standard_normal(s.shape)
    df = rng.standard_normal(s.shape)
    thresh = 0.55  # many separate regions: more than 8 seeds, so both seed searches run
    ref = reference_heap_integration(s, dt, df, thresh)
    for fn in (_heap.heap_integrate, _heap.heap_integrate.py_func):
        ph = np.zeros(s.shape)
        done = np.zeros(s.shape, dtype=np.uint8)
        fn(s, dt, df, ph, done, thresh, False, _heap.packed_keys(s))
        assert done[s >= thresh].all() and not done[s < thresh].any()
        np.testing.assert_allclose(ph[s >= thresh], ref[s >= thresh], atol=1e-12)
    from scipy import ndimage

    assert ndimage.label(s >= thresh)[1] > 8


def test_pghi_batch_and_bad_tol():
    tf = STFT(128, 32, "gauss")
    x = np.stack([gauss_chirp(1500, 0.05, 0.2), gauss_chirp(1500, 0.3, 0.1)])
    s = np.abs(tf.forward(x))
    ph = pghi(s, tf)
    assert ph.shape == s.shape
    np.testing.assert_allclose(ph[0], pghi(s[0], tf))  # the batch item equals the single call
    sc = spectral_convergence(s, tf.inverse(s * np.exp(1j * ph), 1500), tf)
    assert np.all(sc < -40)
    with pytest.raises(ValueError, match="tol"):
        pghi(s, tf, tol=(1e-3, 1e-1))
    with pytest.raises(ValueError, match="tol"):
        pghi(s, tf, tol=2.0)


def exact_phase_steps(x, tf):
    """Phase steps of a known signal from its complex coefficients (reassignment): with the
    time-invariant convention, d phase / d x = -Im(V_{g'} / V_g) + 2 pi m / M per sample and
    d phase / d m = -(2 pi / M) Re(V_{n g} / V_g) per channel, for the Gaussian window."""
    j = np.arange(tf.window.size) - tf.window.size // 2
    g_prime = -2 * np.pi * j / tf.lam * tf.window
    kw = dict(phase="timeinv", onesided=tf.onesided)
    c = STFT(tf.n_fft, tf.hop, tf.window, **kw).forward(x)
    c = np.where(np.abs(c) > 0, c, 1.0)
    m = np.arange(tf.n_freqs)[:, None]
    if not tf.onesided:
        m = np.where(m > tf.n_fft // 2, m - tf.n_fft, m)
    dt = tf.hop * (-np.imag(STFT(tf.n_fft, tf.hop, g_prime, **kw).forward(x) / c) + 2 * np.pi * m / tf.n_fft)
    df = -(2 * np.pi / tf.n_fft) * np.real(STFT(tf.n_fft, tf.hop, j * tf.window, **kw).forward(x) / c)
    return dt, df


def test_integrate_phase_is_pghi_stage_and_exact_with_exact_steps():
    # a Gaussian window truncated where it is below 1e-10: the STFT of a Gaussian chirp has a
    # quadratic phase, so the trapezoidal rule with the exact steps is exact
    tf = STFT(256, 32, ("gauss", 0.3), phase="timeinv", onesided=False)
    x = gauss_chirp(2000, 0.1, 0.3, complex_=True)
    c = tf.forward(x)
    s = np.abs(c)
    dt, df = exact_phase_steps(x, tf)
    assert weighted_phase_error(c, integrate_phase(s, tf, dt, df)) < 1e-6
    # PGHI is integrate_phase of the estimated steps (also batched)
    s2 = np.stack([s, s[::-1]])
    est = phase_derivatives(s2, tf)
    np.testing.assert_allclose(integrate_phase(s2, tf, *est), pghi(s2, tf), atol=1e-12)
    with pytest.raises(ValueError, match="dt has shape"):
        integrate_phase(s, tf, dt[:, :-1], df)
    with pytest.raises(ValueError, match="df must hold finite"):
        integrate_phase(s, tf, dt, df * np.nan)


def test_exact_steps_show_what_the_integration_on_a_coarse_lattice_costs():
    """At redundancy 4 (hop 256, 1024 channels, tfr 1) even the exact phase steps of a
    harmonic signal do not give an exact phase: the trapezoidal rule on the coarse lattice
    and the truncated window leave an error, which a finer lattice (redundancy 16) removes
    (the finding of benchmarks/pghi_ceiling.py in miniature)."""
    x = harmonic_signal(16000)
    out = {}
    for hop in (256, 64):
        tf = STFT(1024, hop, "gauss", phase="timeinv")
        s = np.abs(tf.forward(x))
        exact = integrate_phase(s, tf, *exact_phase_steps(x, tf))
        sc_exact = spectral_convergence(s, tf.inverse(s * np.exp(1j * exact), x.size), tf)
        sc_est = spectral_convergence(s, tf.inverse(s * np.exp(1j * pghi(s, tf)), x.size), tf)
        out[hop] = (sc_exact, sc_est)
    assert out[64][0] < out[256][0] - 10 and out[64][1] < out[256][1] - 10
