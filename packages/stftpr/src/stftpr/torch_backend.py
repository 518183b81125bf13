"""Torch backend (extra ``stftpr[torch]``): batched Griffin-Lim, Fast Griffin-Lim and ADMM on CPU or GPU.

The transform is the same as :class:`stftpr.STFT` (same frames, window, canonical dual and
phase convention), written with ``torch.fft`` so that whole batches of magnitudes iterate on
the device. :func:`griffin_lim` works on tensors and keeps them on their device;
``stftpr.reconstruct(..., backend="torch")`` uses the same code from numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from stftpr.transform import STFT

TORCH_METHODS = ("gla", "fgla", "admm")


def _torch():
    try:
        import torch
    except ImportError:
        raise ValueError("the torch backend needs PyTorch: pip install 'stftpr[torch]'") from None
    return torch


def default_device() -> str:
    """``"cuda"`` when a GPU is available, else ``"cpu"``."""
    torch = _torch()
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchSTFT:
    """The raw-layout analysis and synthesis of an :class:`stftpr.STFT` on torch tensors.

    Raw coefficients have shape ``(..., n_frames, n_freqs)`` and measure the phase from the
    first sample of each window; :meth:`to_raw` and :meth:`from_raw` convert from and to the
    transform's ``(..., n_freqs, n_frames)`` convention.

    Parameters
    ----------
    transform
        The numpy transform to mirror.
    device
        Torch device.
    dtype
        Real dtype (``torch.float32`` or ``torch.float64``).
    """

    def __init__(self, transform: STFT, device=None, dtype=None) -> None:
        torch = _torch()
        self.torch = torch
        self.tf = transform
        self.device = torch.device(device or default_device())
        self.dtype = dtype or torch.float64
        self.cdtype = torch.complex64 if self.dtype == torch.float32 else torch.complex128
        self.window = torch.as_tensor(transform.window, dtype=self.dtype, device=self.device)
        self.synth = torch.as_tensor(transform._synth, dtype=self.dtype, device=self.device)
        self._phase_cache: dict[int, object] = {}

    def analysis(self, x):
        """Raw coefficients of signals ``x`` (``(..., L)``)."""
        torch, tf = self.torch, self.tf
        L = x.shape[-1]
        N = tf.n_frames(L)
        s0 = tf.p_min * tf.hop - tf._mid
        total = (N - 1) * tf.hop + tf.win_length
        xp = torch.zeros(x.shape[:-1] + (total,), dtype=x.dtype, device=x.device)
        xp[..., -s0 : -s0 + L] = x
        frames = xp.unfold(-1, tf.win_length, tf.hop) * self.window
        if tf.onesided:
            return torch.fft.rfft(frames, n=tf.n_fft, dim=-1)
        return torch.fft.fft(frames, n=tf.n_fft, dim=-1)

    def synthesis(self, raw, length: int):
        """Signals of length ``length`` from raw coefficients (canonical dual window)."""
        torch, tf = self.torch, self.tf
        N = raw.shape[-2]
        if tf.onesided:
            y = torch.fft.irfft(raw, n=tf.n_fft, dim=-1)[..., : tf.win_length]
        else:
            y = torch.fft.ifft(raw, n=tf.n_fft, dim=-1)[..., : tf.win_length]
        y = y * self.synth
        h = tf.hop
        R = -(-tf.win_length // h)
        if R * h != tf.win_length:
            y = torch.nn.functional.pad(y, (0, R * h - tf.win_length))
        y = y.reshape(y.shape[:-1] + (R, h))
        out = torch.zeros(y.shape[:-3] + (N + R - 1, h), dtype=y.dtype, device=y.device)
        for r in range(R):
            out[..., r : r + N, :] += y[..., :, r, :]
        out = out.reshape(out.shape[:-2] + (-1,))
        s0 = tf.p_min * tf.hop - tf._mid
        return out[..., -s0 : -s0 + length]

    def _factor(self, n_frames: int):
        f = self._phase_cache.get(n_frames)
        if f is None:
            f = self.torch.as_tensor(self.tf._phase_factor(n_frames, np.complex128), device=self.device).to(self.cdtype)
            self._phase_cache[n_frames] = f
        return f

    def to_raw(self, c):
        """``(..., n_freqs, n_frames)`` coefficients in the transform's convention to raw layout."""
        raw = c.transpose(-1, -2)
        return raw * self._factor(raw.shape[-2]).conj()

    def from_raw(self, raw):
        """Raw layout to ``(..., n_freqs, n_frames)`` in the transform's convention."""
        return (raw * self._factor(raw.shape[-2])).transpose(-1, -2)


def _project_magnitude(torch, c, s, a=None):
    if a is None:
        a = c.abs()
    tiny = torch.finfo(a.dtype).tiny
    out = c * (s / a.clamp_min(tiny))
    return torch.where(a < tiny, s.to(c.dtype), out)


