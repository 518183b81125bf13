"""Geometry sets, the stable hash and the JSON database."""

import json

import numpy as np
import pytest

from deeperwin.geometry import (
    GeometryDatabase,
    bond_length_scan,
    displacement_scan,
    explicit_geometries,
    geometry_hash,
)
from deeperwin.systems import ANGSTROM_PER_BOHR, get_system


def test_bond_length_scan_diatomic_and_polyatomic():
    scan = bond_length_scan("LiH", [2.5, 3.015, 3.5])
    assert [round(m.distance(0, 1), 12) for m in scan] == [2.5, 3.015, 3.5]
    assert all(m.reference_energy is None for m in scan)
    assert scan[0].name == "LiH R=2.5000"
    ang = bond_length_scan("H2", [0.74], units="angstrom")[0]
    assert ang.distance(0, 1) * ANGSTROM_PER_BOHR == pytest.approx(0.74)
    water = get_system("H2O")
    stretched = bond_length_scan(water, [2.0], atoms=(0, 2))[0]
    assert stretched.distance(0, 2) == pytest.approx(2.0)
    assert stretched.distance(0, 1) == pytest.approx(water.distance(0, 1))  # other bond unchanged
    # the bond direction is kept: the H-O-H angle does not change
    v = [water.positions[2] - water.positions[0], stretched.positions[2] - stretched.positions[0]]
    assert np.cross(v[0], v[1]) == pytest.approx(np.zeros(3), abs=1e-12)


def test_displacements_and_explicit_lists():
    nh3 = get_system("NH3")
    mode = np.zeros((4, 3))
    mode[0, 2] = 1.0  # move N along the C3 axis
    geoms = displacement_scan(nh3, mode, [-0.1, 0.0, 0.1])
    assert geoms[1] == nh3.with_positions(nh3.positions)
    assert geoms[2].positions[0, 2] - nh3.positions[0, 2] == pytest.approx(0.1)
    np.testing.assert_array_equal(geoms[0].positions[1:], nh3.positions[1:])
    unnormalised = displacement_scan(nh3, 2 * mode, [0.1], normalize=False)[0]
    assert unnormalised.positions[0, 2] - nh3.positions[0, 2] == pytest.approx(0.2)
    two = explicit_geometries("H2", [[[0, 0, 0], [1.3, 0, 0]], [[0, 0, 0], [0, 1.5, 0]]])
    assert [m.distance(0, 1) for m in two] == [1.3, 1.5]


def test_geometry_hash_stable_under_noise_and_sensitive_to_changes():
    h2o = get_system("H2O")
    key = geometry_hash(h2o)
    assert len(key) == 16 and int(key, 16) >= 0
    rng = np.random.default_rng(0)
    for _ in range(20):  # noise far below the 1e-6 bohr tolerance
        noisy = h2o.with_positions(h2o.positions + rng.normal(scale=1e-12, size=(3, 3)))
        assert geometry_hash(noisy) == key
    moved = h2o.with_positions(h2o.positions + np.array([[1e-4, 0, 0], [0, 0, 0], [0, 0, 0]]))
    assert geometry_hash(moved) != key
    cation = type(h2o)(charges=h2o.charges, positions=h2o.positions, charge=1, spin=1)
    assert geometry_hash(cation) != key
    assert geometry_hash(h2o.with_positions(h2o.positions, name="other name")) == key
    # the hash is a function of the numbers only: recomputing from JSON gives the same
    again = type(h2o).from_dict(json.loads(json.dumps(h2o.to_dict())))
    assert geometry_hash(again) == key
    # a coarser tolerance absorbs the 1e-4 bohr move (of the O nucleus at the origin)
    assert geometry_hash(moved, tolerance=1e-2) == geometry_hash(h2o, tolerance=1e-2)
    with pytest.raises(ValueError, match="tolerance"):
        geometry_hash(h2o, tolerance=0)


def test_geometry_hash_known_value():
    # sha256 of the canonical JSON, computed by hand from the documented recipe
    import hashlib

    h = get_system("H")
    text = '{"charge":0,"charges":[1],"positions":[[0,0,0]],"spin":1,"tolerance":"1e-06"}'
    assert geometry_hash(h) == hashlib.sha256(text.encode()).hexdigest()[:16]


def test_database_round_trip(tmp_path):
    db = GeometryDatabase()
    keys = [db.add(m) for m in bond_length_scan("H2", [1.2, 1.4, 1.6])]
    assert len(db) == 3 and keys == db.keys()
    assert db.add(bond_length_scan("H2", [1.4 + 1e-12])[0], energy=-1.17) == keys[1]  # same geometry
    db.update(keys[1], energy_error=0.001, n_steps=1000)
    path = db.save(tmp_path / "sub" / "geometries.json")
    loaded = GeometryDatabase.load(path)
    assert loaded.keys() == keys
    assert loaded.get(keys[1]) == {"energy": -1.17, "energy_error": 0.001, "n_steps": 1000}
    assert loaded.molecule(keys[2]).distance(0, 1) == pytest.approx(1.6)
    assert bond_length_scan("H2", [1.2])[0] in loaded
    assert [k for k, _, _ in loaded.items()] == keys
    assert not list(tmp_path.joinpath("sub").glob("*.tmp"))  # nothing half-written left
    assert path.stat().st_mode & 0o044  # ordinary permissions, not mkstemp's 0600


def test_database_bad_input(tmp_path):
    db = GeometryDatabase()
    k = db.add(get_system("H2"))
    with pytest.raises(ValueError, match="energy"):
        db.update(k, energy=float("nan"))
    with pytest.raises(KeyError, match="key"):
        db.get("0000000000000000")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="path"):
        GeometryDatabase.load(bad)
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="path"):
        GeometryDatabase.load(bad)
    with pytest.raises(IsADirectoryError):
        db.save(tmp_path)
    with pytest.raises(ValueError, match="bond_lengths"):
        bond_length_scan("H2", [-1.0])
    with pytest.raises(ValueError, match="atoms"):
        bond_length_scan("H2", [1.0], atoms=(0, 0))
    with pytest.raises(ValueError, match="direction"):
        displacement_scan("H2", np.zeros((2, 3)), [0.1])
    with pytest.raises(ValueError, match="units"):
        bond_length_scan("H2", [1.0], units="pm")
