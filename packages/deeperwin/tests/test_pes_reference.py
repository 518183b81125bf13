"""The shipped H2 FCI/aug-cc-pV5Z curve against the exact energy, spectroscopy and pyscf."""

import numpy as np
import pytest

from deeperwin.pes import fit_diatomic, load_h2_reference

H2_EXACT_1P4 = -1.174475  # Kolos & Wolniewicz (1964), R = 1.4 bohr
# H2 ground state: R_e = 0.74144 angstrom = 1.4011 bohr, omega_e = 4401.2 cm^-1
# (Huber & Herzberg, Constants of Diatomic Molecules, 1979)
H2_RE, H2_OMEGA = 1.4011, 4401.2


@pytest.fixture(scope="module")
def ref():
    return load_h2_reference()


def test_metadata_and_grid(ref):
    assert ref.method == "FCI" and ref.basis == "aug-cc-pV5Z"
    assert ref.command.startswith("python benchmarks/make_h2_reference.py --basis aug-cc-pV5Z")
    assert ref.pyscf_version
    r = ref.bond_lengths
    assert r[0] == pytest.approx(1.0) and r[-1] == pytest.approx(3.0) and np.all(np.diff(r) > 0)
    assert np.sum((r >= 1.3) & (r <= 1.5)) >= 7  # fine grid for fitting
    assert np.all(ref.energies < ref.hf_energies)  # correlation energy is negative


def test_equilibrium_energy_against_exact(ref):
    e = float(ref.energies[np.argmin(np.abs(ref.bond_lengths - 1.4))])
    assert H2_EXACT_1P4 < e < H2_EXACT_1P4 + 5e-4  # variational; basis error below 0.5 mHa
    assert ref.energy(1.4) == pytest.approx(e, abs=1e-12)


def test_recompute_one_point_with_pyscf(ref):
    """pyscf's own FCI solver in cc-pVTZ: above the aug-cc-pV5Z value by the basis-set difference."""
    from pyscf import fci, gto, lib, scf

    with lib.with_omp_threads(1):
        mol = gto.M(atom="H 0 0 0; H 1.4 0 0", unit="Bohr", basis="cc-pVTZ", verbose=0)
        mf = scf.RHF(mol)
        mf.conv_tol = 1e-10
        mf.kernel()
        e_tz = fci.FCI(mf).kernel()[0]
    i = int(np.argmin(np.abs(ref.bond_lengths - 1.4)))
    assert 0 < e_tz - ref.energies[i] < 3e-3  # cc-pVTZ -> aug-cc-pV5Z lowers FCI by about 2 mHa
    assert 0 < mf.e_tot - ref.hf_energies[i] < 1e-3  # and HF by less than 1 mHa


def test_spectroscopic_constants_from_the_fit(ref):
    fit = fit_diatomic(ref.bond_lengths, ref.energies, reduced_mass=("H", "H"))
    assert fit.equilibrium_bond_length == pytest.approx(H2_RE, abs=2e-3)
    assert fit.harmonic_frequency == pytest.approx(H2_OMEGA, abs=15.0)
    morse = fit_diatomic(ref.bond_lengths, ref.energies, reduced_mass=("H", "H"), model="morse", window=(1.2, 1.8))
    assert morse.equilibrium_bond_length == pytest.approx(H2_RE, abs=3e-3)
