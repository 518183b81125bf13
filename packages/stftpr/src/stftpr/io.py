"""Audio and array input/output (through ``soundfile``), written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read an audio file.

    Parameters
    ----------
    path
        Any format libsndfile reads (WAV, FLAC, OGG, ...).

    Returns
    -------
    signal : numpy.ndarray
        Float64 samples, shape ``(channels, L)``.
    sample_rate : int
        Sampling rate in Hz.

    Raises
    ------
    ValueError
        If the file cannot be read, is empty or holds non-finite samples.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"audio file {str(path)!r} does not exist")
    try:
        data, fs = sf.read(str(path), dtype="float64", always_2d=True)
    except Exception as exc:  # libsndfile raises its own error types
        raise ValueError(f"cannot read audio file {str(path)!r}: {exc}") from None
    if data.shape[0] == 0:
        raise ValueError(f"audio file {str(path)!r} has no samples")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"audio file {str(path)!r} contains non-finite samples (NaN or inf)")
    return np.ascontiguousarray(data.T), int(fs)


def atomic_write(path: str | Path, writer: Callable[[str], Any]) -> Path:
    """Call ``writer(tmp_path)`` on a temporary file next to ``path``, then rename it to ``path``.

    Nothing is left behind when ``writer`` fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".partial{path.suffix}")
    os.close(fd)
    try:
        writer(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_audio(path: str | Path, signal: np.ndarray, sample_rate: int, *, subtype: str | None = "FLOAT") -> Path:
    """Write ``signal`` (``(L,)`` or ``(channels, L)``) as an audio file, atomically.

    The format follows the file extension; ``subtype`` defaults to 32-bit float so that
    reconstructions whose peaks exceed 1 are not clipped (use ``"PCM_16"`` for 16-bit).
    """
    import soundfile as sf

    path = Path(path)
    fmt = path.suffix.lstrip(".").upper()
    if not fmt or fmt not in sf.available_formats():
        raise ValueError(f"cannot write audio to {str(path)!r}: unknown extension; use .wav, .flac or .ogg")
    data = np.asarray(signal, dtype=np.float64)
    if not np.all(np.isfinite(data)):
        raise ValueError("the signal to write contains non-finite samples")
    data = data.T if data.ndim == 2 else data
    if subtype is not None and not sf.check_format(fmt, subtype):
        subtype = None
    return atomic_write(path, lambda tmp: sf.write(tmp, data, int(sample_rate), format=fmt, subtype=subtype))


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, default=_json_default) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_magnitude(path: str | Path) -> np.ndarray:
    """Read a magnitude array from a ``.npy`` file (no pickles)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"magnitude file {str(path)!r} does not exist")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"cannot read magnitude array {str(path)!r}: {exc}") from None
    return arr


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot serialise {type(o).__name__}")
