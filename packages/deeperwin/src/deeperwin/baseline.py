"""Quantum-chemistry baselines with pyscf: Hartree-Fock, CASSCF, CCSD(T), full CI.

Hartree-Fock (or CASSCF) orbitals are the pretraining targets of the neural wavefunction:
:meth:`HartreeFockResult.eval_orbitals` returns the occupied orbitals of each spin at
arbitrary electron positions. :func:`ccsd_t` and :func:`fci` give comparison energies.

All positions are in bohr and all energies in hartree. Basis sets are pyscf's built-in
ones (no download): ``"sto-3g"``, ``"6-31G"``, ``"6-311G"``, ``"cc-pVDZ"`` ...
``"aug-cc-pV5Z"``. Nothing here is random: the same input gives the same numbers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deeperwin.systems import Molecule

__all__ = [
    "HartreeFockResult",
    "ccsd_t",
    "fci",
    "hartree_fock",
    "pyscf_mole",
    "two_electron_fci",
]

#: Largest number of determinants :func:`fci` accepts.
FCI_MAX_DETERMINANTS = 20_000_000


def pyscf_mole(mol: Molecule, basis: str | dict = "6-311G"):
    """Build the pyscf ``Mole`` of a molecule (positions in bohr, no symmetry, quiet).

    Parameters
    ----------
    mol : Molecule
        The system.
    basis : str or dict
        A pyscf basis name, or a pyscf per-element basis dict.

    Returns
    -------
    pyscf.gto.Mole

    Raises
    ------
    ValueError
        If pyscf does not know the basis, or the basis has no functions for an element.
    """
    from pyscf import gto

    if not isinstance(mol, Molecule):
        raise TypeError(f"mol: expected a deeperwin.systems.Molecule, got {type(mol).__name__}")
    if not isinstance(basis, str | dict) or (isinstance(basis, str) and not basis.strip()):
        raise TypeError(f"basis: expected a pyscf basis name such as '6-311G' or 'cc-pVDZ', got {basis!r}")
    m = gto.Mole()
    m.atom = mol.to_pyscf_atom()
    m.unit = "Bohr"
    m.basis = basis
    m.charge = mol.charge
    m.spin = mol.spin
    m.verbose = 0
    m.symmetry = False
    m.output = None
    errors = (KeyError, RuntimeError, ValueError, OSError, _basis_not_found_error())
    try:
        with warnings.catch_warnings():  # pyscf suggests installing basis-set-exchange
            warnings.simplefilter("ignore", UserWarning)
            m.build(dump_input=False, parse_arg=False)
    except errors as exc:
        raise ValueError(
            f"basis: pyscf could not build basis {basis!r} for {'-'.join(mol.symbols)} "
            f"({type(exc).__name__}: {' '.join(str(exc).split())}); "
            "use a pyscf basis name such as 'sto-3g', '6-31G', '6-311G', 'cc-pVDZ', 'aug-cc-pVTZ'"
        ) from None
    # pyscf silently drops elements it has no functions for; an empty shell list is an error here
    present = {m.atom_symbol(b) for b in range(m.natm) if m.atom_nshells(b) > 0}
    missing = sorted(set(mol.symbols) - {_strip_label(s) for s in present})
    if missing:
        raise ValueError(f"basis: {basis!r} has no functions for {', '.join(missing)}; choose a basis that covers every element")
    return m


def _basis_not_found_error() -> type[Exception]:
    try:
        from pyscf.lib.exceptions import BasisNotFoundError
    except ImportError:  # older pyscf
        return KeyError
    return BasisNotFoundError


def _strip_label(symbol: str) -> str:
    return "".join(c for c in symbol if c.isalpha())


@dataclass(frozen=True, eq=False)
class HartreeFockResult:
    """Result of :func:`hartree_fock`: energy and orbitals for pretraining.

    Attributes
    ----------
    energy : float
        Total energy in hartree (the CASSCF energy if a CAS was requested).
    method : str
        ``"RHF"``, ``"UHF"``, ``"ROHF"`` or ``"CASSCF(n_orbitals,n_electrons)"``.
    basis : str
        The basis set.
    hf_energy : float
        Energy of the underlying Hartree-Fock solution.
    converged : bool
        Whether pyscf reported convergence.
    n_up, n_down : int
        Electrons of each spin.
    mo_coeff_up, mo_coeff_down : numpy.ndarray
        Molecular orbital coefficients, shape (n_ao, n_mo); identical arrays for restricted
        methods.
    occupied_up, occupied_down : tuple of int
        Columns of the occupied orbitals (the leading determinant for CASSCF).
    determinants : tuple
        ``(coefficient, up_columns, down_columns)`` for each determinant, largest
        ``|coefficient|`` first; one determinant with coefficient 1 for Hartree-Fock, the
        CASSCF CI vector (determinants with ``|c| >= ci_threshold``) otherwise. Columns are
        ascending, i.e. the determinant is det[phi_up(columns)] * det[phi_down(columns)].
    """

    energy: float
    method: str
    basis: str
    hf_energy: float
    converged: bool
    n_up: int
    n_down: int
    mo_coeff_up: np.ndarray = field(repr=False)
    mo_coeff_down: np.ndarray = field(repr=False)
    occupied_up: tuple[int, ...] = field(repr=False)
    occupied_down: tuple[int, ...] = field(repr=False)
    determinants: tuple[tuple[float, tuple[int, ...], tuple[int, ...]], ...] = field(repr=False)
    _mole: Any = field(repr=False, compare=False)

    @property
    def pyscf_mole(self):
        """The pyscf ``Mole`` the orbitals are expanded in."""
        return self._mole

    def eval_ao(self, r: Any) -> np.ndarray:
        """Atomic basis functions at positions `r` (bohr), shape (..., n_ao)."""
        pts = _as_points(r)
        flat = pts.reshape(-1, 3)
        ao = self._mole.eval_gto("GTOval", flat) if len(flat) else np.zeros((0, self._mole.nao))
        return np.asarray(ao).reshape(*pts.shape[:-1], -1)

    def eval_mos(self, r: Any) -> tuple[np.ndarray, np.ndarray]:
        """All molecular orbitals of each spin at `r`: shapes (..., n_mo) twice."""
        ao = self.eval_ao(r)
        return ao @ self.mo_coeff_up, ao @ self.mo_coeff_down

    def eval_orbitals(self, r: Any, determinant: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Occupied orbitals of each spin at arbitrary positions (pretraining targets).

        Parameters
        ----------
        r : array_like
            Positions in bohr, shape (..., 3).
        determinant : int
            Which entry of :attr:`determinants` (0: the leading one, the Hartree-Fock
            determinant for Hartree-Fock results).

        Returns
        -------
        phi_up, phi_down : numpy.ndarray
            Shapes (..., n_up) and (..., n_down): ``phi_up[..., k]`` is the k-th occupied
            spin-up orbital at ``r[...]``.
        """
        if not isinstance(determinant, int | np.integer) or not 0 <= determinant < len(self.determinants):
            raise ValueError(f"determinant: expected an index in [0, {len(self.determinants)}), got {determinant!r}")
        _, up, down = self.determinants[determinant]
        ao = self.eval_ao(r)
        return ao @ self.mo_coeff_up[:, list(up)], ao @ self.mo_coeff_down[:, list(down)]

    def density(self, r: Any) -> np.ndarray:
        """Electron density of the leading determinant at `r`, shape (...)."""
        up, down = self.eval_orbitals(r)
        return np.sum(up**2, axis=-1) + np.sum(down**2, axis=-1)


