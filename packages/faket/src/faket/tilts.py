"""Tilt angles (IMOD ``.tlt``, SHREC ``alignment_simulated.txt``) and particle lists (SHREC).

Angles are in degrees. A SHREC particle list has one particle per line::

    <class> <x> <y> <z> [<rot_z1> <rot_x> <rot_z2>]

with voxel coordinates and, optionally, the Euler angles (ZXZ, degrees) of the particle.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faket._io import atomic_write, check_output_path

__all__ = [
    "Particle",
    "ShrecAlignment",
    "check_angles",
    "read_tlt",
    "write_tlt",
    "read_shrec_alignment",
    "write_shrec_alignment",
    "read_angles",
    "read_particle_list",
    "write_particle_list",
]


@dataclass
class Particle:
    """One particle of a particle list.

    Attributes
    ----------
    cls : str
        Class name (a PDB code in SHREC, e.g. ``"4V94"``; ``"vesicle"``, ``"fiducial"``).
    x, y, z : float
        Position in voxels.
    rotation : tuple of float, optional
        Euler angles ``(z1, x, z2)`` in degrees (ZXZ convention, as in SHREC), or None.
    """

    cls: str
    x: float
    y: float
    z: float
    rotation: tuple[float, float, float] | None = None


@dataclass
class ShrecAlignment:
    """Contents of a SHREC ``alignment_simulated.txt`` file (one row per tilt).

    Attributes
    ----------
    angles : numpy.ndarray
        Tilt angles in degrees.
    shifts : numpy.ndarray
        In-plane shifts ``(n_tilts, 2)`` (x, y) in pixels.
    in_plane_rotation : numpy.ndarray
        In-plane rotation per tilt in degrees (zeros when the file has no such column).
    magnification : numpy.ndarray
        Magnification per tilt (ones when the file has no such column).
    """

    angles: np.ndarray
    shifts: np.ndarray
    in_plane_rotation: np.ndarray
    magnification: np.ndarray


def check_angles(angles: object, *, name: str = "angles", n_expected: int | None = None) -> np.ndarray:
    """Return ``angles`` as a float64 array after checking it.

    Raises
    ------
    ValueError
        If there are no angles, they are not finite, lie outside [-90, 90] degrees, or their
        number differs from ``n_expected``.
    """
    a = np.asarray(angles, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D list of tilt angles in degrees, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    bad = np.flatnonzero(np.abs(a) > 90.0)
    if bad.size:
        raise ValueError(f"{name}: angle {a[bad[0]]:g} (index {bad[0]}) is out of range; accepted: -90 to 90 degrees")
    if n_expected is not None and a.size != n_expected:
        raise ValueError(f"{name}: {a.size} tilt angles for a tilt series of {n_expected} images; the counts must match")
    return a


def _read_lines(path: str | os.PathLike) -> list[tuple[int, str]]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"path={str(p)!r}: no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"path={str(p)!r} is not a text file") from None
    return [(i + 1, line.strip()) for i, line in enumerate(text.splitlines())]


def read_tlt(path: str | os.PathLike) -> np.ndarray:
    """Read an IMOD ``.tlt`` file (one angle in degrees per line; blank lines ignored).

    Raises
    ------
    ValueError
        If a line is not one number, no angle is found, or an angle is out of [-90, 90].
    """
    angles = []
    for lineno, line in _read_lines(path):
        if not line:
            continue
        try:
            (value,) = line.split()
            angles.append(float(value))
        except ValueError:
            raise ValueError(f"path={str(path)!r}, line {lineno}: {line[:40]!r} is not one tilt angle") from None
    return check_angles(angles, name=f"path={str(path)!r}")


def write_tlt(path: str | os.PathLike, angles: object, *, overwrite: bool = False) -> Path:
    """Write an IMOD ``.tlt`` file (one angle per line, 2 decimals as IMOD writes them unless
    more are needed to keep the value)."""
    a = check_angles(angles)
    out = check_output_path(path, overwrite=overwrite)
    lines = []
    for v in a:
        s = f"{v:7.2f}"
        if float(s) != v:
            s = repr(float(v))
        lines.append(s)
    return atomic_write(out, lambda tmp: tmp.write_text("\n".join(lines) + "\n", encoding="utf-8"))


def read_shrec_alignment(path: str | os.PathLike) -> ShrecAlignment:
    """Read a SHREC ``alignment_simulated.txt`` file.

    Comment lines (``#``) and STAR syntax lines (``data_``, ``loop_``, ``_name``) are skipped;
    each remaining row holds ``shift_x shift_y tilt_angle [in_plane_rotation [magnification
    [file name]]]``.
    """
    rows = []
    for lineno, line in _read_lines(path):
        if not line or line.startswith(("#", "data_", "loop_", "_")):
            continue
        nums: list[float] = []
        for token in line.split()[:5]:
            if not _is_number(token):
                break
            nums.append(float(token))
        if len(nums) < 3:
            raise ValueError(f"path={str(path)!r}, line {lineno}: {line[:60]!r} is not 'shift_x shift_y tilt_angle ...'")
        rows.append(nums + [0.0, 1.0][len(nums) - 3 :])
    if not rows:
        raise ValueError(f"path={str(path)!r}: no alignment rows found")
    arr = np.array(rows, dtype=np.float64)
    angles = check_angles(arr[:, 2], name=f"path={str(path)!r}")
    return ShrecAlignment(angles=angles, shifts=arr[:, :2].copy(), in_plane_rotation=arr[:, 3].copy(), magnification=arr[:, 4].copy())


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def write_shrec_alignment(path: str | os.PathLike, angles: object, *, shifts: object = None, overwrite: bool = False) -> Path:
    """Write tilt angles (and optional shifts ``(n, 2)``) as a SHREC-style alignment file."""
    a = check_angles(angles)
    sh = np.zeros((a.size, 2)) if shifts is None else np.asarray(shifts, dtype=np.float64)
    if sh.shape != (a.size, 2):
        raise ValueError(f"shifts: expected shape ({a.size}, 2), got {sh.shape}")
    out = check_output_path(path, overwrite=overwrite)
    head = [
        "# alignment parameters per tilt (written by faket)",
        "# AlignmentTransX",
        "# AlignmentTransY",
        "# TiltAngle",
        "# InPlaneRotation",
        "# Magnification",
    ]
    body = [f"{x!r} {y!r} {t!r} 0.0 1.0" for (x, y), t in zip(sh.tolist(), a.tolist(), strict=True)]
    return atomic_write(out, lambda tmp: tmp.write_text("\n".join(head + body) + "\n", encoding="utf-8"))


def read_angles(path: str | os.PathLike) -> np.ndarray:
    """Read tilt angles from an IMOD ``.tlt`` file or a SHREC alignment file (recognised by
    having several columns or comment lines)."""
    lines = [line for _, line in _read_lines(path) if line]
    if any(line.startswith("#") or len(line.split()) > 1 for line in lines):
        return read_shrec_alignment(path).angles
    return read_tlt(path)


def read_particle_list(path: str | os.PathLike) -> list[Particle]:
    """Read a SHREC particle list (``class x y z [z1 x z2]`` per line; ``#`` comments skipped).

    Raises
    ------
    ValueError
        If a line has not 4 or 7 fields, or a coordinate or angle is not a finite number.
    """
    particles = []
    for lineno, line in _read_lines(path):
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) not in (4, 7):
            raise ValueError(f"path={str(path)!r}, line {lineno}: expected 'class x y z' or 'class x y z z1 x z2', got {len(parts)} fields")
        try:
            nums = [float(t) for t in parts[1:]]
        except ValueError:
            raise ValueError(f"path={str(path)!r}, line {lineno}: coordinates {' '.join(parts[1:])!r} are not numbers") from None
        if not all(math.isfinite(v) for v in nums):
            raise ValueError(f"path={str(path)!r}, line {lineno}: coordinates must be finite")
        rot = tuple(nums[3:6]) if len(nums) == 6 else None
        particles.append(Particle(parts[0], nums[0], nums[1], nums[2], rot))  # type: ignore[arg-type]
    return particles


def write_particle_list(path: str | os.PathLike, particles: list[Particle], *, overwrite: bool = False) -> Path:
    """Write a SHREC particle list (``class x y z z1 x z2`` per line; rotation 0 0 0 when unknown)."""
    out = check_output_path(path, overwrite=overwrite)
    lines = []
    for i, p in enumerate(particles):
        if not p.cls or any(c.isspace() for c in p.cls):
            raise ValueError(f"particles[{i}].cls={p.cls!r}: class names must be non-empty without spaces")
        rot = p.rotation if p.rotation is not None else (0.0, 0.0, 0.0)
        vals = [p.x, p.y, p.z, *rot]
        if not all(math.isfinite(float(v)) for v in vals):
            raise ValueError(f"particles[{i}]: coordinates and angles must be finite")
        lines.append(" ".join([p.cls] + [repr(float(v)) for v in vals]))
    return atomic_write(out, lambda tmp: tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8"))
