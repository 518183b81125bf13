"""MRC files (MRC2014, as written by IMOD, RELION and SHREC) through :mod:`mrcfile`.

Volumes are indexed ``(z, y, x)`` and tilt series ``(n_tilts, height, width)``, which is the
order :mod:`mrcfile` uses for the data block (sections, rows, columns). Voxel sizes are in
Angstrom and ordered ``(x, y, z)`` as in the MRC header.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mrcfile
import numpy as np

from faket._io import atomic_write, check_output_path

__all__ = ["MRCVolume", "read_mrc", "write_mrc", "HEADER_FIELDS_KEPT"]

#: Header fields that :func:`write_mrc` copies from a ``header`` it is given (besides the voxel
#: size, which is its own argument): the origin, the space group (image stack or volume) and
#: the text labels.
HEADER_FIELDS_KEPT = ("origin", "ispg", "nlabl", "label")

_INT_TYPES = (np.int8, np.int16, np.uint16)


@dataclass
class MRCVolume:
    """Data and metadata of an MRC file.

    Attributes
    ----------
    data : numpy.ndarray
        The data block, indexed ``(z, y, x)`` (3-D) or ``(y, x)`` (2-D); a read-only memory map
        when read with ``mmap=True``.
    voxel_size : tuple of float
        Voxel size ``(x, y, z)`` in Angstrom.
    header : numpy.recarray
        A copy of the 1024-byte MRC header (fields as in :mod:`mrcfile`).
    extended_header : numpy.ndarray
        A copy of the extended header (empty when there is none).
    """

    data: np.ndarray
    voxel_size: tuple[float, float, float]
    header: Any
    extended_header: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="V1"))

    @property
    def labels(self) -> list[str]:
        """The text labels of the header."""
        n = int(self.header.nlabl)
        return [bytes(lab).rstrip(b"\0 ").decode("ascii", "replace") for lab in self.header.label[:n]]

    @property
    def origin(self) -> tuple[float, float, float]:
        """Origin ``(x, y, z)`` of the header, in Angstrom."""
        o = self.header.origin
        return (float(o.x), float(o.y), float(o.z))


def read_mrc(path: str | os.PathLike, *, mmap: bool = False, permissive: bool = False) -> MRCVolume:
    """Read an MRC file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    mmap : bool
        Memory-map the data (read-only) instead of reading it into memory: for large files.
    permissive : bool
        Read files that break the MRC2014 format in ways :mod:`mrcfile` can work around (wrong
        map ID, machine stamp, file size ...), issuing a ``RuntimeWarning`` for each problem,
        instead of raising.

    Returns
    -------
    MRCVolume
        Data, voxel size ``(x, y, z)`` and a copy of the header.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a readable MRC file or holds no data.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"path={str(p)!r}: no such MRC file")
    opener = mrcfile.mmap if mmap else mrcfile.open
    try:
        with warnings.catch_warnings():
            if permissive:
                warnings.simplefilter("always", RuntimeWarning)
            with opener(p, mode="r", permissive=permissive) as mrc:
                data = mrc.data
                if data is None:
                    raise ValueError(f"path={str(p)!r}: no data block could be read (not an MRC file?)")
                header = mrc.header.copy()
                ext = np.array(mrc.extended_header, copy=True)
                vs = mrc.voxel_size
                voxel_size = (float(vs.x), float(vs.y), float(vs.z))
                if not mmap:
                    data = np.array(data, copy=True)
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith(f"path={str(p)!r}"):
            raise
        raise ValueError(f"path={str(p)!r} is not a valid MRC file ({msg}); pass permissive=True (CLI: --permissive) to read it anyway") from None
    if data.size == 0:
        raise ValueError(f"path={str(p)!r}: the MRC file holds no voxels (shape {data.shape})")
    if not mmap and data.dtype.byteorder not in ("=", "|"):
        data = data.astype(data.dtype.newbyteorder("="))
    return MRCVolume(data=data, voxel_size=voxel_size, header=header, extended_header=ext)


