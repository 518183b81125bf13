"""Phase retrieval algorithms and the entry point :func:`reconstruct`.

The methods:

``"gla"``
    Griffin-Lim: alternate the projections onto the set of coefficients with the given
    magnitude (``P_A``) and onto the consistent coefficients (``P_C``, analysis after
    synthesis); Griffin and Lim, IEEE TASSP 1984.
``"fgla"``
    Fast Griffin-Lim: ``t_n = P_C P_A c_{n-1}``, ``c_n = t_n + alpha (t_n - t_{n-1})``;
    Perraudin, Balazs and Soendergaard, WASPAA 2013 (``alpha = 0.99`` by default).
``"agla"``
    Accelerated Griffin-Lim of Nenov, Nguyen, Balazs and Bot (arXiv:2306.12504, 2023):
    ``p_n = P_C P_A c_{n-1}``, ``t_n = (1 - gamma) d_{n-1} + gamma p_n``,
    ``c_n = t_n + alpha (t_n - t_{n-1})``, ``d_n = t_n + beta (t_n - t_{n-1})``; with
    ``beta = gamma = 1`` it is Fast Griffin-Lim. Defaults ``alpha = 0.99``, ``beta = 1.1``,
    ``gamma = 1.1`` (from a small sweep on the benchmark signals; ``gamma >= 1.35`` diverged
    there).
``"admm"``
    Griffin-Lim-like ADMM of Masuyama, Yatabe and Oikawa (IEEE SPL 2019) for
    ``min i_A(x) + g(z)`` subject to ``x = z``:
    ``x = P_A(z - u)``, ``z = prox_g(x + u)``, ``u = u + x - z``. With ``rho=None`` (default)
    ``g`` is the indicator of the consistent set and ``prox_g = P_C``; with a number ``rho``,
    ``g = (rho / 2) dist(z, C)^2`` and ``prox_g(v) = (rho P_C(v) + v) / (1 + rho)``.
``"pghi"``, ``"rtpghi"``
    Phase gradient heuristic integration and its real-time variant (no iterations); see
    :mod:`stftpr.phase_gradient`.
``"lbfgs"``
    L-BFGS (SciPy's L-BFGS-B without bounds) on the signal, minimising
    ``0.5 * sum (|T x| - s)^2`` over all ``M`` channels.
``"pghi+fgla"`` (default), ``"pghi+gla"``, ``"pghi+agla"``, ``"pghi+admm"``, ``"pghi+lbfgs"``
    PGHI phase as the starting point of the iterative method (``rtpghi+...`` likewise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from stftpr.phase_gradient import pghi, rtpghi
from stftpr.transform import STFT

ITERATIVE = ("gla", "fgla", "agla", "admm", "lbfgs")
DIRECT = ("pghi", "rtpghi")
METHODS = ITERATIVE + DIRECT + tuple(f"{d}+{i}" for d in DIRECT for i in ITERATIVE)
INITS = ("zeros", "random", "pghi", "rtpghi")
BACKENDS = ("numpy", "torch")


class IterationState(NamedTuple):
    """What a callback receives after each iteration."""

    iteration: int
    """1-based iteration number."""
    spectral_convergence: np.ndarray
    """Spectral convergence (dB) of the current signal; an array over the batch axes."""
    signal: np.ndarray
    """The current signal estimate, shape ``(..., L)``."""


@dataclass
class ReconstructionResult:
    """The outcome of :func:`reconstruct`."""

    signal: np.ndarray
    """The reconstructed signal(s), shape ``(..., L)``."""
    coefficients: np.ndarray
    """Their STFT (consistent coefficients), shape ``(..., n_freqs, n_frames)``."""
    spectral_convergence: Any
    """Final spectral convergence in dB (float, or an array over the batch axes)."""
    history: np.ndarray
    """Spectral convergence (dB) after each iteration, shape ``(n_iter, ...)``."""
    n_iter: int
    """Iterations run."""
    converged: bool
    """True when the target ``tol_db`` was reached (False when no target was given)."""
    method: str
    """The method used."""
    info: dict = field(default_factory=dict)
    """Method-specific extras (empty for now)."""

    @property
    def phase(self) -> np.ndarray:
        """The phase of :attr:`coefficients`."""
        return np.angle(self.coefficients)


def _sc_db(a: np.ndarray, s: np.ndarray, s_norm: np.ndarray) -> np.ndarray:
    err = np.sqrt(np.sum((a - s) ** 2, axis=(-2, -1), dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 20.0 * np.log10(err / s_norm)
    return np.where(err == 0, -np.inf, out)  # a perfect fit is -inf dB, also for s = 0


def _project_magnitude(c: np.ndarray, s: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
    if a is None:
        a = np.abs(c)
    tiny = np.finfo(a.dtype).tiny
    out = c * (s / np.maximum(a, tiny))
    zero = a < tiny
    if zero.any():
        out[zero] = s[zero]
    return out


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _initial_phase(init, s: np.ndarray, transform: STFT, seed: int | None, pghi_tol) -> np.ndarray:
    """Initial phase in the transform's convention, shape of ``s``."""
    if isinstance(init, str):
        if init == "zeros":
            return np.zeros(s.shape)
        if init == "random":
            return np.random.default_rng(seed).uniform(-np.pi, np.pi, size=s.shape)
        if init == "pghi":
            return pghi(s, transform, tol=pghi_tol, seed=seed)
        if init == "rtpghi":
            return rtpghi(s, transform, seed=seed)
        raise ValueError(f"init must be one of {INITS} or an array of phases or coefficients, got {init!r}")
    arr = np.asarray(init)
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"init array must be numeric, got dtype {arr.dtype}")
    if arr.shape != s.shape:
        raise ValueError(f"init has shape {arr.shape} but magnitude has shape {s.shape}; they must match")
    if not np.all(np.isfinite(arr)):
        raise ValueError("init contains non-finite values")
    return np.angle(arr) if np.iscomplexobj(arr) else arr.astype(float)