def _as_points(r: Any) -> np.ndarray:
    try:
        pts = np.asarray(r, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"r: expected positions of shape (..., 3) in bohr, got {type(r).__name__}") from None
    if pts.ndim < 1 or pts.shape[-1] != 3:
        raise ValueError(f"r: expected positions of shape (..., 3) in bohr, got shape {pts.shape}")
    return pts


def _scf(mol: Molecule, basis: str, restricted: bool | None, conv_tol: float, max_cycle: int):
    from pyscf import scf

    pm = pyscf_mole(mol, basis)
    if restricted is None:
        restricted = mol.spin == 0
    if restricted and mol.spin == 0:
        mf, method = scf.RHF(pm), "RHF"
    elif restricted:
        mf, method = scf.ROHF(pm), "ROHF"
    else:
        mf, method = scf.UHF(pm), "UHF"
    mf.conv_tol = conv_tol
    mf.max_cycle = max_cycle
    mf.verbose = 0
    mf.kernel()
    if method == "UHF":
        # follow an internal instability (e.g. symmetry-broken open-shell atoms) down to a minimum
        for _ in range(3):
            mo_new = mf.stability(external=False, verbose=0)
            mo_new = mo_new[0] if isinstance(mo_new, tuple) else mo_new
            if all(np.allclose(a, b) for a, b in zip(mo_new, mf.mo_coeff, strict=True)):
                break
            dm = mf.make_rdm1(mo_new, mf.mo_occ)
            mf.kernel(dm0=dm)
    return pm, mf, method


