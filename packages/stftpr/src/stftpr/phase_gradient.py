"""Phase gradient heuristic integration (PGHI) and its real-time variant.

Reference: Z. Prusa, P. Balazs, P. L. Soendergaard, "A noniterative method for reconstruction
of phase from STFT magnitude", IEEE/ACM Trans. Audio, Speech, Lang. Process. 25(5), 2017;
Z. Prusa, P. L. Soendergaard, "Real-time spectrogram inversion using phase gradient
heuristic integration", DAFx 2016 (real-time variant).

For the Gaussian window ``exp(-pi t^2 / lambda)`` the STFT is, up to a factor, an analytic
function, and in the time-invariant convention its phase ``phi`` and log-magnitude obey

.. math::

   \\partial_x \\phi = \\frac{1}{\\lambda} \\partial_\\omega \\log s + 2\\pi\\omega, \\qquad
   \\partial_\\omega \\phi = -\\lambda\\, \\partial_x \\log s

(``x`` in samples, ``omega`` in cycles per sample). On the lattice (hop ``a``, ``M``
channels, frame ``p``, channel ``m``) the phase steps are therefore

.. math::

   \\Delta_p \\phi = \\frac{aM}{\\lambda} \\partial_m \\log s + \\frac{2\\pi a m}{M}, \\qquad
   \\Delta_m \\phi = -\\frac{\\lambda}{aM} \\partial_p \\log s,

with centred differences for the derivatives. For other windows ``lambda`` is that of the
Gaussian the window resembles (:data:`stftpr.windows.LAMBDA_FACTORS`). The steps are
integrated with the trapezoidal rule along a path that starts at the largest coefficient and
always continues from the largest coefficient reached so far (a heap); coefficients below
``tol * max(s)`` get a random phase.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stftpr import _heap
from stftpr.transform import STFT

_LOG_FLOOR = 1e-300


def phase_derivatives(magnitude: np.ndarray, transform: STFT) -> tuple[np.ndarray, np.ndarray]:
    """Phase steps per frame and per channel estimated from the log-magnitude.

    Parameters
    ----------
    magnitude
        Magnitudes, shape ``(n_freqs, n_frames)``.
    transform
        The transform that produced them (its ``lam``, ``hop`` and ``n_fft`` are used).

    Returns
    -------
    dt, df : numpy.ndarray
        Phase increment from frame ``p`` to ``p + 1`` and from channel ``m`` to ``m + 1``
        (time-invariant convention), each of shape ``(n_freqs, n_frames)``.
    """
    s = np.asarray(magnitude, dtype=np.float64)
    logs = _log_magnitude(s)
    return _dt_from_log(logs, transform), _df_from_log(logs, transform)


def _log_magnitude(s: np.ndarray) -> np.ndarray:
    peak = float(s.max()) if s.size else 0.0
    floor = max(peak * 1e-15, _LOG_FLOOR)
    return np.log(np.maximum(s, floor))


def _freq_diff(logs: np.ndarray, transform: STFT) -> np.ndarray:
    """Centred difference along the channel axis (axis -2), with the symmetry of the spectrum."""
    F = logs.shape[-2]
    M = transform.n_fft
    if transform.onesided:
        # real signals: s[-m] = s[m] and s[M - m] = s[m] (reflect at DC and at Nyquist)
        lo = np.concatenate([logs[..., 1:2, :], logs[..., :-1, :]], axis=-2) if F > 1 else logs
        if M % 2 == 0:
            hi = np.concatenate([logs[..., 1:, :], logs[..., F - 2 : F - 1, :]], axis=-2) if F > 1 else logs
        else:
            hi = np.concatenate([logs[..., 1:, :], logs[..., F - 1 : F, :]], axis=-2)
        return 0.5 * (hi - lo)
    return 0.5 * (np.roll(logs, -1, axis=-2) - np.roll(logs, 1, axis=-2))


def _dt_from_log(logs: np.ndarray, transform: STFT) -> np.ndarray:
    a, M = transform.hop, transform.n_fft
    m = np.arange(transform.n_freqs, dtype=np.float64)
    if not transform.onesided:
        m = np.where(m > M // 2, m - M, m)  # use the signed frequency (negative above Nyquist)
    return (a * M / transform.lam) * _freq_diff(logs, transform) + (2.0 * np.pi * a / M) * m[:, None]


def _df_from_log(logs: np.ndarray, transform: STFT) -> np.ndarray:
    a, M = transform.hop, transform.n_fft
    if logs.shape[-1] > 1:
        grad_t = np.gradient(logs, axis=-1)
    else:
        grad_t = np.zeros_like(logs)
    return -(transform.lam / (a * M)) * grad_t


def _to_convention(phase_ti: np.ndarray, transform: STFT) -> np.ndarray:
    """Time-invariant phase to the transform's convention."""
    if transform.phase == "timeinv":
        return phase_ti
    n_frames = phase_ti.shape[-1]
    m = np.arange(transform.n_freqs, dtype=np.int64)[:, None]
    centers = transform.frame_centers(n_frames).astype(np.int64)[None, :]
    return phase_ti - 2.0 * np.pi * ((m * centers) % transform.n_fft) / transform.n_fft