def _run(kind, ts: TorchSTFT, s_raw, c, L, n_iter, alpha, tol_db, on_iter, progress, rho=None):
    """The iterations on the device; returns the signal, consistent raw coefficients, SC history."""
    torch = ts.torch
    s_norm = torch.linalg.vector_norm(s_raw, dim=(-2, -1))
    hist = []
    t_prev = u = z = x = t = None
    converged = False
    bar = tqdm(total=n_iter, disable=not progress, desc=f"{kind} (torch)", leave=False)
    try:
        for it in range(1, n_iter + 1):
            if kind == "admm":
                if u is None:
                    u = torch.zeros_like(c)
                    z = c
                xa = _project_magnitude(torch, z - u, s_raw)
                v = xa + u
                x = ts.synthesis(v, L)
                t = ts.analysis(x)
                z = t if rho is None else (rho * t + v) / (1.0 + rho)
                u = v - z
                a = t.abs()
            else:
                x = ts.synthesis(c, L)
                t = ts.analysis(x)
                a = t.abs()
                if kind == "fgla" and t_prev is not None:
                    c = _project_magnitude(torch, t + alpha * (t - t_prev), s_raw)
                else:
                    c = _project_magnitude(torch, t, s_raw, a)
                if kind == "fgla":
                    t_prev = t
            err = torch.linalg.vector_norm(a - s_raw, dim=(-2, -1))
            sc = torch.where(err == 0, float("-inf"), 20.0 * torch.log10(err / s_norm))
            hist.append(sc)
            bar.update(1)
            stop = False
            if on_iter is not None and on_iter(it, sc, x):
                stop = True
            if tol_db is not None and bool((sc <= tol_db).all()):
                converged = True
                stop = True
            if stop:
                break
    finally:
        bar.close()
    if x is None:
        x = ts.synthesis(c, L)
        t = ts.analysis(x)
    return x, t, hist, converged


def griffin_lim(
    magnitude,
    transform: STFT,
    method: str = "fgla",
    n_iter: int = 100,
    *,
    phase=None,
    alpha: float = 0.99,
    rho: float | None = None,
    length: int | None = None,
    tol_db: float | None = None,
    seed: int | None = 0,
    progress: bool = False,
):
    """Griffin-Lim variants on torch tensors, batched over leading axes, on the tensor's device.

    Parameters
    ----------
    magnitude
        Tensor ``(..., n_freqs, n_frames)`` of magnitudes (float32 or float64).
    transform
        The transform.
    method
        ``"gla"``, ``"fgla"`` (default) or ``"admm"``.
    n_iter
        Iterations.
    phase
        Initial phase tensor of the magnitude's shape (default: uniform random, seeded).
    alpha
        Momentum of FGLA.
    rho
        ADMM penalty (None: indicator of the consistent set); see :mod:`stftpr.algorithms`.
    length
        Signal length (default: the largest consistent length).
    tol_db
        Stop when the spectral convergence of every batch item is at or below it.
    seed
        Seed of the random initial phase.
    progress
        Show a progress bar.

    Returns
    -------
    signal : torch.Tensor
        ``(..., L)`` on the magnitude's device.
    history : torch.Tensor
        Spectral convergence in dB per iteration, ``(n_iter, ...)``.
    """
    torch = _torch()
    if method not in TORCH_METHODS:
        raise ValueError(f"method must be one of {TORCH_METHODS}, got {method!r}")
    if not isinstance(magnitude, torch.Tensor):
        raise TypeError(f"magnitude must be a torch.Tensor, got {type(magnitude).__name__}")
    if magnitude.ndim < 2 or magnitude.shape[-2] != transform.n_freqs:
        raise ValueError(
            f"magnitude has shape {tuple(magnitude.shape)} but {transform!r} expects (..., {transform.n_freqs}, n_frames)"
        )
    if not bool(torch.isfinite(magnitude).all()) or bool((magnitude < 0).any()):
        raise ValueError("magnitude must hold finite non-negative values")
    dtype = magnitude.dtype if magnitude.dtype in (torch.float32, torch.float64) else torch.float64
    ts = TorchSTFT(transform, device=magnitude.device, dtype=dtype)
    s = magnitude.to(dtype)
    L = transform._resolve_length(s.shape[-1], length)
    if phase is None:
        gen = torch.Generator(device="cpu")
        gen.manual_seed(0 if seed is None else int(seed))
        phase = (torch.rand(s.shape, generator=gen, dtype=torch.float64) * 2 - 1) * np.pi
    phase = torch.as_tensor(phase, device=s.device).to(dtype)
    if phase.shape != s.shape:
        raise ValueError(f"phase has shape {tuple(phase.shape)} but magnitude has shape {tuple(s.shape)}")
    c = ts.to_raw(torch.polar(s, phase).to(ts.cdtype))
    s_raw = s.transpose(-1, -2).contiguous()
    x, _, hist, _ = _run(method, ts, s_raw, c, L, n_iter, alpha, tol_db, None, progress, rho)
    history = torch.stack(hist) if hist else torch.empty((0,) + tuple(s.shape[:-2]), device=s.device)
    return x, history


def iterate_torch(
    kind: str,
    s: np.ndarray,
    phase0: np.ndarray,
    transform: STFT,
    L: int,
    n_iter: int,
    *,
    alpha: float,
    tol_db: float | None,
    callback: Callable | None,
    progress: bool,
    device: str | None,
    rho: float | None = None,
):
    """The torch path of :func:`stftpr.reconstruct` (numpy in, numpy out)."""
    torch = _torch()
    from stftpr.algorithms import IterationState

    dtype = torch.float32 if s.dtype == np.float32 else torch.float64
    ts = TorchSTFT(transform, device=device, dtype=dtype)
    s_t = torch.as_tensor(s, device=ts.device, dtype=dtype)
    ph = torch.as_tensor(phase0, device=ts.device, dtype=dtype)
    c = ts.to_raw(torch.polar(s_t, ph).to(ts.cdtype))
    s_raw = s_t.transpose(-1, -2).contiguous()

    on_iter = None
    if callback is not None:

        def on_iter(it, sc, x):
            return callback(IterationState(it, sc.cpu().numpy(), x.cpu().numpy()))

    x, t, hist, converged = _run(kind, ts, s_raw, c, L, n_iter, alpha, tol_db, on_iter, progress, rho)
    hist_np = [h.cpu().numpy() for h in hist]
    return x.cpu().numpy(), ts.from_raw(t).cpu().numpy(), hist_np, converged
