"""Runs: configs, bad input, checkpoints, bit-identical restart, CLI."""

import csv
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from deeperwin.checkpoint import load_checkpoint, save_checkpoint
from deeperwin.cli import main
from deeperwin.config import load_config, parse_config
from deeperwin.run import build_engine, evaluate_run, molecule_from_config, restart, run


def test_unknown_key_suggests_close_key():
    with pytest.raises(ValueError, match=r"optimization\.lerning_rate.*did you mean 'learning_rate'"):
        parse_config({"system": "He", "optimization": {"lerning_rate": 0.1}})
    with pytest.raises(ValueError, match=r"unknown key 'sampel'.*did you mean 'sampling'"):
        parse_config({"system": "He", "sampel": {}})
    with pytest.raises(ValueError, match="n_walkers"):
        parse_config({"system": "He", "sampling": {"n_walkers": 0}})
    with pytest.raises(ValueError, match="'system' is missing"):
        parse_config({})


def test_load_config_overrides_and_errors(tmp_path):
    path = tmp_path / "he.yaml"
    path.write_text("system: He\noptimization:\n  n_steps: 10\n")
    cfg = load_config(path, ["optimization.learning_rate=0.2", "sampling.one_electron_moves=true"])
    assert cfg.optimization.n_steps == 10 and cfg.optimization.learning_rate == 0.2
    assert cfg.sampling.one_electron_moves is True
    with pytest.raises(ValueError, match="KEY=VALUE"):
        load_config(path, ["optimization.n_steps"])
    (tmp_path / "bad.yaml").write_text("system: [He\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")


def test_checkpoint_roundtrip_is_safe_and_atomic(tmp_path):
    state = {"a": np.arange(6.0).reshape(2, 3), "b": (np.float32(1.5), np.array([1, 2], np.int32))}
    save_checkpoint(tmp_path, state, {"step": 7})
    restored, meta = load_checkpoint(tmp_path, state)
    assert meta == {"step": 7}
    np.testing.assert_array_equal(restored["a"], state["a"])
    assert restored["b"][1].dtype == np.int32
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.json", "checkpoint.npz"]  # no temporaries
    with np.load(tmp_path / "checkpoint.npz", allow_pickle=False) as data:
        assert len(data.files) == 3
    with pytest.raises(ValueError, match="shape"):
        load_checkpoint(tmp_path, {"a": np.zeros((3, 3)), "b": state["b"]})


def _read_metrics(run_dir):
    with open(run_dir / "metrics.csv") as fh:
        return list(csv.DictReader(fh))


def test_restart_continues_bit_identically(tmp_path, tiny_config, tiny_run):
    full, full_dir = tiny_run  # the uninterrupted run
    part = tmp_path / "part"
    stopped = run(tiny_config, part, quiet=True, stop_after=3)
    assert stopped == {"stopped_at": 3}
    resumed = restart(part, quiet=True)
    with np.load(full_dir / "checkpoint.npz") as a, np.load(part / "checkpoint.npz") as b:
        assert a.files == b.files
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])
    m_full, m_part = _read_metrics(full_dir), _read_metrics(part)
    assert [r["step"] for r in m_part] == [str(i) for i in range(1, 7)]
    assert [r["energy"] for r in m_full] == [r["energy"] for r in m_part]
    assert full["energy"] == resumed["energy"] and full["error"] == resumed["error"]
    # the written config is the full resolved config and reloads to the same settings
    written = yaml.safe_load((full_dir / "config.yaml").read_text())
    assert written["sampling"]["target_acceptance"] == 0.5
    assert parse_config(written) == parse_config(tiny_config)
    evaluation = json.loads((full_dir / "evaluation.json").read_text())
    assert evaluation["hf_energy"] < -2.8 and np.isfinite(evaluation["energy"]) and evaluation["error"] > 0
    assert (full_dir / "energy.png").is_file()
    # the CCSD(T) column: for two electrons CCSD(T) is exact in its basis, so it equals pyscf's FCI
    # (evaluated in the restarted run's directory: the shared full run is left as it is)
    again = evaluate_run(part, n_steps=20, quiet=True,
                         overrides=["evaluation.ccsd_t=true", "evaluation.ccsd_t_basis=cc-pVDZ"])
    assert again["n_steps"] == 20
    from pyscf import fci, gto, scf

    he = gto.M(atom="He 0 0 0", basis="cc-pVDZ", verbose=0)
    e_fci = fci.FCI(scf.RHF(he).run()).kernel()[0]
    assert again["ccsd_t_energy"] == pytest.approx(e_fci, abs=1e-7) and again["ccsd_t_basis"] == "cc-pVDZ"
    assert again["ccsd_t_energy"] < again["hf_energy"]
    table = (part / "results.md").read_text()
    assert f"| CCSD(T)/cc-pVDZ | {e_fci:.5f} | {1000 * (e_fci + 2.903724):+.2f} |" in table
    assert json.loads((part / "baseline.json").read_text())["ccsd_t_energy"] == again["ccsd_t_energy"]
    with pytest.raises(ValueError, match="only 'parallel.\\*', 'evaluation.\\*' keys"):
        evaluate_run(part, quiet=True, overrides=["optimization.n_steps=3"])
    with pytest.raises(ValueError, match="only 'parallel.\\*' keys"):
        restart(part, quiet=True, overrides=["evaluation.ccsd_t=true"])
    with pytest.raises(ValueError, match="at least 16"):
        evaluate_run(part, n_steps=4, quiet=True)


def test_nan_guard_rejects_step_and_keeps_parameters(tiny_config):
    cfg = parse_config(tiny_config)
    engine = build_engine(cfg, molecule_from_config(cfg))  # shares compiled functions with tiny_run
    good, stats = engine.train_step(engine.init_state())
    assert stats["accepted"]
    poisoned = good._replace(walkers=good.walkers._replace(r=good.walkers.r.at[3].set(jnp.nan)))
    after, stats = engine.train_step(poisoned)
    assert not stats["accepted"]
    for a, b in zip(jax.tree_util.tree_leaves((after.params, after.opt_state)),
                    jax.tree_util.tree_leaves((good.params, good.opt_state))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(after.params))


def test_cli_bad_input_exits_2(tmp_path, capsys, tiny_config):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({**tiny_config, "system": "Hellium"}))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "He" in err[0]
    assert not (tmp_path / "r").exists()
    cfg.write_text(yaml.safe_dump({**tiny_config, "system": {"charges": [1, 1], "positions": [[0, 0, 0], [0, 0, 0]]}}))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "overlap" in capsys.readouterr().err.lower()
    cfg.write_text(yaml.safe_dump({**tiny_config, "system": {"charges": [1], "positions": [[0, 0, 0]], "spin": 0}}))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "spin" in capsys.readouterr().err.lower()
    cfg.write_text(yaml.safe_dump({**tiny_config, "optimisation": {}}))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "did you mean 'optimization'" in capsys.readouterr().err
    assert main(["restart", str(tmp_path)]) == 2
    assert "not a deeperwin run directory" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    capsys.readouterr()
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("x")
    cfg.write_text(yaml.safe_dump(tiny_config))
    assert main(["run", str(cfg), "--out", str(existing), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.name for p in existing.iterdir()) == ["keep.txt"]