def _as_mrc_dtype(data: np.ndarray) -> np.ndarray:
    if data.dtype in (np.float32, *[np.dtype(t) for t in _INT_TYPES]):
        return np.ascontiguousarray(data)
    if np.issubdtype(data.dtype, np.floating):
        return np.ascontiguousarray(data, dtype=np.float32)
    if data.dtype == np.bool_ or np.issubdtype(data.dtype, np.integer):
        lo, hi = (int(data.min()), int(data.max())) if data.size else (0, 0)
        if lo >= np.iinfo(np.int16).min and hi <= np.iinfo(np.int16).max:
            return np.ascontiguousarray(data, dtype=np.int16)
        raise ValueError(f"data: integer values in [{lo}, {hi}] do not fit MRC mode 1 (int16); convert to float32")
    raise TypeError(f"data: dtype {data.dtype} cannot be stored in an MRC file; accepted: float, int8/int16/uint16, bool")


def _voxel_triple(voxel_size: float | tuple[float, float, float]) -> tuple[float, float, float]:
    if np.ndim(voxel_size) == 0:
        v = (float(voxel_size),) * 3  # type: ignore[arg-type]
    else:
        if len(voxel_size) != 3:  # type: ignore[arg-type]
            raise ValueError(f"voxel_size={voxel_size!r}: expected a number or (x, y, z)")
        v = tuple(float(t) for t in voxel_size)  # type: ignore[union-attr]
    if not all(np.isfinite(t) and t > 0 for t in v):
        raise ValueError(f"voxel_size={voxel_size!r}: expected positive finite Angstrom values")
    return v  # type: ignore[return-value]


def write_mrc(
    path: str | os.PathLike,
    data: np.ndarray,
    *,
    voxel_size: float | tuple[float, float, float] = 1.0,
    overwrite: bool = False,
    header: Any | None = None,
    stack: bool | None = None,
    labels: list[str] | None = None,
) -> Path:
    """Write an MRC2014 file atomically and check it with :func:`mrcfile.validate`.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; written under a temporary name and renamed when complete and valid.
    data : numpy.ndarray
        2-D ``(y, x)`` or 3-D ``(z, y, x)`` array. Floats are stored as float32 (mode 2),
        int8/int16/uint16 as they are, other integers and booleans as int16.
    voxel_size : float or tuple of float
        Voxel size in Angstrom, one number or ``(x, y, z)``.
    overwrite : bool
        Replace an existing file.
    header : numpy.recarray, optional
        A header (e.g. ``read_mrc(...).header``) whose fields in :data:`HEADER_FIELDS_KEPT` are
        copied.
    stack : bool, optional
        Mark a 3-D array as an image stack (a tilt series; space group 0) instead of a volume
        (space group 1). Default: as in ``header`` when given, else a volume.
    labels : list of str, optional
        Text labels (at most 10, 80 ASCII characters each) added after those of ``header``.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    arr = np.asarray(data)
    if arr.ndim not in (2, 3):
        raise ValueError(f"data: expected a 2-D image or a 3-D volume / tilt series, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"data: empty array of shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError("data: contains NaN or infinite values")
    arr = _as_mrc_dtype(arr)
    vs = _voxel_triple(voxel_size)
    out = check_output_path(path, overwrite=overwrite)
    extra_labels = list(labels or [])
    for lab in extra_labels:
        if len(lab) > 80 or not lab.isascii():
            raise ValueError(f"labels: {lab!r} is not an ASCII string of at most 80 characters")

    def _write(tmp: Path) -> None:
        with mrcfile.new(tmp, overwrite=True) as mrc:
            mrc.set_data(arr)
            is_stack = stack if stack is not None else (header is not None and int(header.ispg) == 0)
            if is_stack and arr.ndim == 3:
                mrc.set_image_stack()
            mrc.voxel_size = vs
            old: list[bytes] = []
            if header is not None:
                mrc.header.origin = header.origin
                if arr.ndim == 3 and not is_stack and 1 <= int(header.ispg) <= 230:
                    mrc.header.ispg = header.ispg
                old = [bytes(lab) for lab in header.label[: int(header.nlabl)]]
            all_labels = old + [lab.encode("ascii") for lab in extra_labels]
            if len(all_labels) > 10:
                raise ValueError(f"labels: at most 10 labels fit an MRC header, got {len(all_labels)}")
            mrc.header.nlabl = len(all_labels)
            for i in range(10):
                mrc.header.label[i] = all_labels[i] if i < len(all_labels) else b""

            mrc.update_header_stats()
        report = io.StringIO()
        if not mrcfile.validate(tmp, print_file=report):
            raise ValueError(f"path={str(out)!r}: the written file does not pass mrcfile.validate: {report.getvalue().strip()}")

    return atomic_write(out, _write, suffix=".mrc")
