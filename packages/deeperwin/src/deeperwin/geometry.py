"""Sets of nuclear geometries, a stable geometry hash, and a JSON database of geometries.

Geometry sets are plain lists of :class:`~deeperwin.systems.Molecule` (same nuclei,
charge and spin; different positions), made from explicit position lists
(:func:`explicit_geometries`), bond-length scans (:func:`bond_length_scan`) or
displacements along given directions (:func:`displacement_scan`). Shared-weight training
on many geometries and potential-energy curves use them.

:func:`geometry_hash` identifies a geometry independently of floating-point noise: the
positions are rounded to a grid of ``tolerance`` bohr (default 1e-6) before hashing, so
two geometries that differ by less than the tolerance get the same hash unless a
coordinate straddles a rounding boundary (for noise of size eps the chance per
coordinate is about 2 eps / tolerance, e.g. 2e-4 for eps = 1e-10). The hash covers the
nuclear charges (in order), the positions, net charge and spin; not the name or the
reference energy. The order of nuclei matters (a permuted molecule is a different input
to a wavefunction).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deeperwin.systems import BOHR_PER_ANGSTROM, Molecule, get_system

__all__ = [
    "DEFAULT_HASH_TOLERANCE",
    "GeometryDatabase",
    "bond_length_scan",
    "displacement_scan",
    "explicit_geometries",
    "geometry_hash",
]

#: Grid (bohr) positions are rounded to before hashing.
DEFAULT_HASH_TOLERANCE = 1e-6

_UNITS = ("bohr", "angstrom")


def _scale(units: str, arg: str = "units") -> float:
    if not isinstance(units, str) or units.lower() not in _UNITS:
        raise ValueError(f"{arg}: expected one of {_UNITS}, got {units!r}")
    return BOHR_PER_ANGSTROM if units.lower() == "angstrom" else 1.0


def _as_molecule(mol: Molecule | str) -> Molecule:
    if isinstance(mol, str):
        return get_system(mol)
    if not isinstance(mol, Molecule):
        raise TypeError(f"mol: expected a Molecule or a system name, got {type(mol).__name__}")
    return mol


def _as_1d(values: Any, arg: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{arg}: expected a sequence of numbers, got {values!r}") from None
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{arg}: expected a non-empty 1-D sequence of numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{arg}: all values must be finite")
    return arr


def explicit_geometries(mol: Molecule | str, positions: Sequence[Any], *, units: str = "bohr") -> list[Molecule]:
    """One molecule per explicit set of positions.

    Parameters
    ----------
    mol : Molecule or str
        Template (nuclei, charge, spin) or a system name for :func:`~deeperwin.systems.get_system`.
    positions : sequence of array_like
        Each of shape (n_nuclei, 3).
    units : {"bohr", "angstrom"}
        Units of `positions`.

    Returns
    -------
    list of Molecule
        Without reference energies (they belong to the template's geometry only).
    """
    template = _as_molecule(mol)
    scale = _scale(units)
    if isinstance(positions, np.ndarray) and positions.ndim == 2:
        positions = [positions]
    try:
        items = list(positions)
    except TypeError:
        raise TypeError(f"positions: expected a sequence of (n_nuclei, 3) arrays, got {type(positions).__name__}") from None
    if not items:
        raise ValueError("positions: expected at least one geometry, got none")
    return [template.with_positions(np.asarray(p, dtype=float) * scale) for p in items]


def bond_length_scan(
    mol: Molecule | str, bond_lengths: Sequence[float], *, units: str = "bohr", atoms: tuple[int, int] = (0, 1)
) -> list[Molecule]:
    """Geometries with the distance between two nuclei set to each bond length.

    For a diatomic the first nucleus stays where it is and the second moves along the
    bond axis. For a larger molecule, nucleus ``atoms[1]`` alone moves along the bond
    axis (a bond stretch; all other nuclei fixed).

    Parameters
    ----------
    mol : Molecule or str
        Template geometry (or system name), which fixes the bond axis.
    bond_lengths : sequence of float
        Distances, positive.
    units : {"bohr", "angstrom"}
        Units of `bond_lengths`.
    atoms : tuple of int
        The two nuclei of the bond.

    Returns
    -------
    list of Molecule
        Named ``"<name> R=<bond length in bohr>"``.
    """
    template = _as_molecule(mol)
    r = _as_1d(bond_lengths, "bond_lengths") * _scale(units)
    if np.any(r <= 0):
        raise ValueError(f"bond_lengths: must be positive, got {r[r <= 0].tolist()}")
    if (
        not isinstance(atoms, tuple | list) or len(atoms) != 2
        or not all(isinstance(a, int | np.integer) and 0 <= a < template.n_nuclei for a in atoms)
        or atoms[0] == atoms[1]
    ):  # fmt: skip
        raise ValueError(f"atoms: expected two different nucleus indices in [0, {template.n_nuclei}), got {atoms!r}")
    i, j = int(atoms[0]), int(atoms[1])
    axis = template.positions[j] - template.positions[i]
    axis = axis / np.linalg.norm(axis)
    base = template.name or "-".join(template.symbols)
    out = []
    for d in r:
        pos = np.array(template.positions)
        pos[j] = pos[i] + d * axis
        out.append(template.with_positions(pos, name=f"{base} R={d:.4f}"))
    return out


def displacement_scan(
    mol: Molecule | str, direction: Any, amplitudes: Sequence[float], *, units: str = "bohr", normalize: bool = True
) -> list[Molecule]:
    """Geometries displaced along a direction: positions + a * direction for each amplitude.

    Parameters
    ----------
    mol : Molecule or str
        Reference geometry (or system name).
    direction : array_like
        Shape (n_nuclei, 3): a displacement of every nucleus (e.g. a normal mode).
    amplitudes : sequence of float
        Displacement amplitudes (0 gives the reference geometry).
    units : {"bohr", "angstrom"}
        Units of `amplitudes` (and of `direction` when ``normalize=False``).
    normalize : bool
        Scale `direction` to unit Euclidean norm over all 3 n_nuclei components first.

    Returns
    -------
    list of Molecule
    """
    template = _as_molecule(mol)
    scale = _scale(units)
    try:
        d = np.asarray(direction, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"direction: expected numbers of shape ({template.n_nuclei}, 3), got {direction!r}") from None
    if d.shape != (template.n_nuclei, 3) or not np.all(np.isfinite(d)):
        raise ValueError(f"direction: expected finite numbers of shape ({template.n_nuclei}, 3), got shape {d.shape}")
    norm = float(np.linalg.norm(d))
    if norm == 0:
        raise ValueError("direction: must not be all zeros")
    if normalize:
        d = d / norm
    a = _as_1d(amplitudes, "amplitudes")
    return [template.with_positions(template.positions + amp * scale * d) for amp in a]


def geometry_hash(mol: Molecule, *, tolerance: float = DEFAULT_HASH_TOLERANCE) -> str:
    """A stable hexadecimal hash of a geometry (sha256, first 16 hex digits).

    Parameters
    ----------
    mol : Molecule
        The geometry.
    tolerance : float
        Positions are rounded to multiples of this (bohr) before hashing; see the module
        description for what "stable" means.

    Returns
    -------
    str
        16 hexadecimal digits, identical across runs, platforms and Python versions.
    """
    mol = _as_molecule(mol)
    if not (isinstance(tolerance, float | int) and math.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance: expected a positive number (bohr), got {tolerance!r}")
    grid = np.rint(np.asarray(mol.positions) / tolerance).astype(np.int64)
    payload = {
        "charges": [int(round(z)) for z in mol.charges],
        "positions": grid.tolist(),
        "charge": mol.charge,
        "spin": mol.spin,
        "tolerance": repr(float(tolerance)),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]


class GeometryDatabase:
    """Geometries keyed by :func:`geometry_hash`, each with a dict of results; JSON on disk.

    Parameters
    ----------
    tolerance : float
        Hash tolerance (bohr) used for all keys.

    Examples
    --------
    >>> from deeperwin.geometry import GeometryDatabase, bond_length_scan
    >>> db = GeometryDatabase()
    >>> keys = [db.add(m) for m in bond_length_scan("H2", [1.2, 1.4])]
    >>> db.update(keys[1], energy=-1.17, energy_error=0.001)
    >>> db.get(keys[1])["energy"]
    -1.17
    """

    FORMAT = "deeperwin-geometry-database"
    VERSION = 1

    def __init__(self, *, tolerance: float = DEFAULT_HASH_TOLERANCE) -> None:
        if not (isinstance(tolerance, float | int) and math.isfinite(tolerance) and tolerance > 0):
            raise ValueError(f"tolerance: expected a positive number (bohr), got {tolerance!r}")
        self.tolerance = float(tolerance)
        self._molecules: dict[str, Molecule] = {}
        self._data: dict[str, dict[str, Any]] = {}

    def key(self, mol: Molecule) -> str:
        """The key of `mol` in this database (its geometry hash)."""
        return geometry_hash(mol, tolerance=self.tolerance)

    def add(self, mol: Molecule, **data: Any) -> str:
        """Add a geometry (or merge `data` into an existing one); return its key.

        Values in `data` must be JSON-serialisable (numbers, strings, lists, dicts).
        """
        k = self.key(mol)
        if k not in self._molecules:
            self._molecules[k] = mol
            self._data[k] = {}
        self.update(k, **data)
        return k

    def update(self, key: str | Molecule, **data: Any) -> None:
        """Merge `data` into the results of an existing geometry (by key or molecule)."""
        k = self._resolve(key)
        for name, value in data.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: value {value!r} is not JSON-serialisable (finite numbers, strings, lists, dicts)") from None
        self._data[k].update(data)

    def get(self, key: str | Molecule) -> dict[str, Any]:
        """Results stored for a geometry (a copy)."""
        return dict(self._data[self._resolve(key)])

    def molecule(self, key: str) -> Molecule:
        """The molecule stored under `key`."""
        return self._molecules[self._resolve(key)]

    def keys(self) -> list[str]:
        """Keys in insertion order."""
        return list(self._molecules)

    def items(self) -> Iterator[tuple[str, Molecule, dict[str, Any]]]:
        """(key, molecule, results) in insertion order."""
        for k, m in self._molecules.items():
            yield k, m, dict(self._data[k])

    def _resolve(self, key: str | Molecule) -> str:
        k = self.key(key) if isinstance(key, Molecule) else key
        if not isinstance(k, str) or k not in self._molecules:
            raise KeyError(f"key: geometry {key!r} is not in the database ({len(self)} geometries)")
        return k

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Molecule):
            key = self.key(key)
        return key in self._molecules

    def __len__(self) -> int:
        return len(self._molecules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._molecules))

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """The JSON document (see :meth:`save`)."""
        return {
            "format": self.FORMAT,
            "version": self.VERSION,
            "tolerance": self.tolerance,
            "geometries": [{"key": k, "molecule": m.to_dict(), "data": self._data[k]} for k, m in self._molecules.items()],
        }

    def save(self, path: str | Path) -> Path:
        """Write the database as JSON (to a temporary name, then renamed); return the path."""
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"path: {path} is a directory; give a file name such as geometries.json")
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; keep ordinary permissions
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> GeometryDatabase:
        """Read a database written by :meth:`save`; keys are checked against the hashes."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"path: {path} is not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != cls.FORMAT:
            raise ValueError(f"path: {path} is not a {cls.FORMAT} file")
        if doc.get("version") != cls.VERSION:
            raise ValueError(f"path: {path} has format version {doc.get('version')!r}; this deeperwin reads version {cls.VERSION}")
        db = cls(tolerance=doc["tolerance"])
        for entry in doc["geometries"]:
            mol = Molecule.from_dict(entry["molecule"])
            k = db.add(mol, **entry.get("data", {}))
            if k != entry["key"]:
                raise ValueError(f"path: stored key {entry['key']} does not match the geometry's hash {k} in {path}")
        return db
