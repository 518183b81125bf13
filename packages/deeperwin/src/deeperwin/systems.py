"""Molecules: nuclear charges and positions, electrons and spin, and a table of named systems.

Units inside the package are bohr (lengths) and hartree (energies); angstrom is accepted
at the boundary (``units="angstrom"`` in :meth:`Molecule.from_nuclei`) and converted with
the CODATA 2018 bohr radius, 0.529177210903 angstrom.

The built-in table (:func:`get_system`, :func:`list_systems`) holds the first-row atoms
H to Ne in their ground-state spin multiplicities and a few small molecules at fixed
geometries, each with a reference energy and the source of that number. Reference
energies are non-relativistic, clamped-nuclei (Born-Oppenheimer, infinite nuclear mass)
total energies in hartree. ``reference_source`` says what kind of number it is: an exact
or near-exact calculation, an estimate of the exact energy (extrapolation), or a coupled
cluster complete-basis-set estimate. ``reference_is_vmc`` is True where the reference is
itself a variational or diffusion Monte Carlo result (none of the built-in ones is).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ANGSTROM_PER_BOHR",
    "BOHR_PER_ANGSTROM",
    "ELEMENTS",
    "MIN_NUCLEAR_DISTANCE",
    "Molecule",
    "atomic_number",
    "get_system",
    "list_systems",
]

#: CODATA 2018 bohr radius in angstrom.
ANGSTROM_PER_BOHR = 0.529177210903
BOHR_PER_ANGSTROM = 1.0 / ANGSTROM_PER_BOHR

#: Nuclei closer than this (bohr) are rejected as overlapping.
MIN_NUCLEAR_DISTANCE = 0.05

#: Element symbols, index + 1 = nuclear charge (H to Kr).
ELEMENTS: tuple[str, ...] = (
    "H", "He",
    "Li", "Be", "B", "C", "N", "O", "F", "Ne",
    "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
    "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn",
    "Ga", "Ge", "As", "Se", "Br", "Kr",
)  # fmt: skip

# Ground-state 2S (= n_up - n_down) of the neutral atoms H to Kr (Hund's rules; NIST ASD
# ground terms, e.g. C 3P, N 4S, O 3P, Cr 7S, Cu 2S).
_ATOM_SPIN: tuple[int, ...] = (
    1, 0,
    1, 0, 1, 2, 3, 2, 1, 0,
    1, 0, 1, 2, 3, 2, 1, 0,
    1, 0, 1, 2, 3, 6, 5, 4, 3, 2, 1, 0,
    1, 2, 3, 2, 1, 0,
)  # fmt: skip

_UNITS = ("bohr", "angstrom")


def atomic_number(symbol_or_charge: str | float) -> float:
    """Return the nuclear charge of an element symbol (``"Li"``) or check a number.

    Parameters
    ----------
    symbol_or_charge : str or float
        Element symbol (case-insensitive, H to Kr) or a nuclear charge.

    Returns
    -------
    float
        The nuclear charge.

    Raises
    ------
    ValueError
        For an unknown symbol (close symbols are suggested) or a charge that is not a
        positive integer.
    """
    if isinstance(symbol_or_charge, str):
        lookup = {s.lower(): i + 1 for i, s in enumerate(ELEMENTS)}
        key = symbol_or_charge.strip().lower()
        if key not in lookup:
            close = difflib.get_close_matches(symbol_or_charge.strip(), ELEMENTS, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"charges: unknown element symbol {symbol_or_charge!r}; accepted are H to Kr{hint}")
        return float(lookup[key])
    try:
        z = float(symbol_or_charge)
    except (TypeError, ValueError):
        raise TypeError(f"charges: expected element symbols or numbers, got {symbol_or_charge!r}") from None
    if not math.isfinite(z) or z <= 0 or abs(z - round(z)) > 1e-9:
        raise ValueError(f"charges: nuclear charges must be positive integers (1 to {len(ELEMENTS)}), got {symbol_or_charge!r}")
    if round(z) > len(ELEMENTS):
        raise ValueError(f"charges: nuclear charge {symbol_or_charge!r} is beyond Kr (36), the heaviest element supported")
    return float(round(z))


@dataclass(frozen=True, eq=False)
class Molecule:
    """A set of clamped nuclei and the number of electrons of each spin.

    Construct with :meth:`Molecule.from_nuclei` (accepts symbols and angstrom) or
    :func:`get_system`; the plain constructor takes bohr and validates the same way.

    Parameters
    ----------
    charges : tuple of float
        Nuclear charges Z (positive integers stored as floats).
    positions : numpy.ndarray
        Nuclear positions, shape (n_nuclei, 3), in bohr. Stored as a read-only float64 copy.
    charge : int
        Net charge: sum(Z) - n_electrons.
    spin : int
        n_up - n_down, between 0 and n_electrons with the parity of n_electrons.
    name : str or None
        Name of the system, e.g. ``"LiH"``.
    reference_energy : float or None
        Reference total energy in hartree at exactly this geometry, or None.
    reference_source : str or None
        Where the reference energy comes from and what kind of number it is.
    reference_is_vmc : bool
        True if the reference is itself a VMC/DMC result (so not a strict bound or exact).

    Notes
    -----
    Two molecules compare equal when charges, net charge, spin and positions are equal
    (name and reference are ignored). Changing the geometry with :meth:`with_positions`
    drops the reference energy, because a reference holds for one geometry only.
    """

    charges: tuple[float, ...]
    positions: np.ndarray
    charge: int = 0
    spin: int = 0
    name: str | None = None
    reference_energy: float | None = None
    reference_source: str | None = None
    reference_is_vmc: bool = False
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        charges = _as_charges(self.charges)
        positions = _as_positions(self.positions, len(charges))
        charge = _as_int(self.charge, "charge")
        spin = _as_int(self.spin, "spin")
        n_el = int(round(sum(charges))) - charge
        _check_electrons(n_el, charge, spin, sum(charges))
        _check_overlap(positions)
        if self.reference_energy is not None:
            e = float(self.reference_energy)
            if not math.isfinite(e):
                raise ValueError(f"reference_energy: must be a finite number (hartree) or None, got {self.reference_energy!r}")
            object.__setattr__(self, "reference_energy", e)
        if self.name is not None and not isinstance(self.name, str):
            raise TypeError(f"name: expected a string or None, got {self.name!r}")
        positions = positions + 0.0  # -0.0 -> 0.0, so that equal molecules hash equally
        positions.setflags(write=False)
        object.__setattr__(self, "charges", charges)
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "spin", spin)
        object.__setattr__(self, "reference_is_vmc", bool(self.reference_is_vmc))
        object.__setattr__(self, "_hash", hash((charges, positions.tobytes(), charge, spin)))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_nuclei(
        cls,
        charges: Sequence[str | float],
        positions: Any,
        *,
        units: str = "bohr",
        charge: int = 0,
        spin: int | None = None,
        name: str | None = None,
    ) -> Molecule:
        """Build a molecule from nuclear charges (or element symbols) and positions.

        Parameters
        ----------
        charges : sequence of str or float
            Element symbols (``"Li"``) or nuclear charges (3), one per nucleus.
        positions : array_like
            Positions, shape (n_nuclei, 3) (a single nucleus may be given as 3 numbers).
        units : {"bohr", "angstrom"}
            Units of `positions`.
        charge : int
            Net charge (electrons = sum of Z - charge).
        spin : int or None
            n_up - n_down. None: for a neutral single atom its ground-state value
            (Hund's rules), otherwise 0 or 1 by the parity of the electron count.
        name : str or None
            Optional name.

        Returns
        -------
        Molecule
            Without reference energy.

        Raises
        ------
        ValueError
            Unknown units or symbols, malformed positions, overlapping nuclei, a charge
            that leaves no electrons, or a spin that does not fit the electrons.
        """
        if not isinstance(units, str) or units.lower() not in _UNITS:
            raise ValueError(f"units: expected one of {_UNITS}, got {units!r}")
        if isinstance(charges, (str, bytes)) or not isinstance(charges, Sequence | np.ndarray):
            raise TypeError(f"charges: expected a sequence of element symbols or numbers, got {charges!r}")
        zs = tuple(atomic_number(c) for c in charges)
        pos = _as_positions(positions, len(zs))
        if units.lower() == "angstrom":
            pos = pos * BOHR_PER_ANGSTROM
        q = _as_int(charge, "charge")
        if spin is None:
            n_el = int(round(sum(zs))) - q
            if len(zs) == 1 and q == 0:
                spin = _ATOM_SPIN[int(zs[0]) - 1]
            else:
                spin = n_el % 2 if n_el > 0 else 0
        return cls(charges=zs, positions=pos, charge=q, spin=spin, name=name)

    def with_positions(self, positions: Any, *, units: str = "bohr", name: str | None = None) -> Molecule:
        """Return the same nuclei, charge and spin at new positions (no reference energy).

        Parameters
        ----------
        positions : array_like
            New positions, shape (n_nuclei, 3).
        units : {"bohr", "angstrom"}
            Units of `positions`.
        name : str or None
            Name of the new molecule (default: this molecule's name).

        Returns
        -------
        Molecule
        """
        if not isinstance(units, str) or units.lower() not in _UNITS:
            raise ValueError(f"units: expected one of {_UNITS}, got {units!r}")
        pos = _as_positions(positions, self.n_nuclei)
        if units.lower() == "angstrom":
            pos = pos * BOHR_PER_ANGSTROM
        return Molecule(
            charges=self.charges, positions=pos, charge=self.charge, spin=self.spin,
            name=self.name if name is None else name,
        )  # fmt: skip

    # ------------------------------------------------------------------ properties
    @property
    def n_nuclei(self) -> int:
        """Number of nuclei."""
        return len(self.charges)

    @property
    def n_electrons(self) -> int:
        """Number of electrons, sum(Z) - charge."""
        return int(round(sum(self.charges))) - self.charge

    @property
    def n_up(self) -> int:
        """Number of spin-up electrons, (n_electrons + spin) / 2."""
        return (self.n_electrons + self.spin) // 2

    @property
    def n_down(self) -> int:
        """Number of spin-down electrons, (n_electrons - spin) / 2."""
        return (self.n_electrons - self.spin) // 2

    @property
    def symbols(self) -> tuple[str, ...]:
        """Element symbols of the nuclei."""
        return tuple(ELEMENTS[int(z) - 1] for z in self.charges)

    @property
    def nuclear_repulsion(self) -> float:
        """Nuclear repulsion energy ``sum_{I<J} Z_I Z_J / norm(R_I - R_J)`` in hartree."""
        z = np.asarray(self.charges)
        d = np.linalg.norm(self.positions[:, None, :] - self.positions[None, :, :], axis=-1)
        iu = np.triu_indices(self.n_nuclei, 1)
        return float(np.sum(z[iu[0]] * z[iu[1]] / d[iu]))

    def positions_in(self, units: str = "bohr") -> np.ndarray:
        """Return a copy of the positions in ``"bohr"`` or ``"angstrom"``."""
        if not isinstance(units, str) or units.lower() not in _UNITS:
            raise ValueError(f"units: expected one of {_UNITS}, got {units!r}")
        scale = 1.0 if units.lower() == "bohr" else ANGSTROM_PER_BOHR
        return np.array(self.positions) * scale

    def distance(self, i: int, j: int) -> float:
        """Distance in bohr between nuclei `i` and `j`."""
        for arg, v in (("i", i), ("j", j)):
            if not isinstance(v, int | np.integer) or not -self.n_nuclei <= v < self.n_nuclei:
                raise ValueError(f"{arg}: expected a nucleus index in [0, {self.n_nuclei}), got {v!r}")
        return float(np.linalg.norm(self.positions[i] - self.positions[j]))

    def to_pyscf_atom(self) -> list[tuple[str, tuple[float, float, float]]]:
        """The geometry as a pyscf ``atom`` list (positions in bohr: use ``unit="Bohr"``)."""
        return [(s, tuple(float(x) for x in p)) for s, p in zip(self.symbols, self.positions, strict=True)]

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (bohr, hartree)."""
        return {
            "name": self.name,
            "charges": list(self.charges),
            "positions": self.positions.tolist(),
            "charge": self.charge,
            "spin": self.spin,
            "reference_energy": self.reference_energy,
            "reference_source": self.reference_source,
            "reference_is_vmc": self.reference_is_vmc,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Molecule:
        """Inverse of :meth:`to_dict` (unknown keys are rejected)."""
        if not isinstance(data, dict):
            raise TypeError(f"data: expected a dict, got {type(data).__name__}")
        known = {"name", "charges", "positions", "charge", "spin", "reference_energy", "reference_source", "reference_is_vmc"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"data: unknown keys {unknown}; accepted are {sorted(known)}")
        missing = sorted({"charges", "positions"} - set(data))
        if missing:
            raise ValueError(f"data: missing keys {missing}")
        return cls(
            charges=tuple(data["charges"]),
            positions=np.asarray(data["positions"], dtype=float),
            charge=data.get("charge", 0),
            spin=data.get("spin", 0),
            name=data.get("name"),
            reference_energy=data.get("reference_energy"),
            reference_source=data.get("reference_source"),
            reference_is_vmc=data.get("reference_is_vmc", False),
        )

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Molecule):
            return NotImplemented
        return (
            self.charges == other.charges and self.charge == other.charge and self.spin == other.spin
            and np.array_equal(self.positions, other.positions)
        )  # fmt: skip

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        return (
            f"Molecule({name}{'-'.join(self.symbols)}, n_up={self.n_up}, n_down={self.n_down}, "
            f"charge={self.charge}, reference_energy={self.reference_energy})"
        )


# ---------------------------------------------------------------------- validation helpers
def _as_int(value: Any, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return int(value)
        raise TypeError(f"{arg}: expected an integer, got {value!r}")
    return int(value)


def _as_charges(charges: Any) -> tuple[float, ...]:
    if isinstance(charges, (str, bytes)):
        raise TypeError(f"charges: expected a sequence of nuclear charges, got {charges!r}")
    try:
        seq = list(charges)
    except TypeError:
        raise TypeError(f"charges: expected a sequence of nuclear charges, got {charges!r}") from None
    if not seq:
        raise ValueError("charges: at least one nucleus is needed, got an empty sequence")
    return tuple(atomic_number(c) for c in seq)


def _as_positions(positions: Any, n_nuclei: int) -> np.ndarray:
    try:
        pos = np.array(positions, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"positions: expected numbers of shape ({n_nuclei}, 3), got {positions!r}") from None
    if pos.shape == (3,) and n_nuclei == 1:
        pos = pos[None, :]
    if pos.shape != (n_nuclei, 3):
        raise ValueError(f"positions: expected shape ({n_nuclei}, 3) (one row per nuclear charge), got {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise ValueError("positions: all coordinates must be finite, got NaN or infinity")
    return pos


def _check_electrons(n_el: int, charge: int, spin: int, total_z: float) -> None:
    if n_el < 1:
        raise ValueError(f"charge: net charge {charge} leaves {n_el} electrons (nuclear charge {total_z:g}); at least one electron is needed")
    if spin < 0 or spin > n_el:
        raise ValueError(f"spin: n_up - n_down must be between 0 and n_electrons={n_el}, got {spin}")
    if (n_el - spin) % 2:
        raise ValueError(
            f"spin: {spin} does not fit {n_el} electrons (n_up - n_down must have the parity of n_electrons; "
            f"accepted: {', '.join(str(s) for s in range(n_el % 2, n_el + 1, 2))})"
        )


def _check_overlap(pos: np.ndarray) -> None:
    if len(pos) < 2:
        return
    d = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    d[np.diag_indices(len(pos))] = np.inf
    i, j = np.unravel_index(np.argmin(d), d.shape)
    if d[i, j] < MIN_NUCLEAR_DISTANCE:
        raise ValueError(
            f"positions: nuclei {min(i, j)} and {max(i, j)} overlap (distance {d[i, j]:.3g} bohr, "
            f"minimum {MIN_NUCLEAR_DISTANCE} bohr); were the positions meant in other units?"
        )


# ---------------------------------------------------------------------- the table
_CHAKRAVORTY = (
    "estimated exact non-relativistic energy, Chakravorty, Gwaltney, Davidson, Parpia & Fischer, "
    "Phys. Rev. A 47, 3649 (1993) (estimate: HF limit + extrapolated correlation energy)"
)
_PFAU_CBS = (
    "CCSD(T) complete-basis-set estimate, as tabulated by Pfau, Spencer, Matthews & Foulkes, "
    "Phys. Rev. Research 2, 033429 (2020) (an estimate, not exact)"
)

# name: (symbols, positions, units, charge, spin, reference energy, source, reference is VMC)
_TABLE: dict[str, tuple[tuple[str, ...], list[list[float]], str, int, int, float | None, str | None, bool]] = {
    "H": (("H",), [[0, 0, 0]], "bohr", 0, 1, -0.5, "exact (hydrogen atom, infinite nuclear mass)", False),
    "He": (("He",), [[0, 0, 0]], "bohr", 0, 0, -2.903724, "exact to the digits given; " + _CHAKRAVORTY, False),
    "Li": (("Li",), [[0, 0, 0]], "bohr", 0, 1, -7.478060, _CHAKRAVORTY, False),
    "Be": (("Be",), [[0, 0, 0]], "bohr", 0, 0, -14.66736, _CHAKRAVORTY, False),
    "B": (("B",), [[0, 0, 0]], "bohr", 0, 1, -24.65391, _CHAKRAVORTY, False),
    "C": (("C",), [[0, 0, 0]], "bohr", 0, 2, -37.8450, _CHAKRAVORTY, False),
    "N": (("N",), [[0, 0, 0]], "bohr", 0, 3, -54.5892, _CHAKRAVORTY, False),
    "O": (("O",), [[0, 0, 0]], "bohr", 0, 2, -75.0673, _CHAKRAVORTY, False),
    "F": (("F",), [[0, 0, 0]], "bohr", 0, 1, -99.7339, _CHAKRAVORTY, False),
    "Ne": (("Ne",), [[0, 0, 0]], "bohr", 0, 0, -128.9376, _CHAKRAVORTY, False),
    "H2": (
        ("H", "H"), [[0, 0, 0], [1.4, 0, 0]], "bohr", 0, 0, -1.174475,
        "exact (explicitly correlated), R = 1.4 bohr; Kolos & Wolniewicz, J. Chem. Phys. 41, 3663 (1964): -1.1744746",
        False,
    ),
    "LiH": (
        ("Li", "H"), [[0, 0, 0], [3.015, 0, 0]], "bohr", 0, 0, -8.07055,
        "exact non-relativistic energy at R = 3.015 bohr, as tabulated by Pfau et al., "
        "Phys. Rev. Research 2, 033429 (2020)",
        False,
    ),
    "Li2": (
        ("Li", "Li"), [[0, 0, 0], [5.051, 0, 0]], "bohr", 0, 0, -14.9954,
        "estimated exact non-relativistic energy at R = 5.051 bohr, as tabulated by Pfau et al., "
        "Phys. Rev. Research 2, 033429 (2020)",
        False,
    ),
    "N2": (
        ("N", "N"), [[0, 0, 0], [2.068, 0, 0]], "bohr", 0, 0, -109.5423,
        "estimated exact non-relativistic energy at R = 2.068 bohr, as tabulated by Pfau et al., "
        "Phys. Rev. Research 2, 033429 (2020)",
        False,
    ),
    "CO": (
        ("C", "O"), [[0, 0, 0], [2.173, 0, 0]], "bohr", 0, 0, -113.3255,
        "R = 2.173 bohr; " + _PFAU_CBS,
        False,
    ),
    "H2O": (
        ("O", "H", "H"),
        [[0.0, 0.0, 0.0], [0.75695, 0.58588, 0.0], [-0.75695, 0.58588, 0.0]],
        "angstrom", 0, 0, -76.438,
        "experimental equilibrium geometry (r = 0.9572 angstrom, angle 104.52 deg); experimentally "
        "derived non-relativistic infinite-mass estimate -76.438(3), as quoted by Luechow, Anderson & "
        "Feller, J. Chem. Phys. 106 (1997) (an estimate, uncertain by about 3 mHa)",
        False,
    ),
    "CH4": (
        ("C", "H", "H", "H", "H"),
        [[0, 0, 0], [1.18886, 1.18886, 1.18886], [-1.18886, -1.18886, 1.18886],
         [1.18886, -1.18886, -1.18886], [-1.18886, 1.18886, -1.18886]],
        "bohr", 0, 0, -40.515,
        "geometry of Pfau et al. (2020); " + _PFAU_CBS,
        False,
    ),  # fmt: skip
    "NH3": (
        ("N", "H", "H", "H"),
        [[0, 0, 0.22013], [0, 1.77583, -0.51364], [1.53791, -0.88791, -0.51364], [-1.53791, -0.88791, -0.51364]],
        "bohr", 0, 0, -56.5644,
        "geometry of Pfau et al. (2020); " + _PFAU_CBS,
        False,
    ),
}

# common names accepted by get_system (case-insensitive)
_ALIASES = {
    "hydrogen": "H2", "lithium hydride": "LiH", "dilithium": "Li2", "nitrogen": "N2", "dinitrogen": "N2",
    "carbon monoxide": "CO", "water": "H2O", "methane": "CH4", "ammonia": "NH3",
}  # fmt: skip


def list_systems() -> list[str]:
    """Names of the built-in systems, atoms first (by nuclear charge), then molecules.

    Returns
    -------
    list of str
    """
    return list(_TABLE)


def get_system(name: str) -> Molecule:
    """Return a built-in system by name (case-insensitive), with its reference energy.

    Parameters
    ----------
    name : str
        One of :func:`list_systems`, e.g. ``"LiH"``, ``"N2"``, ``"O"``. Names are matched
        case-sensitively first, then case-insensitively; an element symbol (H to Kr,
        case-sensitive, e.g. ``"Na"``) not in the table gives the neutral atom in its
        ground-state spin without reference energy. Common names (``"water"``,
        ``"methane"``, ``"ammonia"``, ...) are accepted too.

    Returns
    -------
    Molecule
        Positions in bohr; ``reference_energy``/``reference_source`` as tabulated.

    Raises
    ------
    ValueError
        For an unknown name; the message suggests close names.
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a string, got {name!r}")
    key = name.strip()
    if key not in _TABLE and key in ELEMENTS:
        z = atomic_number(key)
        return Molecule(charges=(z,), positions=np.zeros((1, 3)), spin=_ATOM_SPIN[int(z) - 1], name=key)
    if key not in _TABLE:
        folded = {k.lower(): k for k in _TABLE} | _ALIASES
        if key.lower() not in folded:
            close = difflib.get_close_matches(key, list(_TABLE), n=3, cutoff=0.4)
            for k in difflib.get_close_matches(key.lower(), list(folded), n=3, cutoff=0.6):
                if folded[k] not in close:
                    close.append(folded[k])
            close = close[:3]
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            raise ValueError(f"name: unknown system {name!r}{hint}; known systems: {', '.join(_TABLE)} and element symbols H to Kr")
        key = folded[key.lower()]
    symbols, positions, units, charge, spin, ref, source, is_vmc = _TABLE[key]
    pos = np.asarray(positions, dtype=float) * (BOHR_PER_ANGSTROM if units == "angstrom" else 1.0)
    return Molecule(
        charges=tuple(atomic_number(s) for s in symbols), positions=pos, charge=charge, spin=spin, name=key,
        reference_energy=ref, reference_source=source, reference_is_vmc=is_vmc,
    )  # fmt: skip
