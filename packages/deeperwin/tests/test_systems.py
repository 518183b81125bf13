"""Molecule validation and the table of named systems (references: chemistry, pyscf, literature)."""

import math

import numpy as np
import pytest

from deeperwin.systems import (
    ANGSTROM_PER_BOHR,
    Molecule,
    atomic_number,
    get_system,
    list_systems,
)

# ground-state terms of the first-row atoms (NIST atomic spectra database): multiplicity 2S+1
GROUND_MULTIPLICITY = {"H": 2, "He": 1, "Li": 2, "Be": 1, "B": 2, "C": 3, "N": 4, "O": 3, "F": 2, "Ne": 1}

# values the brief quotes from the literature (hartree)
LITERATURE = {
    "H": -0.5,
    "He": -2.903724,  # Chakravorty et al. 1993
    "Li": -7.478060,
    "Be": -14.66736,
    "B": -24.65391,
    "C": -37.8450,
    "N": -54.5892,
    "O": -75.0673,
    "F": -99.7339,
    "Ne": -128.9376,
    "H2": -1.174475,  # Kolos & Wolniewicz, R = 1.4 bohr
    "LiH": -8.07055,
    "N2": -109.5423,
}


def test_table_contains_the_required_systems():
    names = set(list_systems())
    assert set(GROUND_MULTIPLICITY) <= names
    assert {"H2", "LiH", "Li2", "N2", "CO", "H2O", "CH4", "NH3"} <= names


@pytest.mark.parametrize("symbol", list(GROUND_MULTIPLICITY))
def test_atoms_ground_state_spin(symbol):
    mol = get_system(symbol)
    z = list(GROUND_MULTIPLICITY).index(symbol) + 1
    assert mol.n_electrons == z
    assert mol.spin + 1 == GROUND_MULTIPLICITY[symbol]
    assert mol.n_up + mol.n_down == z and mol.n_up - mol.n_down == mol.spin


def test_reference_energies_match_literature_and_have_sources():
    for name, energy in LITERATURE.items():
        assert get_system(name).reference_energy == pytest.approx(energy, abs=1e-6), name
    for name in list_systems():
        mol = get_system(name)
        assert mol.reference_energy is None or mol.reference_source
        assert mol.reference_is_vmc is False  # none of the built-in references is a QMC number
    # estimates are labelled as such
    assert "estimate" in get_system("CO").reference_source
    assert "Chakravorty" in get_system("C").reference_source


def test_geometries_against_known_structure():
    assert get_system("H2").distance(0, 1) == pytest.approx(1.4)
    assert get_system("LiH").distance(0, 1) == pytest.approx(3.015)
    assert get_system("N2").distance(0, 1) == pytest.approx(2.068)
    water = get_system("H2O")  # experimental: r = 0.9572 angstrom, angle 104.52 degrees
    assert water.distance(0, 1) * ANGSTROM_PER_BOHR == pytest.approx(0.9572, abs=2e-4)
    v1, v2 = water.positions[1] - water.positions[0], water.positions[2] - water.positions[0]
    angle = math.degrees(math.acos(v1 @ v2 / np.linalg.norm(v1) / np.linalg.norm(v2)))
    assert angle == pytest.approx(104.52, abs=0.02)
    ch4 = get_system("CH4")  # tetrahedral, C-H about 1.09 angstrom
    d = [ch4.distance(0, i) for i in range(1, 5)]
    assert np.ptp(d) < 1e-12 and d[0] * ANGSTROM_PER_BOHR == pytest.approx(1.09, abs=0.005)
    nh3 = get_system("NH3")  # N-H about 1.01 angstrom
    assert nh3.distance(0, 1) * ANGSTROM_PER_BOHR == pytest.approx(1.012, abs=0.01)


def test_nuclear_repulsion_matches_pyscf():
    from pyscf import gto

    for name in ("H2", "H2O", "NH3", "CO"):
        mol = get_system(name)
        pm = gto.M(atom=mol.to_pyscf_atom(), unit="Bohr", basis="sto-3g", spin=mol.spin, charge=mol.charge)
        assert mol.nuclear_repulsion == pytest.approx(pm.energy_nuc(), rel=1e-12)
        assert pm.nelectron == mol.n_electrons


