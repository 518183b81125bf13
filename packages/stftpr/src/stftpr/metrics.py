"""Quality measures for phase retrieval.

All decibel values are ``20 log10`` of a ratio of Euclidean norms (``10 log10`` of energies).
"""

from __future__ import annotations

import numpy as np

from stftpr.transform import STFT


def _db(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``20 log10(num / den)``: -inf when ``num`` is 0, +inf when only ``den`` is 0."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 20.0 * np.log10(num / den)
    return np.where(num == 0, -np.inf, out)


def spectral_convergence(magnitude: np.ndarray, x: np.ndarray, transform: STFT) -> np.ndarray | float:
    """Spectral convergence ``20 log10(|| |T x| - s || / || s ||)`` in dB (lower is better).

    Parameters
    ----------
    magnitude
        Target magnitudes ``s``, shape ``(..., n_freqs, n_frames)``.
    x
        Signal(s), shape ``(..., L)`` with ``n_frames(L)`` matching, or complex coefficients
        with the same shape as ``magnitude``.
    transform
        The transform.

    Returns
    -------
    float or numpy.ndarray
        One value per batch item (a float when there is no batch axis).
    """
    s = transform.check_magnitude(magnitude)
    x = np.asarray(x)
    if np.iscomplexobj(x) and x.shape == s.shape:
        a = np.abs(x)
    else:
        x = transform.check_signal(x)
        a = np.abs(transform.forward(x))
        if a.shape[-1] != s.shape[-1]:
            raise ValueError(
                f"the signal of length {x.shape[-1]} has {a.shape[-1]} frames but magnitude has shape {s.shape}"
            )
    out = _db(np.linalg.norm(a - s, axis=(-2, -1)), np.linalg.norm(s, axis=(-2, -1)))
    return float(out) if out.ndim == 0 else out


def inconsistency(c: np.ndarray, transform: STFT, length: int | None = None) -> np.ndarray | float:
    """Distance of coefficients to the consistent ones, ``20 log10(||c - P c|| / ||c||)`` in dB.

    ``P`` is the orthogonal projection :meth:`STFT.project`; consistent coefficients (the
    STFT of some signal) give about -300 dB, i.e. machine precision.
    """
    c = np.asarray(c)
    pc = transform.project(c, length)
    out = _db(np.linalg.norm(c - pc, axis=(-2, -1)), np.linalg.norm(c, axis=(-2, -1)))
    return float(out) if out.ndim == 0 else out


ALIGNMENTS = ("global", "analytic", "none")


def align_global(x_true: np.ndarray, x_est: np.ndarray, *, analytic: bool = False) -> np.ndarray:
    """``x_est`` aligned to ``x_true`` by the best global phase.

    Parameters
    ----------
    x_true, x_est
        Signals of the same shape ``(..., L)``.
    analytic
        For real signals: rotate the analytic signal of ``x_est``,
        ``cos(theta) x_est - sin(theta) H x_est`` (``H`` the Hilbert transform), instead of
        only allowing a sign. Real signals whose spectrum stays away from 0 and Nyquist
        have one-sided STFT magnitudes that hardly change under such a rotation, so
        algorithms recover them up to it; with ``analytic=False`` (default) only the exact
        symmetry of real signals, the sign, is removed.

    Returns
    -------
    numpy.ndarray
        ``x_est`` times the unimodular constant closest to ``x_true`` (complex signals), its
        best sign (real signals), or its best analytic rotation (real, ``analytic=True``).
    """
    x_true, x_est = _pair(x_true, x_est)
    if np.iscomplexobj(x_true) or np.iscomplexobj(x_est):
        inner = np.sum(np.conj(x_est) * x_true, axis=-1, keepdims=True)
        return x_est * np.exp(1j * np.angle(inner))
    if analytic:
        from scipy.signal import hilbert

        hx = np.imag(hilbert(x_est, axis=-1))
        p = np.sum(x_true * x_est, axis=-1, keepdims=True)
        q = np.sum(x_true * hx, axis=-1, keepdims=True)
        theta = np.arctan2(-q, p)
        return np.cos(theta) * x_est - np.sin(theta) * hx
    inner = np.sum(x_est * x_true, axis=-1, keepdims=True)
    return x_est * np.where(inner >= 0, 1.0, -1.0)


def snr(x_true: np.ndarray, x_est: np.ndarray, *, align: str = "global") -> np.ndarray | float:
    """Signal-to-noise ratio ``20 log10(||x|| / ||x - x_est||)`` in dB after alignment.

    Parameters
    ----------
    x_true, x_est
        Signals of the same shape ``(..., L)``.
    align
        ``"global"`` (default): up to a global phase (complex) or sign (real);
        ``"analytic"``: real signals up to a rotation of the analytic signal (see
        :func:`align_global`); ``"none"``: no alignment.
    """
    if align not in ALIGNMENTS:
        raise ValueError(f"align must be one of {ALIGNMENTS}, got {align!r}")
    x_true, x_est = _pair(x_true, x_est)
    if align != "none":
        x_est = align_global(x_true, x_est, analytic=align == "analytic")
    out = _db(np.linalg.norm(x_true, axis=-1), np.linalg.norm(x_true - x_est, axis=-1))
    return float(out) if out.ndim == 0 else out


def align_per_island(
    c_true: np.ndarray,
    c_est: np.ndarray,
    labels: np.ndarray,
) -> np.ndarray:
    """Rotate the coefficients of each island of ``c_est`` by the phase that best matches ``c_true``.

    Parameters
    ----------
    c_true, c_est
        Coefficients of shape ``(n_freqs, n_frames)``.
    labels
        Island labels of the same shape: 0 outside the islands, 1..K inside.

    Returns
    -------
    numpy.ndarray
        ``c_est`` with island ``k`` multiplied by ``exp(i theta_k)``,
        ``theta_k = angle(<c_est, c_true>`` over island ``k``); coefficients outside the islands
        are aligned by the phase over all of them together.
    """
    c_true = np.asarray(c_true)
    c_est = np.asarray(c_est)
    labels = np.asarray(labels)
    if c_true.shape != c_est.shape or labels.shape != c_true.shape:
        raise ValueError(
            f"c_true {c_true.shape}, c_est {c_est.shape} and labels {labels.shape} must have the same shape"
        )
    out = np.array(c_est, dtype=np.complex128, copy=True)
    for k in np.unique(labels):
        sel = labels == k
        inner = np.sum(np.conj(c_est[sel]) * c_true[sel])
        out[sel] *= np.exp(1j * np.angle(inner))
    return out


def snr_per_island(
    x_true: np.ndarray,
    x_est: np.ndarray,
    transform: STFT,
    labels: np.ndarray,
) -> float:
    """SNR in dB after aligning the phase of ``x_est`` separately on each island.

    The STFT of ``x_est`` is rotated island by island (:func:`align_per_island`) to match the
    STFT of ``x_true``, synthesised with the canonical dual and compared with ``x_true``.
    This is the natural error measure when the magnitude splits into islands, where the
    signal is determined only up to one phase per island (Alaifari, Daubechies, Grohs, Yin).

    Parameters
    ----------
    x_true, x_est
        One signal each, shape ``(L,)``.
    transform
        The transform.
    labels
        Island labels ``(n_freqs, n_frames)`` as returned by :func:`stftpr.find_islands`.
    """
    x_true, x_est = _pair(x_true, x_est)
    if x_true.ndim != 1:
        raise ValueError(f"snr_per_island takes one signal, got shape {x_true.shape}")
    c_true = transform.forward(x_true)
    c_est = transform.forward(x_est)
    aligned = transform.inverse(align_per_island(c_true, c_est, labels), length=x_true.shape[-1])
    if not np.iscomplexobj(x_true):
        aligned = aligned.real
    return float(_db(np.linalg.norm(x_true), np.linalg.norm(x_true - aligned)))


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"signals must have the same shape, got {a.shape} and {b.shape}")
    for name, v in (("x_true", a), ("x_est", b)):
        if not np.issubdtype(v.dtype, np.number):
            raise TypeError(f"{name} must be numeric, got dtype {v.dtype}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} contains non-finite values")
    return a, b