def _check_restricted(restricted: Any) -> None:
    if restricted is not None and not isinstance(restricted, bool):
        raise TypeError(f"restricted: expected True, False or None (automatic), got {restricted!r}")


def hartree_fock(
    mol: Molecule,
    basis: str = "6-311G",
    *,
    restricted: bool | None = None,
    cas: tuple[int, int] | None = None,
    ci_threshold: float = 0.01,
    conv_tol: float = 1e-10,
    max_cycle: int = 200,
) -> HartreeFockResult:
    """Hartree-Fock (RHF, UHF or ROHF), optionally followed by CASSCF, with pyscf.

    Parameters
    ----------
    mol : Molecule
        The system.
    basis : str
        pyscf basis name.
    restricted : bool or None
        None: RHF for closed shells (spin 0), UHF otherwise. True: RHF or ROHF.
        False: UHF.
    cas : tuple of int or None
        ``(n_active_orbitals, n_active_electrons)``: run CASSCF on restricted (RHF/ROHF)
        orbitals; the unpaired electrons must be in the active space.
    ci_threshold : float
        Keep CASSCF determinants with ``|c| >= ci_threshold`` in :attr:`HartreeFockResult.determinants`.
    conv_tol : float
        SCF energy convergence threshold (hartree).
    max_cycle : int
        Maximum number of SCF iterations.

    Returns
    -------
    HartreeFockResult

    Raises
    ------
    ValueError
        Unknown basis, an active space that does not fit the molecule, or ``cas`` with
        ``restricted=False``.
    """
    _check_restricted(restricted)
    if not (isinstance(conv_tol, float | int) and 0 < conv_tol < 1):
        raise ValueError(f"conv_tol: expected a number in (0, 1), got {conv_tol!r}")
    if not isinstance(max_cycle, int) or max_cycle < 1:
        raise ValueError(f"max_cycle: expected a positive integer, got {max_cycle!r}")
    if cas is not None:
        if restricted is False:
            raise ValueError("restricted: CASSCF (cas=...) runs on restricted orbitals; use restricted=None or True")
        restricted = True
    pm, mf, method = _scf(mol, basis, restricted, float(conv_tol), max_cycle)
    n_up, n_down = mol.n_up, mol.n_down
    hf_energy = float(mf.e_tot)
    if method == "UHF":
        c_up, c_down = np.asarray(mf.mo_coeff[0]), np.asarray(mf.mo_coeff[1])
        occ_up = tuple(int(i) for i in np.flatnonzero(mf.mo_occ[0] > 0.5))
        occ_down = tuple(int(i) for i in np.flatnonzero(mf.mo_occ[1] > 0.5))
    else:
        c_up = c_down = np.asarray(mf.mo_coeff)
        occ_up = tuple(int(i) for i in np.flatnonzero(mf.mo_occ > 0.5))
        occ_down = tuple(int(i) for i in np.flatnonzero(mf.mo_occ > 1.5))
    if (len(occ_up), len(occ_down)) != (n_up, n_down):
        raise RuntimeError(f"pyscf occupied {len(occ_up)} up and {len(occ_down)} down orbitals, expected {n_up} and {n_down}")
    dets: tuple = ((1.0, occ_up, occ_down),)
    energy, converged = hf_energy, bool(mf.converged)
    if cas is not None:
        energy, c_up, dets, cas_converged, method = _casscf(mol, mf, cas, ci_threshold, pm.nao)
        c_down = c_up
        occ_up, occ_down = dets[0][1], dets[0][2]
        converged = converged and cas_converged
    c_up.setflags(write=False)
    if c_down is not c_up:
        c_down.setflags(write=False)
    return HartreeFockResult(
        energy=float(energy), method=method, basis=str(basis), hf_energy=hf_energy, converged=converged,
        n_up=n_up, n_down=n_down, mo_coeff_up=c_up, mo_coeff_down=c_down,
        occupied_up=occ_up, occupied_down=occ_down, determinants=dets, _mole=pm,
    )  # fmt: skip


