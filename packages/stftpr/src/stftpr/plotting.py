"""Plots (matplotlib, from the ``plot`` extra), saved as PNG files atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stftpr.diagnostics import StabilityReport
from stftpr.io import atomic_write


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("plotting needs matplotlib: pip install 'stftpr[plot]'") from None
    return plt


def plot_report(
    magnitude: np.ndarray,
    report: StabilityReport,
    path: str | Path,
    *,
    fs: float = 1.0,
    hop: int = 1,
    n_fft: int | None = None,
    title: str | None = None,
) -> Path:
    """Spectrogram with the islands and the best cut, and the Fiedler vector; saved as PNG.

    Parameters
    ----------
    magnitude
        Magnitudes ``(n_freqs, n_frames)``.
    report
        The :class:`~stftpr.StabilityReport` of the magnitude.
    path
        Output PNG path.
    fs, hop, n_fft
        Sampling rate, hop and FFT length, for the axes (samples and channels when omitted).
    title
        Figure title.
    """
    plt = _pyplot()
    s = np.asarray(magnitude, dtype=float)
    n_fft = n_fft or 2 * (s.shape[0] - 1)
    db = 20 * np.log10(np.maximum(s / s.max(), 1e-6))
    extent = [0, s.shape[1] * hop / fs, 0, (s.shape[0] - 1) * fs / n_fft]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    im = axes[0].imshow(db, origin="lower", aspect="auto", extent=extent, cmap="magma", vmin=-100, vmax=0)
    fig.colorbar(im, ax=axes[0], label="dB")
    if report.labels.max() > 0:
        axes[0].contour(report.labels > 0, levels=[0.5], colors="cyan", linewidths=0.8, extent=extent, origin="lower")
    if report.cut.any() and not report.cut.all():
        axes[0].contour(report.cut.astype(float), levels=[0.5], colors="lime", linewidths=0.8, linestyles="--", extent=extent, origin="lower")
    axes[0].set_title(f"|STFT| in dB; islands (cyan), best cut (green); regime: {report.regime}")
    fied = np.ma.masked_invalid(report.fiedler)
    im2 = axes[1].imshow(fied, origin="lower", aspect="auto", extent=extent, cmap="coolwarm")
    fig.colorbar(im2, ax=axes[1])
    axes[1].set_title(f"Fiedler vector (algebraic connectivity {report.algebraic_connectivity:.3g})")
    unit_t = "s" if fs != 1.0 else "samples"
    unit_f = "Hz" if fs != 1.0 else "cycles/sample"
    for ax in axes:
        ax.set_xlabel(f"time ({unit_t})")
        ax.set_ylabel(f"frequency ({unit_f})")
    if title:
        fig.suptitle(title)
    out = atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return out


def plot_history(histories: dict[str, np.ndarray], path: str | Path, *, title: str | None = None) -> Path:
    """Spectral convergence against iteration for several methods; saved as PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    for name, h in histories.items():
        ax.plot(np.arange(1, len(h) + 1), h, label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("spectral convergence (dB)")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    out = atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return out
