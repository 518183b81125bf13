"""pyscf baselines against closed forms and published limits, orbitals by independent quadrature."""

import math

import numpy as np
import pytest

from deeperwin.baseline import ccsd_t, fci, hartree_fock, pyscf_mole, two_electron_fci
from deeperwin.systems import Molecule, get_system

HE_HF_LIMIT = -2.8616800  # numerical Hartree-Fock limit of He (Clementi & Roetti 1974; Bunge et al. 1993)
H2_EXACT = -1.174475  # Kolos & Wolniewicz, R = 1.4 bohr


@pytest.fixture(autouse=True)
def _one_pyscf_thread():
    """pyscf's OpenMP threads spin against each other on a loaded 2-core machine (measured
    7x slower for these small molecules); the numbers do not depend on the thread count."""
    from pyscf import lib

    with lib.with_omp_threads(1):
        yield


def spherical_grid(center, n_r=80, n_theta=40, n_phi=80, scale=1.0):
    """Product quadrature around `center`: Becke-mapped Gauss-Legendre radial x Gauss-Legendre
    in cos(theta) x uniform phi. Returns points (n, 3) and weights (n,)."""
    x, wx = np.polynomial.legendre.leggauss(n_r)
    r = scale * (1 + x) / (1 - x)
    wr = wx * 2 * scale / (1 - x) ** 2 * r**2
    ct, wt = np.polynomial.legendre.leggauss(n_theta)
    phi = np.arange(n_phi) * 2 * np.pi / n_phi
    wp = np.full(n_phi, 2 * np.pi / n_phi)
    R, CT, PH = np.meshgrid(r, ct, phi, indexing="ij")
    ST = np.sqrt(1 - CT**2)
    pts = np.stack([R * ST * np.cos(PH), R * ST * np.sin(PH), R * CT], axis=-1).reshape(-1, 3)
    w = (wr[:, None, None] * wt[None, :, None] * wp[None, None, :]).reshape(-1)
    return pts + np.asarray(center), w


def test_h_atom_uhf_large_basis_is_close_to_exact():
    res = hartree_fock(get_system("H"), "aug-cc-pVQZ")
    assert res.method == "UHF" and res.converged
    assert -0.5 < res.energy < -0.5 + 1e-4  # variational, near the exact -1/2
    # the occupied orbital approximates the exact 1s orbital exp(-r)/sqrt(pi)
    r = np.linspace(0.3, 4.0, 15)
    pts = np.stack([r, 0 * r, 0 * r], axis=-1)
    up, down = res.eval_orbitals(pts)
    assert up.shape == (15, 1) and down.shape == (15, 0)
    phi = up[:, 0] * np.sign(up[0, 0])
    np.testing.assert_allclose(phi, np.exp(-r) / np.sqrt(np.pi), atol=3e-3)


def test_he_rhf_near_hartree_fock_limit():
    res = hartree_fock(get_system("He"), "cc-pV5Z")
    assert res.method == "RHF"
    assert HE_HF_LIMIT - 1e-7 < res.energy < HE_HF_LIMIT + 2e-4  # above the limit by the basis error


def test_open_shell_orbitals_orthonormal_by_quadrature_and_density_integrates():
    carbon = get_system("C")
    res = hartree_fock(carbon, "6-31G")
    assert res.method == "UHF" and (res.n_up, res.n_down) == (4, 2)
    pts, w = spherical_grid([0, 0, 0], n_r=90, n_theta=16, n_phi=32, scale=0.7)
    up, down = res.eval_orbitals(pts.reshape(-1, 1, 3))  # any leading shape
    up, down = up[:, 0], down[:, 0]
    assert up.shape == (len(w), 4) and down.shape == (len(w), 2)
    np.testing.assert_allclose((up * w[:, None]).T @ up, np.eye(4), atol=1e-6)
    np.testing.assert_allclose((down * w[:, None]).T @ down, np.eye(2), atol=1e-6)
    assert np.sum(w * res.density(pts)) == pytest.approx(6.0, abs=1e-5)


