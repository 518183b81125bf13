"""File-level workflows behind the CLI: invert a magnitude, diagnose a recording."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from stftpr.algorithms import reconstruct
from stftpr.diagnostics import StabilityReport, diagnose
from stftpr.io import read_audio, read_magnitude, write_audio, write_text
from stftpr.transform import STFT


def load_magnitude(
    path: str | Path, transform: STFT, *, sample_rate: int | None = None
) -> tuple[np.ndarray, int | None, int | None]:
    """Magnitude to invert from an audio file (its STFT magnitude) or a ``.npy`` array.

    Returns
    -------
    magnitude : numpy.ndarray
        ``(channels, n_freqs, n_frames)``.
    sample_rate : int or None
        From the audio file, else ``sample_rate``.
    length : int or None
        Number of samples of the audio file (None for arrays).
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        s = read_magnitude(path)
        if s.ndim not in (2, 3):
            raise ValueError(
                f"the magnitude array in {str(path)!r} has shape {s.shape}; expected (n_freqs, n_frames) "
                f"or (channels, n_freqs, n_frames) with n_freqs = {transform.n_freqs} for n_fft={transform.n_fft}"
            )
        s = transform.check_magnitude(s, name=f"the magnitude array in {str(path)!r}")
        return (s[None] if s.ndim == 2 else s), sample_rate, None
    x, fs = read_audio(path)
    return np.abs(transform.forward(x)), fs, x.shape[-1]


def invert_file(
    input_path: str | Path,
    output_path: str | Path,
    transform: STFT,
    *,
    method: str = "pghi+fgla",
    n_iter: int = 100,
    tol_db: float | None = None,
    seed: int = 0,
    sample_rate: int | None = None,
    length: int | None = None,
    history_path: str | Path | None = None,
    progress: bool = False,
    backend: str = "numpy",
    device: str | None = None,
) -> dict[str, Any]:
    """Magnitude-only resynthesis: read, keep only the STFT magnitude, reconstruct, write audio.

    Parameters
    ----------
    input_path
        An audio file (its phase is discarded) or a ``.npy`` magnitude array
        ``(n_freqs, n_frames)`` / ``(channels, n_freqs, n_frames)`` made with ``transform``.
    output_path
        Output audio file (format from the extension), written atomically.
    transform
        The STFT.
    method, n_iter, tol_db, seed
        Passed to :func:`stftpr.reconstruct`.
    sample_rate
        Sampling rate of the output; required for ``.npy`` input.
    length
        Output length in samples for ``.npy`` input (default: the largest consistent length).
    history_path
        Optional CSV of the spectral convergence per iteration (one column per channel).
    progress
        Show a progress bar.
    backend, device
        Passed to :func:`stftpr.reconstruct`.

    Returns
    -------
    dict
        ``output``, ``sample_rate``, ``channels``, ``length``, ``method``, ``n_iter``,
        ``spectral_convergence_db`` (per channel) and ``seconds``.
    """
    s, fs, n = load_magnitude(input_path, transform, sample_rate=sample_rate)
    if fs is None:
        raise ValueError("--sr (sample_rate) is required when the input is a .npy magnitude array")
    if isinstance(fs, bool) or not isinstance(fs, int) or fs < 1:
        raise ValueError(f"sample_rate must be a positive integer, got {fs!r}")
    L = n if n is not None else length
    t0 = time.perf_counter()
    res = reconstruct(
        s, transform, method, n_iter=n_iter, tol_db=tol_db, seed=seed, length=L, progress=progress,
        backend=backend, device=device,
    )
    seconds = time.perf_counter() - t0
    write_audio(output_path, res.signal, fs)
    sc = np.atleast_1d(res.spectral_convergence).tolist()
    if history_path is not None:
        hist = res.history.reshape(res.history.shape[0], -1)
        header = "iteration," + ",".join(f"channel_{i}" for i in range(hist.shape[1]))
        rows = [f"{i + 1}," + ",".join(f"{v:.6f}" for v in row) for i, row in enumerate(hist)]
        write_text(history_path, "\n".join([header, *rows]) + "\n")
    return {
        "output": str(output_path),
        "sample_rate": fs,
        "channels": int(s.shape[0]),
        "length": int(res.signal.shape[-1]),
        "method": method,
        "n_iter": res.n_iter,
        "spectral_convergence_db": sc,
        "seconds": seconds,
    }


def diagnose_file(
    input_path: str | Path,
    transform: STFT,
    *,
    threshold: float = 1e-2,
    sample_rate: int | None = None,
    plot_path: str | Path | None = None,
) -> tuple[StabilityReport, dict[str, Any]]:
    """Stability report of a recording (channels mixed to mono) or of a ``.npy`` magnitude.

    Parameters
    ----------
    input_path
        Audio file or ``.npy`` magnitude array.
    transform
        The STFT.
    threshold
        Relative island threshold.
    sample_rate
        For the plot axes of ``.npy`` input.
    plot_path
        Optional PNG with the spectrogram, islands, cut and Fiedler vector.

    Returns
    -------
    report : StabilityReport
        The report.
    summary : dict
        Its numbers, JSON-ready.
    """
    path = Path(input_path)
    if path.suffix.lower() == ".npy":
        s, fs, _ = load_magnitude(path, transform, sample_rate=sample_rate)
        if s.shape[0] != 1:
            s = np.sqrt(np.mean(s**2, axis=0, keepdims=True))
        s = s[0]
    else:
        x, fs = read_audio(path)
        s = np.abs(transform.forward(x.mean(axis=0)))
    report = diagnose(s, transform, threshold=threshold)
    if plot_path is not None:
        from stftpr.plotting import plot_report

        plot_report(s, report, plot_path, fs=float(fs or 1.0), hop=transform.hop, n_fft=transform.n_fft, title=path.name)
    summary = {
        "input": str(path),
        "regime": report.regime,
        "n_islands": report.n_islands,
        "island_energy_shares": [i.energy_share for i in report.islands],
        "algebraic_connectivity": report.algebraic_connectivity,
        "cheeger_lower": report.cheeger_lower,
        "cheeger_upper": report.cheeger_upper,
        "bottleneck": report.bottleneck,
        "coarsening": report.coarsening,
        "threshold": threshold,
    }
    return report, summary