def test_from_nuclei_units_and_default_spin():
    # 1 angstrom = 1.8897261246 bohr (CODATA 2018)
    m = Molecule.from_nuclei(["H", "H"], [[0, 0, 0], [0, 0, 0.74]], units="angstrom")
    assert m.distance(0, 1) == pytest.approx(0.74 * 1.8897261246, rel=1e-9)
    assert m.spin == 0 and m.reference_energy is None
    assert Molecule.from_nuclei([7], [0, 0, 0]).spin == 3  # N atom: quartet
    assert Molecule.from_nuclei(["Li", "H"], [[0, 0, 0], [3, 0, 0]], charge=1).spin == 1  # LiH+: doublet
    assert Molecule.from_nuclei([8], [[0, 0, 0]], charge=-1).spin == 1
    assert m.positions_in("angstrom")[1, 2] == pytest.approx(0.74)
    with pytest.raises(ValueError):
        m.positions[0, 0] = 1.0  # read-only


def test_with_positions_drops_reference():
    h2 = get_system("H2")
    stretched = h2.with_positions([[0, 0, 0], [2.0, 0, 0]])
    assert stretched.reference_energy is None and stretched.reference_source is None
    assert stretched.n_up == 1 and stretched.name == "H2"
    assert stretched != h2


def test_equality_hash_and_dict_round_trip():
    a = get_system("H2O")
    b = Molecule.from_dict(a.to_dict())
    assert a == b and hash(a) == hash(b)
    assert b.reference_energy == a.reference_energy and b.reference_source == a.reference_source
    c = Molecule(charges=(1.0,), positions=np.array([[-0.0, 0.0, 0.0]]), spin=1)
    d = Molecule(charges=(1.0,), positions=np.array([[0.0, 0.0, 0.0]]), spin=1)
    assert c == d and hash(c) == hash(d)
    with pytest.raises(ValueError, match="unknown keys"):
        Molecule.from_dict({**a.to_dict(), "colour": "red"})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"charges": ["H", "H"], "positions": [[0, 0, 0], [1.4, 0, 0]], "spin": 1}, "spin"),  # parity
        ({"charges": ["H"], "positions": [[0, 0, 0]], "spin": 0}, "spin"),
        ({"charges": ["He"], "positions": [[0, 0, 0]], "spin": 4}, "spin"),  # more than n_electrons
        ({"charges": ["H"], "positions": [[0, 0, 0]], "charge": 1}, "charge"),  # no electrons left
        ({"charges": ["H", "H"], "positions": [[0, 0, 0], [0, 0, 1e-3]]}, "overlap"),
        ({"charges": ["H", "H"], "positions": [[0, 0, 0]]}, "positions"),  # shape
        ({"charges": ["H"], "positions": [[0, 0, np.nan]]}, "positions"),
        ({"charges": ["Xx"], "positions": [[0, 0, 0]]}, "charges"),
        ({"charges": [1.5], "positions": [[0, 0, 0]]}, "charges"),
        ({"charges": [-1], "positions": [[0, 0, 0]]}, "charges"),
        ({"charges": [], "positions": np.zeros((0, 3))}, "charges"),
        ({"charges": ["H"], "positions": [[0, 0, 0]], "units": "nm"}, "units"),
    ],
)
def test_from_nuclei_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Molecule.from_nuclei(**kwargs)


def test_bad_types_name_the_argument():
    with pytest.raises(TypeError, match="charge"):
        Molecule.from_nuclei(["H"], [[0, 0, 0]], charge="0")
    with pytest.raises(TypeError, match="charges"):
        Molecule.from_nuclei("HH", [[0, 0, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match="positions"):  # the plain constructor validates too
        Molecule(charges=(1.0, 1.0), positions=np.zeros((2, 3)))


def test_get_system_names():
    assert get_system("lih").name == "LiH"
    assert get_system("water").name == "H2O"
    assert get_system("Na").n_electrons == 11 and get_system("Na").reference_energy is None
    assert get_system("Cr").spin == 6  # 3d5 4s1, 7S
    with pytest.raises(ValueError, match="LiH") as err:
        get_system("LiH2")
    assert "did you mean" in str(err.value)
    with pytest.raises(ValueError, match="CH4"):
        get_system("metane")
    with pytest.raises(ValueError, match="name"):
        get_system("unobtainium")


def test_atomic_number():
    assert atomic_number("ne") == 10.0 and atomic_number(8) == 8.0
    with pytest.raises(ValueError, match="did you mean"):
        atomic_number("Hx")
