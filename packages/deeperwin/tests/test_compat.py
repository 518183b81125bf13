"""deeperwin 1.x configuration files (layout of deeperwin 1.1.0's configuration.py) -> 2.x configs."""

import pytest
import yaml

from deeperwin.cli import main
from deeperwin.compat import convert_v1_config, convert_v1_config_file
from deeperwin.config import load_config

V1_CONFIG = """
experiment_name: lih_kfac
comment: a deeperwin 1.1.0 run
physical:
  name: LiH
  E_ref: -8.07055
mcmc:
  n_walkers_opt: 1024
  n_walkers_eval: 1024
  n_inter_steps: 20
  n_burn_in_opt: 500
  target_acceptance_rate: 0.5
  proposal: {name: normal}
optimization:
  optimizer: {name: kfac, decay_time: 6000, damping: 0.0005, norm_constraint: 0.001}
  learning_rate: 0.1
  n_epochs: 10000
  clipping: {clip_by: 5.0}
evaluation: {n_epochs: 2000, calculate_energies: true}
model:
  embedding: {name: fermi, n_hidden_one_el: [64, 64, 64], n_hidden_two_el: [16, 16]}
  baseline: {name: casscf, basis_set: 6-311G, n_determinants: 8}
  use_jastrow: true
computation: {float_precision: float64, use_gpu: true}
"""


def test_v1_config_maps_to_v2():
    cfg, dropped = convert_v1_config(yaml.safe_load(V1_CONFIG))
    assert dropped == []
    assert cfg["system"] == "LiH"
    assert cfg["sampling"] == {"n_walkers": 1024, "steps_per_sample": 20, "burn_in": 500, "target_acceptance": 0.5}
    o = cfg["optimization"]
    assert (o["optimizer"], o["learning_rate"], o["n_steps"], o["lr_decay_steps"]) == ("kfac", 0.1, 10000, 6000.0)
    assert (o["kfac_damping"], o["kfac_norm_constraint"], o["clip_width"], o["basis"]) == (5e-4, 1e-3, 5.0, "6-311G")
    assert cfg["wavefunction"] == {"n_determinants": 8, "jastrow": True, "embedding": "ferminet",
                                   "one_electron_width": 64, "n_layers": 3, "two_electron_width": 16}
    assert cfg["evaluation"] == {"n_steps": 2000} and cfg["dtype"] == "float64"


def test_v1_explicit_nuclei_charge_and_spin():
    data = {"physical": {"Z": [3, 1], "R": [[0, 0, 0], [3.015, 0, 0]], "n_electrons": 3, "n_up": 2},
            "model": {"embedding": {"name": "simple_schnet", "embedding_dim": 32, "n_iterations": 2}}}
    cfg, _ = convert_v1_config(data)
    assert cfg["system"] == {"charges": [3, 1], "positions": [[0, 0, 0], [3.015, 0, 0]], "units": "bohr",
                             "charge": 1, "spin": 1}  # 4 protons - 3 electrons; 2 up - 1 down
    assert cfg["wavefunction"] == {"embedding": "schnet", "one_electron_width": 32, "n_layers": 2}
    # a named system with another electron count becomes explicit nuclei: Li+ has 2 electrons, spin 0
    cfg, _ = convert_v1_config({"physical": {"name": "Li", "n_electrons": 2, "n_up": 1}})
    assert cfg["system"]["charge"] == 1 and cfg["system"]["spin"] == 0 and cfg["system"]["charges"] == [3.0]


def test_v1_keys_without_equivalent_are_listed():
    data = yaml.safe_load(V1_CONFIG)
    data["model"]["use_bf_shift"] = False
    data["mcmc"]["n_burn_in_eval"] = 100
    data["logging"] = {"wandb": {"project": "x"}}
    data["optimization"]["optimizer"]["name"] = "slbfgs"
    with pytest.raises(ValueError) as info:
        convert_v1_config(data)
    msg = str(info.value)
    for key in ("model.use_bf_shift=False", "mcmc.n_burn_in_eval=100", "logging.wandb.project='x'",
                "optimization.optimizer.name='slbfgs'"):
        assert key in msg
    assert "4 key(s)" in msg
    cfg, dropped = convert_v1_config(data, drop_unmapped=True)
    assert len(dropped) == 4 and cfg["system"] == "LiH" and "optimizer" not in cfg["optimization"]
    with pytest.raises(ValueError, match="equal|one width"):
        convert_v1_config({"physical": {"name": "He"}, "model": {"embedding": {"n_hidden_one_el": [64, 32]}}})
    with pytest.raises(ValueError, match="names no system"):
        convert_v1_config({"mcmc": {"n_walkers_opt": 8}})


def test_convert_config_cli(tmp_path, capsys):
    old = tmp_path / "config.yml"
    old.write_text(V1_CONFIG)
    new = tmp_path / "new.yaml"
    assert main(["convert-config", str(old), "-o", str(new)]) == 0
    cfg = load_config(new)  # a valid 2.x configuration file
    assert cfg.system == "LiH" and cfg.wavefunction.one_electron_width == 64 and cfg.sampling.steps_per_sample == 20
    assert main(["convert-config", str(old), "-o", str(new)]) == 2  # never overwritten
    assert "already exists" in capsys.readouterr().err
    old.write_text(V1_CONFIG + "restart: {path: /old/run}\n")
    assert main(["convert-config", str(old)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "restart.path='/old/run'" in err[0]
    assert main(["convert-config", str(old), "--drop-unmapped"]) == 0
    captured = capsys.readouterr()
    assert "restart.path" in captured.err and yaml.safe_load(captured.out)["system"] == "LiH"
    _, dropped = convert_v1_config_file(old, drop_unmapped=True)
    assert dropped == ["restart.path='/old/run'"]