def _casscf(mol: Molecule, mf, cas: Any, ci_threshold: float, n_mo: int):
    from pyscf import mcscf

    if not (isinstance(cas, tuple | list) and len(cas) == 2 and all(isinstance(v, int | np.integer) for v in cas)):
        raise TypeError(f"cas: expected (n_active_orbitals, n_active_electrons), got {cas!r}")
    n_orb, n_el = int(cas[0]), int(cas[1])
    n_inactive = mol.n_electrons - n_el
    if n_orb < 1 or n_el < mol.spin or n_el > mol.n_electrons or n_inactive % 2:
        raise ValueError(
            f"cas: ({n_orb}, {n_el}) does not fit {mol.n_electrons} electrons with spin {mol.spin}: need at least one "
            "active orbital, spin <= active electrons <= electrons, and an even number of core electrons"
        )
    n_core = n_inactive // 2
    na, nb = (n_el + mol.spin) // 2, (n_el - mol.spin) // 2
    if na > n_orb or n_core + n_orb > n_mo:
        raise ValueError(f"cas: {n_orb} active orbitals cannot hold {na} up electrons, or {n_core} core + {n_orb} active exceeds the {n_mo} orbitals of the basis")
    if not (isinstance(ci_threshold, float | int) and 0 < ci_threshold <= 1):
        raise ValueError(f"ci_threshold: expected a number in (0, 1], got {ci_threshold!r}")
    mc = mcscf.CASSCF(mf, n_orb, (na, nb))
    mc.verbose = 0
    mc.kernel()
    from pyscf.fci import addons

    big = addons.large_ci(mc.ci, n_orb, (na, nb), tol=float(ci_threshold), return_strs=False)
    core = tuple(range(n_core))
    dets = [(float(c), core + tuple(n_core + int(i) for i in oa), core + tuple(n_core + int(i) for i in ob)) for c, oa, ob in big]
    dets.sort(key=lambda d: -abs(d[0]))
    if not dets:
        raise RuntimeError("CASSCF returned no determinant above ci_threshold")
    return float(mc.e_tot), np.array(mc.mo_coeff), tuple(dets), bool(mc.converged), f"CASSCF({n_orb},{n_el})"


def ccsd_t(mol: Molecule, basis: str = "cc-pVDZ", *, frozen_core: bool = False) -> float:
    """CCSD(T) total energy with pyscf (RHF reference for closed shells, UHF otherwise).

    Parameters
    ----------
    mol : Molecule
        The system.
    basis : str
        pyscf basis name.
    frozen_core : bool
        Freeze the 1s shells of atoms beyond He (default: all electrons correlated,
        comparable with the all-electron reference energies).

    Returns
    -------
    float
        E(HF) + E_corr(CCSD) + E(T) in hartree.
    """
    from pyscf import cc

    if not isinstance(frozen_core, bool):
        raise TypeError(f"frozen_core: expected a bool, got {frozen_core!r}")
    _, mf, method = _scf(mol, basis, None, 1e-10, 200)
    frozen = sum(1 for z in mol.charges if z > 2) if frozen_core else None
    solver = cc.CCSD(mf, frozen=frozen) if method == "RHF" else cc.UCCSD(mf, frozen=frozen)
    solver.verbose = 0
    solver.conv_tol = 1e-9
    solver.kernel()
    if not solver.converged:
        raise RuntimeError(f"CCSD did not converge for {'-'.join(mol.symbols)} in {basis}")
    if mol.n_electrons < 3:
        e_t = 0.0  # (T) vanishes for two electrons (no triples)
    else:
        e_t = float(solver.ccsd_t())
    return float(solver.e_tot) + e_t


