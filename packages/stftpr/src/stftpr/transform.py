"""The short-time Fourier (discrete Gabor) transform on a lattice with hop ``a`` and ``M`` channels.

Conventions.
Frame ``p`` is centred at sample ``p * hop``: it multiplies the signal by the window
``g[j]``, ``j = 0 .. win_length - 1``, placed so that ``g[win_length // 2]`` sits on sample
``p * hop`` (the convention of :class:`scipy.signal.ShortTimeFFT`). The frames kept are all
those whose (non-zero part of the) window touches the signal ``x[0 .. L-1]``, so frame
indices run from a non-positive ``p_min`` to ``p_max(L) - 1``; outside the signal it is
taken as zero. With ``n = p * hop - win_length // 2 + j`` the coefficients are

* ``phase="freqinv"`` (frequency-invariant, the Gabor-analysis convention):
  ``c[m, p] = sum_n x[n] g[n - p*hop + win_length//2] exp(-2 pi i m n / M)``;
* ``phase="timeinv"`` (time-invariant, phase measured from the frame centre, what
  ``ShortTimeFFT`` returns): ``c[m, p] = sum_n x[n] g[...] exp(-2 pi i m (n - p*hop) / M)``.

The two differ by the factor ``exp(-2 pi i m p hop / M)``. Real signals use the one-sided
spectrum ``m = 0 .. M // 2`` (``onesided=True``); complex signals all ``M`` channels.
Coefficient arrays have shape ``(..., n_freqs, n_frames)``: any leading axes are a batch.

Since the window is no longer than the FFT (``win_length <= n_fft``), the frame operator is
diagonal and the canonical dual window is ``g / (M * sum_k |g[. + k*hop]|^2)``; synthesis
with it inverts the analysis to machine precision, and analysis after synthesis is the
orthogonal projection onto consistent coefficient arrays.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft

from stftpr.windows import WindowInfo, resolve_window

PHASE_CONVENTIONS = ("freqinv", "timeinv")


class STFT:
    """A short-time Fourier / discrete Gabor transform with its canonical dual.

    Parameters
    ----------
    n_fft
        Number of frequency channels ``M`` (FFT length).
    hop
        Time step ``a`` between frames, in samples.
    window
        ``"hann"`` (default), ``"hamming"``, ``"blackman"``, ``"gauss"``,
        ``("gauss", tfr)`` or an array of samples; see :func:`stftpr.windows.resolve_window`.
        For the Gaussian, ``lambda = tfr * hop * n_fft``.
    win_length
        Window length (default ``n_fft``); must not exceed ``n_fft``. Ignored for arrays.
    phase
        ``"freqinv"`` (default) or ``"timeinv"``; see the module documentation.
    onesided
        True (default) for real signals (``n_fft // 2 + 1`` channels), False for complex
        signals (all ``n_fft`` channels).

    Examples
    --------
    >>> import numpy as np
    >>> from stftpr import STFT
    >>> tf = STFT(n_fft=256, hop=64)
    >>> x = np.random.default_rng(0).standard_normal(1000)
    >>> c = tf.forward(x)
    >>> c.shape
    (129, 19)
    >>> bool(np.allclose(tf.inverse(c, length=1000), x))
    True
    """

    def __init__(
        self,
        n_fft: int,
        hop: int,
        window: str | tuple | np.ndarray = "hann",
        win_length: int | None = None,
        *,
        phase: str = "freqinv",
        onesided: bool = True,
    ) -> None:
        _positive_int("n_fft", n_fft)
        _positive_int("hop", hop)
        if win_length is None:
            win_length = int(np.asarray(window).size) if _is_array(window) else n_fft
        _positive_int("win_length", win_length)
        if phase not in PHASE_CONVENTIONS:
            raise ValueError(f"phase must be one of {PHASE_CONVENTIONS}, got {phase!r}")
        if not isinstance(onesided, bool | np.bool_):
            raise TypeError(f"onesided must be True or False, got {onesided!r}")
        info: WindowInfo = resolve_window(window, win_length, hop, n_fft)
        win = info.values
        if win.size > n_fft:
            raise ValueError(
                f"the window has {win.size} samples, longer than the FFT (n_fft={n_fft}); "
                "use n_fft >= window length"
            )
        self.n_fft = int(n_fft)
        self.hop = int(hop)
        self.window = win
        self.win_length = int(win.size)
        self.window_name = info.name
        self.lam = float(info.lam)
        self.phase = phase
        self.onesided = bool(onesided)
        self.n_freqs = self.n_fft // 2 + 1 if self.onesided else self.n_fft
        self._mid = self.win_length // 2
        nz = np.flatnonzero(win)
        self._j0, self._j1 = int(nz[0]), int(nz[-1])
        # lattice-periodic sum of squares S[j] = sum_k |g[j + k hop]|^2 at window index j
        w2 = win**2
        s = np.zeros(self.hop)
        np.add.at(s, np.arange(self.win_length) % self.hop, w2)
        if s.min() <= 1e-12 * s.max():
            raise ValueError(
                f"hop={hop} is too large for this window (support {self._j1 - self._j0 + 1} samples): "
                "some samples are covered by no frame, so the signal cannot be reconstructed"
            )
        self._sumsq = s[np.arange(self.win_length) % self.hop]
        #: synthesis window for numpy's inverse FFT convention (which divides by M)
        self._synth = win / self._sumsq
        self._cache: dict = {}

    # ------------------------------------------------------------------ description
    @property
    def redundancy(self) -> float:
        """Number of coefficients per signal sample, ``n_fft / hop`` (complex transform)."""
        return self.n_fft / self.hop

    @property
    def dual_window(self) -> np.ndarray:
        """The canonical dual window ``g / (M * sum_k |g[. + k*hop]|^2)``.

        With it, ``x[n] = sum_{m,p} c[m,p] gd[n - p*hop + win_length//2] exp(2 pi i m n / M)``
        (frequency-invariant coefficients over all ``M`` channels, no further normalisation).
        """
        return self._synth / self.n_fft

    @property
    def p_min(self) -> int:
        """Index of the first frame (centred at ``p_min * hop <= 0``) that touches the signal."""
        return -((self._j1 - self._mid) // self.hop)

    def p_max(self, length: int) -> int:
        """One past the index of the last frame that touches a signal of ``length`` samples."""
        return (length - 1 + self._mid - self._j0) // self.hop + 1

    def n_frames(self, length: int) -> int:
        """Number of frames for a signal of ``length`` samples."""
        _positive_int("length", length)
        return self.p_max(length) - self.p_min

    def max_length(self, n_frames: int) -> int:
        """Largest signal length whose transform has ``n_frames`` frames."""
        _positive_int("n_frames", n_frames)
        return (self.p_min + n_frames) * self.hop - self._mid + self._j0

    def coefficient_shape(self, length: int) -> tuple[int, int]:
        """``(n_freqs, n_frames)`` for a signal of ``length`` samples."""
        return (self.n_freqs, self.n_frames(length))

    def frame_centers(self, n_frames: int) -> np.ndarray:
        """Sample index of the centre of each frame, ``(p_min + arange(n_frames)) * hop``."""
        return (self.p_min + np.arange(n_frames)) * self.hop

    def frequencies(self, fs: float = 1.0) -> np.ndarray:
        """Centre frequency of each channel (``m / n_fft * fs``; negative above Nyquist when two-sided)."""
        if self.onesided:
            return sfft.rfftfreq(self.n_fft, 1.0 / fs)
        return sfft.fftfreq(self.n_fft, 1.0 / fs)

    def __repr__(self) -> str:
        return (
            f"STFT(n_fft={self.n_fft}, hop={self.hop}, window={self.window_name!r}, "
            f"win_length={self.win_length}, phase={self.phase!r}, onesided={self.onesided})"
        )

    # ------------------------------------------------------------------ validation
    def check_signal(self, x: np.ndarray, name: str = "x") -> np.ndarray:
        """Validate a signal (``(..., L)``, finite, real when ``onesided``) and return it as an array."""
        x = np.asarray(x)
        if x.dtype == object or not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.bool_):
            raise TypeError(f"{name} must be a numeric array, got dtype {x.dtype}")
        if x.ndim == 0 or x.shape[-1] == 0:
            raise ValueError(f"{name} must have at least one sample along its last axis, got shape {x.shape}")
        if self.onesided and np.iscomplexobj(x):
            raise TypeError(f"{name} is complex but the transform is onesided (real signals); use onesided=False")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains non-finite values (NaN or inf)")
        if np.issubdtype(x.dtype, np.integer):
            x = x.astype(np.float64)
        return x

    def check_magnitude(self, magnitude: np.ndarray, length: int | None = None, name: str = "magnitude") -> np.ndarray:
        """Validate a magnitude array against this transform and return it as a float array.

        Raises
        ------
        ValueError
            If it has negative or non-finite entries or a shape that does not match
            ``(..., n_freqs, n_frames)`` (both shapes are named in the message).
        """
        s = np.asarray(magnitude)
        if s.dtype == object or not np.issubdtype(s.dtype, np.number) or np.iscomplexobj(s):
            raise TypeError(f"{name} must be a real numeric array, got dtype {s.dtype}")
        s = s.astype(np.float32 if s.dtype == np.float32 else np.float64)
        expected = f"(..., {self.n_freqs}, " + (f"{self.n_frames(length)})" if length is not None else "n_frames)")
        if s.ndim < 2 or s.shape[-2] != self.n_freqs or (length is not None and s.shape[-1] != self.n_frames(length)):
            raise ValueError(
                f"{name} has shape {s.shape} but {self!r} expects {expected}"
                + (f" for length={length}" if length is not None else "")
            )
        if not np.all(np.isfinite(s)):
            raise ValueError(f"{name} contains non-finite values (NaN or inf)")
        if np.any(s < 0):
            raise ValueError(f"{name} contains negative values (min {s.min():.3g}); magnitudes must be >= 0")
        return s

    # ------------------------------------------------------------------ internal kernels
    # "raw" layout: (..., n_frames, n_freqs), phase measured from the first window sample.
    def _raw_analysis(self, x: np.ndarray) -> np.ndarray:
        L = x.shape[-1]
        N = self.n_frames(L)
        s0 = self.p_min * self.hop - self._mid
        total = (N - 1) * self.hop + self.win_length
        xp = np.zeros(x.shape[:-1] + (total,), dtype=x.dtype)
        xp[..., -s0 : -s0 + L] = x
        frames = np.lib.stride_tricks.sliding_window_view(xp, self.win_length, axis=-1)[..., :: self.hop, :]
        frames = frames * self.window.astype(x.real.dtype, copy=False)
        if self.onesided:
            return sfft.rfft(frames, n=self.n_fft, axis=-1)
        return sfft.fft(frames, n=self.n_fft, axis=-1)

    def _raw_synthesis(self, raw: np.ndarray, length: int, window: np.ndarray | None = None) -> np.ndarray:
        N = raw.shape[-2]
        if self.onesided:
            y = sfft.irfft(raw, n=self.n_fft, axis=-1)[..., : self.win_length]
        else:
            y = sfft.ifft(raw, n=self.n_fft, axis=-1)[..., : self.win_length]
        w = self._synth if window is None else window
        y = y * w.astype(y.real.dtype, copy=False)
        h = self.hop
        R = -(-self.win_length // h)
        if R * h != self.win_length:
            pad = [(0, 0)] * (y.ndim - 1) + [(0, R * h - self.win_length)]
            y = np.pad(y, pad)
        y = y.reshape(y.shape[:-1] + (R, h))
        out = np.zeros(y.shape[:-3] + (N + R - 1, h), dtype=y.dtype)
        for r in range(R):
            out[..., r : r + N, :] += y[..., :, r, :]
        out = out.reshape(out.shape[:-2] + (-1,))
        s0 = self.p_min * self.hop - self._mid
        return out[..., -s0 : -s0 + length]

    def _phase_factor(self, n_frames: int, dtype) -> np.ndarray:
        """Factor turning raw coefficients into the public convention, shape (n_frames, n_freqs)."""
        key = (n_frames, np.dtype(dtype).char)
        f = self._cache.get(key)
        if f is None:
            m = np.arange(self.n_freqs, dtype=np.int64)
            if self.phase == "timeinv":
                k = np.broadcast_to((m * self._mid) % self.n_fft, (n_frames, self.n_freqs))
                f = np.exp(2j * np.pi * k / self.n_fft)
            else:
                start = self.frame_centers(n_frames).astype(np.int64) - self._mid
                k = (start[:, None] * m[None, :]) % self.n_fft
                f = np.exp(-2j * np.pi * k / self.n_fft)
            f = f.astype(dtype)
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[key] = f
        return f

    def _to_raw(self, c: np.ndarray) -> np.ndarray:
        raw = np.swapaxes(c, -1, -2)
        return raw * np.conj(self._phase_factor(raw.shape[-2], raw.dtype))

    def _from_raw(self, raw: np.ndarray) -> np.ndarray:
        return np.swapaxes(raw * self._phase_factor(raw.shape[-2], raw.dtype), -1, -2)

    def _resolve_length(self, n_frames: int, length: int | None) -> int:
        if length is None:
            return self.max_length(n_frames)
        _positive_int("length", length)
        if self.n_frames(length) != n_frames:
            raise ValueError(
                f"length={length} gives {self.n_frames(length)} frames but the coefficients have {n_frames}"
            )
        return int(length)

    # ------------------------------------------------------------------ public transforms
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Analysis: the STFT coefficients of ``x``.

        Parameters
        ----------
        x
            Signal(s), shape ``(..., L)``; real when ``onesided``. float32 input gives
            complex64 output, everything else complex128.

        Returns
        -------
        numpy.ndarray
            Coefficients, shape ``(..., n_freqs, n_frames(L))``.
        """
        x = self.check_signal(x)
        return self._from_raw(self._raw_analysis(x))

    __call__ = forward

    def inverse(self, c: np.ndarray, length: int | None = None) -> np.ndarray:
        """Synthesis with the canonical dual window (the pseudo-inverse of :meth:`forward`).

        Parameters
        ----------
        c
            Coefficients, shape ``(..., n_freqs, n_frames)``.
        length
            Signal length; default :meth:`max_length` of the number of frames.

        Returns
        -------
        numpy.ndarray
            The signal(s) of least squares distance, shape ``(..., length)``; real when ``onesided``.
        """
        c = self._check_coefficients(c)
        L = self._resolve_length(c.shape[-1], length)
        return self._raw_synthesis(self._to_raw(c), L)

    def adjoint(self, c: np.ndarray, length: int | None = None) -> np.ndarray:
        """The adjoint of :meth:`forward` (synthesis with the analysis window, no normalisation).

        For ``onesided`` transforms the coefficients stand for the full Hermitian spectrum,
        so that ``<forward(x), c>`` summed over all ``M`` channels equals ``<x, adjoint(c)>``.
        """
        c = self._check_coefficients(c)
        L = self._resolve_length(c.shape[-1], length)
        return self._raw_synthesis(self._to_raw(c), L, window=self.window * self.n_fft)

    def project(self, c: np.ndarray, length: int | None = None) -> np.ndarray:
        """Orthogonal projection onto the consistent coefficient arrays, ``forward(inverse(c))``."""
        c = self._check_coefficients(c)
        L = self._resolve_length(c.shape[-1], length)
        return self._from_raw(self._raw_analysis(self._raw_synthesis(self._to_raw(c), L)))

    def magnitude(self, x: np.ndarray) -> np.ndarray:
        """``abs(forward(x))``, the spectrogram magnitude (not squared)."""
        return np.abs(self.forward(x))

    def _check_coefficients(self, c: np.ndarray) -> np.ndarray:
        c = np.asarray(c)
        if not np.issubdtype(c.dtype, np.number):
            raise TypeError(f"coefficients must be numeric, got dtype {c.dtype}")
        if c.ndim < 2 or c.shape[-2] != self.n_freqs:
            raise ValueError(f"coefficients have shape {c.shape} but {self!r} expects (..., {self.n_freqs}, n_frames)")
        if not np.iscomplexobj(c):
            c = c.astype(np.complex64 if c.dtype == np.float32 else np.complex128)
        return c


def _is_array(window: object) -> bool:
    return not isinstance(window, str | tuple)


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
