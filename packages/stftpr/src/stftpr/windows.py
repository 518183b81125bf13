"""Analysis windows and their Gaussian phase-gradient constants.

Every window is returned as a real array of length ``win_length`` whose centre is the
sample ``win_length // 2`` (the convention of :class:`scipy.signal.ShortTimeFFT`).
The cosine windows are the DFT-even ("periodic") forms of :func:`scipy.signal.get_window`.

The Gaussian window is

.. math:: g[n] = \\exp(-\\pi (n - n_c)^2 / \\lambda), \\qquad \\lambda = \\mathrm{tfr}\\, a M,

so that ``tfr = 1`` is the Gaussian whose time and frequency spreads are equal when measured
in lattice units (hop ``a`` samples, ``M`` channels); this is the default Gaussian of the
Prusa, Balazs and Soendergaard paper and of LTFAT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Gaussian constant lambda / win_length**2 of the common windows (Prusa, Balazs and
#: Soendergaard 2017, Table I; the values LTFAT's ``pghi`` uses).
LAMBDA_FACTORS: dict[str, float] = {
    "hann": 0.25645,
    "hamming": 0.29794,
    "blackman": 0.17954,
}

WINDOW_NAMES = ("gauss", "hann", "hamming", "blackman")


@dataclass(frozen=True)
class WindowInfo:
    """A resolved window."""

    values: np.ndarray
    """The window samples (real, length ``win_length``)."""
    name: str
    """``"gauss"``, ``"hann"``, ``"hamming"``, ``"blackman"`` or ``"custom"``."""
    lam: float
    """The constant ``lambda`` (in samples squared) of the Gaussian ``exp(-pi n^2 / lambda)`` that the window is (Gaussian) or best resembles (others), used by PGHI to turn log-magnitude gradients into phase gradients."""


def gaussian(win_length: int, lam: float) -> np.ndarray:
    """Sampled Gaussian ``exp(-pi (n - win_length // 2)^2 / lam)``, ``n = 0 .. win_length - 1``.

    Parameters
    ----------
    win_length
        Number of samples.
    lam
        Width parameter lambda in samples squared (the time variance is ``lam / (2 pi)``).

    Returns
    -------
    numpy.ndarray
        The window, peak value 1 at index ``win_length // 2``.
    """
    _check_positive_int("win_length", win_length)
    if not (np.isfinite(lam) and lam > 0):
        raise ValueError(f"lam must be a finite positive number, got {lam!r}")
    n = np.arange(win_length) - win_length // 2
    return np.exp(-np.pi * n.astype(float) ** 2 / lam)


def cosine_window(name: str, win_length: int) -> np.ndarray:
    """DFT-even Hann, Hamming or Blackman window centred at ``win_length // 2``.

    Parameters
    ----------
    name
        ``"hann"``, ``"hamming"`` or ``"blackman"``.
    win_length
        Number of samples.

    Returns
    -------
    numpy.ndarray
        The window; it equals ``scipy.signal.get_window(name, win_length)``.
    """
    _check_positive_int("win_length", win_length)
    t = 2.0 * np.pi * np.arange(win_length) / win_length
    if name == "hann":
        return 0.5 - 0.5 * np.cos(t)
    if name == "hamming":
        return 0.54 - 0.46 * np.cos(t)
    if name == "blackman":
        w = 0.42 - 0.5 * np.cos(t) + 0.08 * np.cos(2 * t)
        w[np.abs(w) < 1e-15] = 0.0
        return w
    raise ValueError(f"window must be one of {WINDOW_NAMES} or an array, got {name!r}")


def fit_gaussian_lambda(window: np.ndarray) -> float:
    """Least-squares fit of ``exp(-pi (n - n_c)^2 / lambda)`` to a peak-normalised window.

    The fit is a one-dimensional bounded minimisation over lambda; the centre ``n_c`` is
    ``len(window) // 2``. For the Hann, Hamming and Blackman windows it reproduces the
    published constants of :data:`LAMBDA_FACTORS` to within 2 %.

    Parameters
    ----------
    window
        Real window samples.

    Returns
    -------
    float
        The fitted lambda in samples squared.
    """
    from scipy.optimize import minimize_scalar

    w = np.abs(np.asarray(window, dtype=float))
    if w.max() <= 0:
        raise ValueError("window must have a non-zero sample")
    w = w / w.max()
    n = np.arange(w.size) - w.size // 2
    n2 = n.astype(float) ** 2
    span = float(max(w.size, 2)) ** 2

    def cost(log_lam: float) -> float:
        return float(np.sum((w - np.exp(-np.pi * n2 / np.exp(log_lam))) ** 2))

    res = minimize_scalar(cost, bounds=(np.log(1e-4 * span), np.log(10.0 * span)), method="bounded")
    return float(np.exp(res.x))


def resolve_window(
    window: str | tuple | np.ndarray,
    win_length: int,
    hop: int,
    n_fft: int,
) -> WindowInfo:
    """Turn a window specification into samples and its Gaussian constant.

    Parameters
    ----------
    window
        ``"hann"``, ``"hamming"``, ``"blackman"``, ``"gauss"`` (``tfr = 1``),
        ``("gauss", tfr)``, or an array of samples (centre at ``len // 2``).
    win_length
        Window length in samples (ignored for arrays, whose length is used).
    hop
        Hop size ``a`` in samples (used by the Gaussian).
    n_fft
        Number of channels ``M`` (used by the Gaussian).

    Returns
    -------
    WindowInfo
        The window samples, its name and its lambda.
    """
    if isinstance(window, str):
        name = window.lower()
        if name in ("gauss", "gaussian"):
            return resolve_window(("gauss", 1.0), win_length, hop, n_fft)
        values = cosine_window(name, win_length)
        return WindowInfo(values, name, LAMBDA_FACTORS[name] * win_length**2)
    if isinstance(window, tuple):
        if len(window) != 2 or not isinstance(window[0], str) or window[0].lower() not in ("gauss", "gaussian"):
            raise ValueError(f"window tuple must be ('gauss', tfr), got {window!r}")
        tfr = window[1]
        if isinstance(tfr, bool) or not isinstance(tfr, int | float | np.floating | np.integer) or not np.isfinite(tfr) or tfr <= 0:
            raise ValueError(f"the Gaussian time-frequency ratio tfr must be a finite positive number, got {tfr!r}")
        lam = float(tfr) * hop * n_fft
        return WindowInfo(gaussian(win_length, lam), "gauss", lam)
    try:
        values = np.asarray(window)
    except Exception as exc:  # pragma: no cover - defensive
        raise TypeError(f"window must be a name, ('gauss', tfr) or an array, got {type(window).__name__}") from exc
    if values.dtype == object or values.ndim != 1 or values.size == 0:
        raise ValueError(
            "window must be a name, ('gauss', tfr) or a non-empty 1-D array, "
            f"got an array of shape {values.shape}"
        )
    if not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
        raise TypeError(f"window array must be real, got dtype {values.dtype}")
    values = values.astype(float)
    if not np.all(np.isfinite(values)):
        raise ValueError("window array must be finite")
    if not np.any(values != 0):
        raise ValueError("window array must have a non-zero sample")
    return WindowInfo(values, "custom", fit_gaussian_lambda(values))


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