def _check_tol(tol: float | Sequence[float]) -> np.ndarray:
    tols = np.atleast_1d(np.asarray(tol, dtype=float))
    if tols.ndim != 1 or tols.size == 0 or not np.all(np.isfinite(tols)) or np.any(tols <= 0) or np.any(tols >= 1):
        raise ValueError(f"tol must be a number in (0, 1) or a decreasing sequence of them, got {tol!r}")
    if np.any(np.diff(tols) >= 0):
        raise ValueError(f"tol passes must be strictly decreasing, got {tol!r}")
    return tols


def pghi(
    magnitude: np.ndarray,
    transform: STFT,
    *,
    tol: float | Sequence[float] = 1e-10,
    seed: int | None = 0,
) -> np.ndarray:
    """Phase of the STFT estimated from its magnitude by phase gradient heuristic integration.

    Parameters
    ----------
    magnitude
        Magnitudes, shape ``(..., n_freqs, n_frames)``; leading axes are a batch.
    transform
        The transform of the magnitudes; its window constant ``lam`` sets the phase gradients.
    tol
        Relative tolerance (default ``1e-10``, as in LTFAT), or a strictly decreasing
        sequence of them for several passes: pass ``i`` integrates the coefficients above
        ``tol[i] * max(s)``, continuing from those integrated before; coefficients below the
        last tolerance get a random phase. (On the benchmark signals a single pass was
        better than ``(1e-1, 1e-10)``.)
    seed
        Seed of the random phases of the small coefficients.

    Returns
    -------
    numpy.ndarray
        Phases (radians) in the transform's phase convention, same shape as ``magnitude``.

    Notes
    -----
    The phase is determined only up to a constant on each connected region of large
    coefficients (each such region starts at phase 0).
    """
    s_all = transform.check_magnitude(magnitude).astype(np.float64)
    tols = _check_tol(tol)
    rng = np.random.default_rng(seed)
    batch = s_all.shape[:-2]
    flat = s_all.reshape((-1,) + s_all.shape[-2:])
    out = np.empty_like(flat)
    for b in range(flat.shape[0]):
        out[b] = _pghi_single(flat[b], transform, tols, rng)
    return out.reshape(batch + s_all.shape[-2:])