def test_molecule_orbitals_by_quadrature_and_density_against_pyscf():
    from pyscf import dft, scf

    h2 = get_system("H2")
    res = hartree_fock(h2, "cc-pVDZ")
    pts, w = spherical_grid(h2.positions.mean(axis=0), n_r=100, n_theta=48, n_phi=48, scale=1.0)
    up, down = res.eval_orbitals(pts)
    assert float(np.sum(w * up[:, 0] ** 2)) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(up, down)  # RHF
    # density of an independent pyscf RHF run (density matrix route) at random points
    mf = scf.RHF(pyscf_mole(h2, "cc-pVDZ"))
    mf.verbose = 0
    mf.kernel()
    assert res.energy == pytest.approx(mf.e_tot, abs=1e-8)
    rng = np.random.default_rng(0)
    r = rng.normal(scale=1.5, size=(200, 3))
    rho = dft.numint.eval_rho(mf.mol, mf.mol.eval_gto("GTOval", r), mf.make_rdm1())
    np.testing.assert_allclose(res.density(r), rho, atol=1e-10)


def test_h2_fci_between_exact_and_hf_and_ccsd_t_exact_for_two_electrons():
    h2 = get_system("H2")
    e_hf = hartree_fock(h2, "cc-pVTZ").energy
    e_fci = fci(h2, "cc-pVTZ")
    assert H2_EXACT < e_fci < e_hf - 0.03  # about 39 mHa of correlation energy recovered
    assert e_fci - H2_EXACT < 3e-3  # cc-pVTZ basis error (about 2 mHa)
    # CCSD is exact for two electrons: CCSD(T) equals FCI in the same basis
    assert ccsd_t(h2, "cc-pVTZ") == pytest.approx(e_fci, abs=1e-7)


def test_two_electron_fci_matches_pyscf_fci_solver():
    from pyscf import fci as pyscf_fci
    from pyscf import scf

    heh = Molecule.from_nuclei(["He", "H"], [[0, 0, 0], [1.46, 0, 0]], charge=1)  # HeH+
    mf = scf.RHF(pyscf_mole(heh, "cc-pVDZ"))
    mf.verbose = 0
    mf.kernel()
    assert two_electron_fci(heh, "cc-pVDZ") == pytest.approx(pyscf_fci.FCI(mf).kernel()[0], abs=1e-9)
    with pytest.raises(ValueError, match="two electrons"):
        two_electron_fci(get_system("Li"), "sto-3g")


def test_casscf_equals_fci_when_the_active_space_is_the_whole_basis():
    stretched = get_system("H2").with_positions([[0, 0, 0], [3.0, 0, 0]])
    res = hartree_fock(stretched, "sto-3g", cas=(2, 2))
    assert res.method == "CASSCF(2,2)"
    assert res.energy == pytest.approx(fci(stretched, "sto-3g"), abs=1e-8)
    assert res.energy < res.hf_energy - 0.05  # static correlation of the stretched bond
    coefs = np.array([d[0] for d in res.determinants])
    assert len(coefs) == 2 and np.sum(coefs**2) == pytest.approx(1.0, abs=1e-8)
    assert coefs[0] * coefs[1] < 0  # sigma_g^2 - lambda sigma_u^2
    up, down = res.eval_orbitals(np.zeros((4, 3)), determinant=1)
    assert up.shape == (4, 1) and down.shape == (4, 1)


def test_uhf_is_below_rohf_and_restricted_choice():
    li = get_system("Li")
    uhf = hartree_fock(li, "sto-3g")
    rohf = hartree_fock(li, "sto-3g", restricted=True)
    assert (uhf.method, rohf.method) == ("UHF", "ROHF")
    assert uhf.energy <= rohf.energy + 1e-9
    assert rohf.occupied_up == (0, 1) and rohf.occupied_down == (0,)
    assert hartree_fock(get_system("H2"), "sto-3g", restricted=False).method == "UHF"


def test_bad_input():
    h2 = get_system("H2")
    with pytest.raises(ValueError, match="basis"):
        hartree_fock(h2, "no-such-basis")
    with pytest.raises(ValueError, match="basis"):
        hartree_fock(get_system("LiH"), {"H": "sto-3g"})  # no functions for Li
    with pytest.raises(ValueError, match="restricted"):
        hartree_fock(h2, "sto-3g", restricted=False, cas=(2, 2))
    with pytest.raises(ValueError, match="cas"):
        hartree_fock(h2, "sto-3g", cas=(2, 3))
    with pytest.raises(ValueError, match="basis"):
        fci(get_system("N2"), "cc-pVTZ")  # far too many determinants: refused before any work
    res = hartree_fock(h2, "sto-3g")
    with pytest.raises(ValueError, match="r"):
        res.eval_orbitals(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="determinant"):
        res.eval_orbitals(np.zeros((4, 3)), determinant=1)
    assert math.isfinite(res.energy)
