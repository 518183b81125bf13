"""Runs over geometry sets: config, run directory, exact restart, evaluation and the PES CLI."""

import csv
import json

import numpy as np
import pytest

from deeperwin.cli import main
from deeperwin.config import parse_config
from deeperwin.geometry import geometry_hash
from deeperwin.run import restart, run
from deeperwin.shared_run import geometries_from_config

# the same engine settings as tests/test_shared.py, so the compiled functions are reused
SCAN = {
    "system": "H2",
    "geometries": {"kind": "scan", "bond_lengths": [1.0, 1.5, 2.0, 2.5, 3.0]},
    "wavefunction": {"n_determinants": 1, "one_electron_width": 8, "two_electron_width": 4, "n_layers": 1},
    "sampling": {"n_walkers": 64, "steps_per_sample": 3, "burn_in": 10},
    "optimization": {"n_steps": 6, "optimizer": "adam", "learning_rate": 0.02, "pretrain_steps": 0},
    "evaluation": {"n_steps": 16},
    "checkpoint_every": 2,
    "seed": 5,
}


def test_geometry_config_kinds_and_errors():
    mols, coords = geometries_from_config(parse_config(SCAN))
    assert coords == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert [round(m.distance(0, 1), 12) for m in mols] == coords
    cfg = parse_config({"system": "H2", "geometries": {"kind": "displacement", "direction": [[0, 0, -1], [0, 0, 1]],
                                                        "amplitudes": [0.0, 0.2]}})
    mols, coords = geometries_from_config(cfg)
    assert coords == [0.0, 0.2]
    shift = mols[1].positions - mols[0].positions  # unit-norm direction: each nucleus moves 0.2/sqrt(2) along z
    np.testing.assert_allclose(shift, 0.2 / np.sqrt(2) * np.array([[0, 0, -1], [0, 0, 1]]), atol=1e-12)
    cfg = parse_config({"system": "H2", "geometries": {"kind": "explicit", "units": "angstrom",
                                                        "positions": [[[0, 0, 0], [0, 0, 0.74]]]}})
    mols, _ = geometries_from_config(cfg)
    assert mols[0].distance(0, 1) == pytest.approx(0.74 / 0.529177210903, rel=1e-6)
    with pytest.raises(ValueError, match="needs a non-empty 'bond_lengths'"):
        parse_config({"system": "H2", "geometries": {"kind": "scan"}})
    with pytest.raises(ValueError, match="did you mean 'bond_lengths'"):
        parse_config({"system": "H2", "geometries": {"kind": "scan", "bond_length": [1.0]}})


def test_shared_run_restart_is_exact_and_pes_cli(tmp_path, capsys):
    full = run(SCAN, tmp_path / "full", quiet=True)
    assert run(SCAN, tmp_path / "cut", quiet=True, stop_after=3) == {"stopped_at": 3}
    resumed = restart(tmp_path / "cut", quiet=True)
    for a, b in zip(full["geometries"], resumed["geometries"], strict=True):
        assert a["hash"] == b["hash"] and a["energy"] == b["energy"] and a["error"] == b["error"]
    rows_full = list(csv.DictReader(open(tmp_path / "full" / "metrics.csv")))
    rows_cut = list(csv.DictReader(open(tmp_path / "cut" / "metrics.csv")))
    assert [r["step"] for r in rows_cut] == [str(i) for i in range(1, 7)]
    assert [r["energy"] for r in rows_full] == [r["energy"] for r in rows_cut]
    assert [r["geometry"] for r in rows_full] == ["0", "1", "2", "3", "4", "0"]  # round robin
    ev = json.loads((tmp_path / "full" / "evaluation.json").read_text())
    mols, _ = geometries_from_config(parse_config(SCAN))
    assert [g["hash"] for g in ev["geometries"]] == [geometry_hash(m) for m in mols]
    assert all(g["error"] > 0 and g["hf_energy"] < -0.9 for g in ev["geometries"])
    for name in ("pes.csv", "pes.md", "pes.json", "pes.png", "geometries.json", "checkpoint.npz"):
        assert (tmp_path / "full" / name).is_file(), name
    pes = json.loads((tmp_path / "full" / "pes.json").read_text())
    assert [r["bond_length"] for r in pes["rows"]] == [1.0, 1.5, 2.0, 2.5, 3.0]
    # the reference column is the shipped FCI curve at the grid points
    ref = json.loads((tmp_path / "full" / "pes.json").read_text())["rows"][0]["reference"]
    assert ref == pytest.approx(-1.124539, abs=5e-4)  # exact H2 at 1.0 bohr (Kolos-Wolniewicz), up to the basis error
    assert (pes["fit"] is None) != (pes["fit_error"] is None)
    (tmp_path / "full" / "pes.md").unlink()
    assert main(["pes", str(tmp_path / "full")]) == 0
    assert "E - ref (mHa)" in capsys.readouterr().out
    assert (tmp_path / "full" / "pes.md").is_file()
    assert main(["pes", str(tmp_path / "nothing")]) == 2
    assert "evaluation.json" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "full"), "--steps", "16", "--quiet"]) == 0
    assert geometry_hash(mols[0]) in capsys.readouterr().out