def fci(mol: Molecule, basis: str = "cc-pVDZ") -> float:
    """Full configuration interaction energy in a basis with pyscf (small systems only).

    Two-electron singlets (H2, He, HeH+, Li+ ...) use :func:`two_electron_fci`, which
    needs no four-index transformation and handles basis sets such as aug-cc-pV5Z; every
    other system uses pyscf's FCI solver.

    Parameters
    ----------
    mol : Molecule
        The system; the FCI state has ``n_up``/``n_down`` electrons (lowest state of that
        spin projection).
    basis : str
        pyscf basis name.

    Returns
    -------
    float
        Total energy in hartree.

    Raises
    ------
    ValueError
        If the determinant space exceeds :data:`FCI_MAX_DETERMINANTS`.
    """
    from pyscf import fci as pyscf_fci

    if mol.n_electrons == 2 and mol.spin == 0:
        return two_electron_fci(mol, basis)
    pm = pyscf_mole(mol, basis)
    n_mo = pm.nao
    n_det = math.comb(n_mo, mol.n_up) * math.comb(n_mo, mol.n_down)
    if n_det > FCI_MAX_DETERMINANTS:
        raise ValueError(
            f"basis: FCI for {'-'.join(mol.symbols)} in {basis!r} needs {n_det:.3g} determinants "
            f"(limit {FCI_MAX_DETERMINANTS:.0e}); use a smaller basis"
        )
    _, mf, _ = _scf(mol, basis, True, 1e-10, 200)
    solver = pyscf_fci.FCI(mf)
    solver.verbose = 0
    solver.conv_tol = 1e-10
    e, _ = solver.kernel()
    return float(e)


def two_electron_fci(mol: Molecule, basis: str = "cc-pVDZ", *, tol: float = 1e-10) -> float:
    """Exact (full CI) singlet ground-state energy of a two-electron system in a basis.

    The spatial wavefunction is expanded as Psi(r1, r2) = sum_pq C_pq phi_p(r1) phi_q(r2)
    over the RHF orbitals with C symmetric (singlet). H acts on C as
    h C + C h + V(C) with V(C)_pq = sum_rs (pr|qs) C_rs, an exchange-type contraction that
    is one pyscf ``get_k`` in the atomic basis, so no four-index transformation and no
    determinant list are needed. The lowest eigenvalue is found by Davidson iteration.

    Parameters
    ----------
    mol : Molecule
        A system with two electrons and spin 0.
    basis : str
        pyscf basis name.
    tol : float
        Davidson convergence threshold on the energy (hartree).

    Returns
    -------
    float
        Total energy (electronic + nuclear repulsion) in hartree.
    """
    from pyscf import lib

    if mol.n_electrons != 2 or mol.spin != 0:
        raise ValueError(f"mol: two_electron_fci needs two electrons with spin 0, got {mol.n_electrons} electrons and spin {mol.spin}")
    pm, mf, _ = _scf(mol, basis, True, 1e-10, 200)
    c = np.asarray(mf.mo_coeff)
    n = c.shape[1]
    h = c.T @ mf.get_hcore() @ c

    def hop(x: np.ndarray) -> np.ndarray:
        m = x.reshape(n, n)
        m = 0.5 * (m + m.T)
        vk = mf.get_k(pm, c @ m @ c.T, hermi=1)
        return (h @ m + m @ h + c.T @ vk @ c).ravel()

    eps = np.asarray(mf.mo_energy)
    diag = (eps[:, None] + eps[None, :]).ravel()
    x0 = np.zeros(n * n)
    x0[0] = 1.0  # the RHF determinant: both electrons in orbital 0
    e, _ = lib.davidson(hop, x0, diag, tol=float(tol), max_cycle=200, max_space=20, verbose=0)
    return float(e) + float(pm.energy_nuc())