def _pghi_single(s: np.ndarray, transform: STFT, tols: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    s = np.ascontiguousarray(s)
    dt, df = phase_derivatives(s, transform)
    return _integrate_single(s, dt, df, transform, tols, rng)


def _integrate_single(s, dt, df, transform: STFT, tols: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dt = np.ascontiguousarray(dt, dtype=np.float64)
    df = np.ascontiguousarray(df, dtype=np.float64)
    phase = np.zeros(s.shape)
    done = np.zeros(s.shape, dtype=np.uint8)
    peak = float(s.max())
    if peak > 0:
        pkeys = _heap.packed_keys(s)
        for t in tols:
            _heap.heap_integrate(s, dt, df, phase, done, peak * float(t), bool(not transform.onesided), pkeys)
    rest = done == 0
    phase[rest] = rng.uniform(-np.pi, np.pi, size=int(rest.sum()))
    return _to_convention(phase, transform)


def integrate_phase(
    magnitude: np.ndarray,
    transform: STFT,
    dt: np.ndarray,
    df: np.ndarray,
    *,
    tol: float | Sequence[float] = 1e-10,
    seed: int | None = 0,
) -> np.ndarray:
    """Heap integration of given phase steps (the integration stage of PGHI on its own).

    :func:`pghi` is ``integrate_phase(s, tf, *phase_derivatives(s, tf))``. Other estimates of
    the phase steps can be integrated the same way, for instance the exact ones of a known
    signal (to separate the error of the estimate from that of the integration on the lattice,
    as ``benchmarks/pghi_ceiling.py`` does); LTFAT calls this stage ``heapint``.

    Parameters
    ----------
    magnitude
        Magnitudes, shape ``(..., n_freqs, n_frames)``; they order the integration.
    transform
        Their transform.
    dt, df
        Phase increment per frame and per channel at each coefficient, in the time-invariant
        convention (as returned by :func:`phase_derivatives`), same shape as ``magnitude``.
    tol
        Relative tolerance (passes), as in :func:`pghi`.
    seed
        Seed of the random phases below the last tolerance.

    Returns
    -------
    numpy.ndarray
        Phases in the transform's convention, same shape as ``magnitude``.
    """
    s_all = transform.check_magnitude(magnitude).astype(np.float64)
    tols = _check_tol(tol)
    steps = []
    for name, arr in (("dt", dt), ("df", df)):
        arr = np.asarray(arr)
        if arr.shape != s_all.shape:
            raise ValueError(f"{name} has shape {arr.shape} but magnitude has shape {s_all.shape}; they must match")
        if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr) or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must hold finite real phase increments")
        steps.append(arr.astype(np.float64).reshape((-1,) + s_all.shape[-2:]))
    rng = np.random.default_rng(seed)
    flat = s_all.reshape((-1,) + s_all.shape[-2:])
    out = np.empty_like(flat)
    for b in range(flat.shape[0]):
        out[b] = _integrate_single(np.ascontiguousarray(flat[b]), steps[0][b], steps[1][b], transform, tols, rng)
    return out.reshape(s_all.shape)


class RealTimePGHI:
    """Frame-by-frame PGHI for streams (the real-time variant of Prusa and Soendergaard, DAFx 2016).

    Feed magnitude frames one at a time with :meth:`push`; each call returns the complex
    coefficients of the frames whose phase is now known (one frame behind with
    ``lookahead=1``). Call :meth:`flush` at the end of the stream.

    Parameters
    ----------
    transform
        The transform of the frames.
    lookahead
        0 (causal: backward difference in time) or 1 (centred difference, one frame delay).
    tol
        Relative tolerance: bins below ``tol`` times the largest magnitude seen so far get a
        random phase.
    seed
        Seed of those random phases.
    """

    def __init__(self, transform: STFT, *, lookahead: int = 1, tol: float = 1e-6, seed: int | None = 0) -> None:
        if lookahead not in (0, 1):
            raise ValueError(f"lookahead must be 0 or 1, got {lookahead!r}")
        self.transform = transform
        self.lookahead = int(lookahead)
        self.tol = float(_check_tol(tol)[0])
        self._rng = np.random.default_rng(seed)
        self._logs: list[np.ndarray] = []  # log-magnitudes of frames not yet emitted (+ one before)
        self._mags: list[np.ndarray] = []
        self._prev: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (s, phase, dt) of last emitted
        self._peak = 0.0
        self._index = 0  # index of the next frame to emit

    def push(self, frame: np.ndarray) -> np.ndarray:
        """Add one magnitude frame (``n_freqs`` values); return the newly completed frames.

        Returns
        -------
        numpy.ndarray
            Complex coefficients of shape ``(n_freqs, k)`` with ``k`` 0 or 1.
        """
        s = np.asarray(frame, dtype=np.float64)
        if s.shape != (self.transform.n_freqs,):
            raise ValueError(f"frame has shape {s.shape} but the transform expects ({self.transform.n_freqs},)")
        if not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError("frame must hold finite non-negative magnitudes")
        self._peak = max(self._peak, float(s.max()))
        self._mags.append(s)
        self._logs.append(np.log(np.maximum(s, max(self._peak * 1e-15, _LOG_FLOOR))))
        ready = len(self._mags) - self.lookahead - (1 if self._prev is not None else 0)
        if ready >= 1:
            return self._emit(final=False)[:, None]
        return np.empty((self.transform.n_freqs, 0), dtype=np.complex128)

    def flush(self) -> np.ndarray:
        """Emit the frames held back by the lookahead."""
        cols = []
        while len(self._mags) > (1 if self._prev is not None else 0):
            cols.append(self._emit(final=True))
        if not cols:
            return np.empty((self.transform.n_freqs, 0), dtype=np.complex128)
        return np.stack(cols, axis=-1)

    def _emit(self, final: bool) -> np.ndarray:
        tf = self.transform
        i = 1 if self._prev is not None else 0  # position of the frame to emit in the buffers
        s_cur = self._mags[i]
        log_cur = self._logs[i][:, None]
        dt_cur = _dt_from_log(log_cur, tf)[:, 0]
        # time derivative of the log-magnitude at the current frame
        has_next = len(self._logs) > i + 1
        has_prev = i == 1
        if has_next and has_prev and self.lookahead == 1:
            dlog = 0.5 * (self._logs[i + 1] - self._logs[i - 1])
        elif has_next and self.lookahead == 1:
            dlog = self._logs[i + 1] - self._logs[i]
        elif has_prev:
            dlog = self._logs[i] - self._logs[i - 1]
        else:
            dlog = np.zeros_like(s_cur)
        df_cur = -(tf.lam / (tf.hop * tf.n_fft)) * dlog
        thresh = self.tol * self._peak
        phase_cur = self._rng.uniform(-np.pi, np.pi, size=s_cur.shape)
        if self._prev is None:
            # first frame: ordinary heap integration within the frame
            s2 = np.ascontiguousarray(s_cur[:, None])
            done = np.zeros(s2.shape, dtype=np.uint8)
            ph = phase_cur[:, None].copy()
            if self._peak > 0:
                _heap.heap_integrate(
                    s2, np.zeros_like(s2), df_cur[:, None].copy(), ph, done, float(thresh), bool(not tf.onesided),
                    _heap.packed_keys(s2),
                )
            phase_cur = ph[:, 0]
        else:
            s_prev, phase_prev, dt_prev = self._prev
            _heap.rt_frame(s_prev, s_cur, phase_prev, dt_prev, dt_cur, df_cur, float(thresh), bool(not tf.onesided), phase_cur)
        self._prev = (s_cur, phase_cur, dt_cur)
        if i == 1:
            self._mags.pop(0)
            self._logs.pop(0)
        phase_conv = _to_convention(phase_cur[:, None], tf) if tf.phase == "timeinv" else self._freqinv(phase_cur)
        self._index += 1
        return s_cur * np.exp(1j * phase_conv.reshape(-1))

    def _freqinv(self, phase_ti: np.ndarray) -> np.ndarray:
        tf = self.transform
        m = np.arange(tf.n_freqs, dtype=np.int64)
        center = (tf.p_min + self._index) * tf.hop
        return phase_ti - 2.0 * np.pi * ((m * center) % tf.n_fft) / tf.n_fft


def rtpghi(
    magnitude: np.ndarray,
    transform: STFT,
    *,
    lookahead: int = 1,
    tol: float = 1e-6,
    seed: int | None = 0,
) -> np.ndarray:
    """Real-time PGHI applied to a whole magnitude array, frame by frame.

    Parameters
    ----------
    magnitude
        Magnitudes, shape ``(..., n_freqs, n_frames)``.
    transform
        Their transform.
    lookahead
        0 or 1 frames of lookahead (see :class:`RealTimePGHI`).
    tol
        Relative tolerance for random phases.
    seed
        Seed of the random phases.

    Returns
    -------
    numpy.ndarray
        Phases in the transform's convention, same shape as ``magnitude``. The tolerance is
        relative to the largest magnitude seen so far, as a stream would.
    """
    s_all = transform.check_magnitude(magnitude).astype(np.float64)
    batch = s_all.shape[:-2]
    flat = s_all.reshape((-1,) + s_all.shape[-2:])
    out = np.empty(flat.shape, dtype=np.float64)
    for b in range(flat.shape[0]):
        rt = RealTimePGHI(transform, lookahead=lookahead, tol=tol, seed=None if seed is None else seed + b)
        cols = [rt.push(flat[b, :, k]) for k in range(flat.shape[-1])]
        cols.append(rt.flush())
        out[b] = np.angle(np.concatenate(cols, axis=-1))
    return out.reshape(batch + s_all.shape[-2:])