def test_displacement_run_table_is_labelled_by_amplitude(tmp_path):
    # amplitudes -0.1, 0 and 0.1 bohr (zero and negative values are valid coordinates of a displacement)
    cfg = {**SCAN, "geometries": {"kind": "displacement", "direction": [[0, 0, -1], [0, 0, 1]],
                                  "amplitudes": [0.1, -0.1, 0.0]},
           "optimization": {**SCAN["optimization"], "n_steps": 3}}
    out = run(cfg, tmp_path / "d", quiet=True)
    assert sorted(g["coordinate"] for g in out["geometries"]) == [-0.1, 0.0, 0.1]
    md = (tmp_path / "d" / "pes.md").read_text()
    assert "| amplitude (bohr) |" in md and "R (bohr)" not in md
    pes = json.loads((tmp_path / "d" / "pes.json").read_text())
    assert [r["amplitude"] for r in pes["rows"]] == [-0.1, 0.0, 0.1]
    assert pes["fit"] is None  # no diatomic fit of a displacement set


def test_shared_run_refuses_several_hosts(tmp_path):
    with pytest.raises(ValueError, match="parallel.distributed=True"):
        run({**SCAN, "parallel": {"distributed": True}}, tmp_path / "r")
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_h2_scan_within_3_mha_of_fci(tmp_path):
    """Accuracy run (about 2-3 minutes on 2 CPU cores): an 11-point H2 scan from 1.0 to 3.0 bohr."""
    from deeperwin.pes import load_h2_reference

    bond_lengths = [1.0, 1.2, 1.3, 1.35, 1.4, 1.45, 1.5, 1.6, 2.0, 2.5, 3.0]
    cfg = {
        "system": "H2",
        "geometries": {"kind": "scan", "bond_lengths": bond_lengths},
        "wavefunction": {"n_determinants": 2, "one_electron_width": 16, "two_electron_width": 8, "n_layers": 2},
        "sampling": {"n_walkers": 256, "steps_per_sample": 5, "burn_in": 50},
        "optimization": {"n_steps": 3000, "optimizer": "adam", "learning_rate": 0.01, "lr_decay_steps": 1000,
                         "pretrain_steps": 200},
        "evaluation": {"n_steps": 200},
        "checkpoint_every": 500,
        "seed": 0,
    }
    out = run(cfg, tmp_path / "h2", quiet=True)
    ref = load_h2_reference().energy(bond_lengths)
    for g, r in zip(out["geometries"], ref, strict=True):
        assert abs(g["energy"] - r) < 3e-3, (g, r)
        assert g["energy"] > r - 3e-3  # not (much) below the near-exact curve
    fit = json.loads((tmp_path / "h2" / "pes.json").read_text())["fit"]
    print((tmp_path / "h2" / "pes.md").read_text())
    assert fit is not None
    assert fit["equilibrium_bond_length"] == pytest.approx(1.4011, abs=0.02)  # Huber & Herzberg 1979