def reconstruct(
    magnitude: np.ndarray,
    transform: STFT,
    method: str = "pghi+fgla",
    n_iter: int = 100,
    init: str | np.ndarray | None = None,
    callback: Callable[[IterationState], bool | None] | None = None,
    *,
    tol_db: float | None = None,
    length: int | None = None,
    alpha: float = 0.99,
    beta: float = 1.1,
    gamma: float = 1.1,
    rho: float | None = None,
    seed: int | None = 0,
    pghi_tol: float | tuple[float, ...] = 1e-10,
    progress: bool = False,
    backend: str = "numpy",
    device: str | None = None,
) -> ReconstructionResult:
    """Reconstruct a signal from the magnitude of its STFT.

    Parameters
    ----------
    magnitude
        STFT magnitudes ``s >= 0``, shape ``(..., n_freqs, n_frames)``; leading axes are a batch.
    transform
        The :class:`~stftpr.STFT` that produced them.
    method
        One of ``"pghi+fgla"`` (default), ``"fgla"``, ``"gla"``, ``"agla"``, ``"admm"``, ``"lbfgs"``,
        ``"pghi"``, ``"rtpghi"``, or ``"pghi+<iterative>"`` / ``"rtpghi+<iterative>"``.
    n_iter
        Maximum number of iterations of the iterative method (ignored by ``"pghi"``).
    init
        Starting phase of an iterative method without a ``pghi+`` prefix: ``"random"``
        (default, seeded), ``"zeros"``, ``"pghi"``, ``"rtpghi"``, or an array of phases
        (real) or coefficients (complex, their phase is used) of the magnitude's shape:
        a warm start.
    callback
        Called after each iteration with an :class:`IterationState`; returning True stops.
    tol_db
        Stop once the spectral convergence (dB) of every batch item is at or below it.
    length
        Signal length (default: the largest length with ``n_frames`` frames).
    alpha
        Momentum of Fast Griffin-Lim and of the accelerated Griffin-Lim, in ``[0, 1)``.
    beta
        Second inertial parameter of ``"agla"`` (``>= 0``; ignored by the other methods).
    gamma
        Relaxation of ``"agla"``, in ``(0, 2)`` (ignored by the other methods).
    rho
        ADMM penalty: None (default) for the indicator of the consistent set, or a positive
        number for the relaxed consistency term (see the module documentation).
    seed
        Seed of random initial phases and of PGHI's random phases.
    pghi_tol
        Tolerance (passes) of PGHI; see :func:`stftpr.phase_gradient`.
    progress
        Show a tqdm progress bar.
    backend
        ``"numpy"`` (default) or ``"torch"`` (GLA, FGLA and ADMM only; batched, on ``device``).
    device
        Torch device for the torch backend (default: CUDA when available, else CPU).

    Returns
    -------
    ReconstructionResult
        The signal, its coefficients, the spectral convergence and its history.

    Examples
    --------
    >>> import numpy as np
    >>> from stftpr import STFT, reconstruct
    >>> tf = STFT(n_fft=256, hop=32, window="gauss")
    >>> t = np.arange(4000)
    >>> x = np.sin(2 * np.pi * (0.02 * t + 1e-5 * t**2))
    >>> res = reconstruct(np.abs(tf.forward(x)), tf, n_iter=20, length=4000)
    >>> bool(res.spectral_convergence < -30)
    True
    """
    if not isinstance(transform, STFT):
        raise TypeError(f"transform must be a stftpr.STFT, got {type(transform).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    n_iter = _check_int("n_iter", n_iter, 0)
    if not (isinstance(alpha, int | float) and 0 <= alpha < 1):
        raise ValueError(f"alpha must be a number in [0, 1), got {alpha!r}")
    if not (isinstance(beta, int | float) and np.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
    if not (isinstance(gamma, int | float) and 0 < gamma < 2):
        raise ValueError(f"gamma must be a number in (0, 2), got {gamma!r}")
    if rho is not None and not (isinstance(rho, int | float) and np.isfinite(rho) and rho > 0):
        raise ValueError(f"rho must be a positive number or None, got {rho!r}")
    if tol_db is not None and not (isinstance(tol_db, int | float) and np.isfinite(tol_db)):
        raise ValueError(f"tol_db must be a finite number of dB or None, got {tol_db!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    s = transform.check_magnitude(magnitude, length)
    L = transform._resolve_length(s.shape[-1], length)

    direct, _, iterative = method.partition("+")
    if direct in ITERATIVE:
        direct, iterative = "", direct
    if direct:
        if init is not None:
            raise ValueError(f"init cannot be combined with method {method!r}; use method={iterative or 'fgla'!r}, init=...")
        init = direct
    elif init is None:
        init = "random"
    phase0 = _initial_phase(init, s, transform, seed, pghi_tol)

    if not iterative:
        c0 = s * np.exp(1j * phase0)
        x = transform.inverse(c0.astype(np.complex64 if s.dtype == np.float32 else np.complex128), L)
        c = transform.forward(x)
        sc = _sc_db(np.abs(c), s, np.linalg.norm(s, axis=(-2, -1)))
        return ReconstructionResult(x, c, _scalar(sc), np.empty((0,) + s.shape[:-2]), 0, False, method)

    if backend == "torch":
        if iterative in ("lbfgs", "agla"):
            raise ValueError(
                f"backend='torch' supports methods 'gla', 'fgla' and 'admm' (with or without pghi+), got {method!r}"
            )
        from stftpr.torch_backend import iterate_torch

        x, c, hist, converged = iterate_torch(
            iterative, s, phase0, transform, L, n_iter, alpha=alpha, tol_db=tol_db, callback=callback,
            progress=progress, device=device, rho=rho,
        )
    elif iterative == "lbfgs":
        x, c, hist, converged = _lbfgs(s, phase0, transform, L, n_iter, tol_db, callback, progress)
    else:
        x, c, hist, converged = _iterate_numpy(
            iterative, s, phase0, transform, L, n_iter, alpha, tol_db, callback, progress, rho, beta, gamma
        )
    final = hist[-1] if len(hist) else _sc_db(np.abs(c), s, np.linalg.norm(s, axis=(-2, -1)))
    history = np.asarray(hist, dtype=float).reshape((len(hist),) + s.shape[:-2])
    return ReconstructionResult(x, c, _scalar(final), history, len(hist), converged, method)


def _scalar(v):
    v = np.asarray(v, dtype=float)
    return float(v) if v.ndim == 0 else v


def _iterate_numpy(kind, s, phase0, tf: STFT, L, n_iter, alpha, tol_db, callback, progress, rho=None, beta=1.1, gamma=1.1):
    cdtype = np.complex64 if s.dtype == np.float32 else np.complex128
    s_raw = np.ascontiguousarray(np.swapaxes(s, -1, -2))  # (..., N, F)
    s_norm = np.linalg.norm(s, axis=(-2, -1))
    c = tf._to_raw((s * np.exp(1j * phase0)).astype(cdtype))
    hist: list[np.ndarray] = []
    converged = False
    t_prev = None
    u = None
    x = None
    t = None
    bar = tqdm(total=n_iter, disable=not progress, desc=kind, leave=False)
    try:
        for it in range(1, n_iter + 1):
            if kind == "admm":
                if u is None:
                    u = np.zeros_like(c)
                    z = c
                xa = _project_magnitude(z - u, s_raw)
                v = xa + u
                x = tf._raw_synthesis(v, L)
                t = tf._raw_analysis(x)
                z = t if rho is None else (rho * t + v) / (1.0 + rho)
                u = v - z
                a = np.abs(t)
            elif kind == "agla":
                # c holds c_{n-1}; the first iteration starts from t_0 = d_0 = c_0 = P_C c
                x = tf._raw_synthesis(c if t_prev is None else _project_magnitude(c, s_raw), L)
                p = tf._raw_analysis(x)
                a = np.abs(p)
                if t_prev is None:
                    t = d = c = p
                else:
                    t = (1.0 - gamma) * d + gamma * p
                    c = t + alpha * (t - t_prev)
                    d = t + beta * (t - t_prev)
                t_prev = t
                t = p  # the consistent coefficients of x, returned at the end
            else:
                x = tf._raw_synthesis(c, L)
                t = tf._raw_analysis(x)
                a = np.abs(t)
                if kind == "fgla" and t_prev is not None:
                    ext = t + alpha * (t - t_prev)
                    c = _project_magnitude(ext, s_raw)
                else:
                    c = _project_magnitude(t, s_raw, a)
                if kind == "fgla":
                    t_prev = t
            sc = _sc_db(a, s_raw, s_norm)
            hist.append(sc)
            bar.update(1)
            stop = False
            if callback is not None and callback(IterationState(it, sc, x)):
                stop = True
            if tol_db is not None and np.all(sc <= tol_db):
                converged = True
                stop = True
            if stop:
                break
    finally:
        bar.close()
    if x is None:  # n_iter == 0
        x = tf._raw_synthesis(c, L)
        t = tf._raw_analysis(x)
    return x, tf._from_raw(t), hist, converged


def _lbfgs(s, phase0, tf: STFT, L, n_iter, tol_db, callback, progress):
    batch = s.shape[:-2]
    s_flat = s.reshape((-1,) + s.shape[-2:]).astype(np.float64)
    ph_flat = phase0.reshape(s_flat.shape)
    xs, cs, hists = [], [], []
    converged_all = True
    for b in range(s_flat.shape[0]):
        xb, hist, conv = _lbfgs_single(s_flat[b], ph_flat[b], tf, L, n_iter, tol_db, callback, progress)
        xs.append(xb)
        cs.append(tf._from_raw(tf._raw_analysis(xb)))
        hists.append(hist)
        converged_all = converged_all and conv
    n = max((len(h) for h in hists), default=0)
    hist_arr = np.full((n, len(hists)), np.nan)
    for j, h in enumerate(hists):
        hist_arr[: len(h), j] = h
        if len(h) < n and len(h):
            hist_arr[len(h) :, j] = h[-1]
    x = np.stack(xs).reshape(batch + (L,))
    c = np.stack(cs).reshape(batch + cs[0].shape)
    hist_list = [row.reshape(batch) if batch else row[0] for row in hist_arr]
    return x, c, hist_list, converged_all and tol_db is not None


def _lbfgs_single(sb, phase, tf: STFT, L, n_iter, tol_db, callback, progress):
    from scipy.optimize import minimize

    complex_signal = not tf.onesided
    s_raw = np.ascontiguousarray(sb.T)
    s_norm = float(np.linalg.norm(sb))
    weights = np.ones(s_raw.shape[-1])
    if tf.onesided:
        weights[1 : tf.n_fft - tf.n_fft // 2] = 2.0  # interior channels stand for two
    grad_window = tf.window * tf.n_fft
    x0 = tf._raw_synthesis(tf._to_raw(sb * np.exp(1j * phase)), L)
    x0v = np.concatenate([x0.real, x0.imag]) if complex_signal else x0.real
    last: dict = {}
    hist: list = []
    state = {"converged": False}

    def unpack(v):
        return v[:L] + 1j * v[L:] if complex_signal else v

    def fun(v):
        c = tf._raw_analysis(unpack(v))
        a = np.abs(c)
        diff = a - s_raw
        r = c * (diff / np.maximum(a, 1e-300))
        g = tf._raw_synthesis(r, L, window=grad_window)
        last["v"] = v
        last["sc"] = _sc_db(a, s_raw, s_norm)
        grad = np.concatenate([g.real, g.imag]) if complex_signal else g.real
        return 0.5 * float(np.sum(weights * diff**2)), grad

    bar = tqdm(total=n_iter, disable=not progress, desc="lbfgs", leave=False)

    def cb(intermediate_result):
        v = intermediate_result.x
        if "v" not in last or not np.array_equal(last["v"], v):
            fun(v)
        sc = float(last["sc"])
        hist.append(sc)
        bar.update(1)
        stop = callback is not None and bool(callback(IterationState(len(hist), np.asarray(sc), unpack(v))))
        if tol_db is not None and sc <= tol_db:
            state["converged"] = True
            stop = True
        if stop:
            raise StopIteration

    try:
        if n_iter > 0:
            res = minimize(
                fun, x0v, jac=True, method="L-BFGS-B", callback=cb,
                options={"maxiter": n_iter, "maxcor": 20, "ftol": 0.0, "gtol": 0.0, "maxls": 40},
            )
            v = res.x
        else:
            v = x0v
    finally:
        bar.close()
    return unpack(v), hist, state["converged"]
