"""Shared-weight training at several geometries: schedulers, parameter split, training, exact restart."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from deeperwin.baseline import hartree_fock
from deeperwin.checkpoint import load_checkpoint, save_checkpoint
from deeperwin.geometry import bond_length_scan
from deeperwin.optimize import OptimizationConfig, SamplingConfig
from deeperwin.pes import load_h2_reference
from deeperwin.shared import (
    RoundRobinScheduler,
    SharedEngine,
    VarianceStalenessScheduler,
    make_scheduler,
    merge_params,
    split_params,
)
from deeperwin.wavefunction import WavefunctionConfig

TINY_WF = WavefunctionConfig(n_determinants=1, one_electron_width=8, two_electron_width=4, n_layers=1)


def _engine(bond_lengths, scheduler="round_robin", n_walkers=64, seed=0):
    return SharedEngine(bond_length_scan("H2", bond_lengths), wavefunction=TINY_WF,
                        sampling=SamplingConfig(n_walkers=n_walkers, steps_per_sample=3, burn_in=10),
                        optimization=OptimizationConfig(learning_rate=0.02, pretrain_steps=0),
                        scheduler=scheduler, seed=seed)


def test_round_robin_cycles():
    s = RoundRobinScheduler()
    last, var = np.full(3, -1), np.full(3, np.nan)
    assert [s.choose(t, last, var) for t in range(7)] == [0, 1, 2, 0, 1, 2, 0]


def test_variance_staleness_scheduler_picks_what_it_should():
    s = VarianceStalenessScheduler(staleness_weight=1.0)
    # never-trained geometries first, lowest index first
    assert s.choose(5, np.array([3, -1, -1]), np.array([1.0, np.nan, np.nan])) == 1
    # same age: the largest variance
    assert s.choose(10, np.array([7, 7, 7]), np.array([0.1, 0.5, 0.2])) == 1
    # same variance: the stalest geometry
    assert s.choose(10, np.array([9, 2, 6]), np.array([0.3, 0.3, 0.3])) == 1
    # trade-off by hand: scores 1.0*(1+1/3*1)=1.33 and 0.5*(1+1/3*7)=1.67 and 0.1*(1+1/3*4)=0.23
    assert s.choose(10, np.array([9, 3, 6]), np.array([1.0, 0.5, 0.1])) == 1
    # greedy in the variance without staleness
    assert VarianceStalenessScheduler(0.0).choose(10, np.array([9, 3, 6]), np.array([1.0, 0.5, 0.1])) == 0
    with pytest.raises(ValueError, match="scheduler='fifo'"):
        make_scheduler("fifo")
    with pytest.raises(ValueError, match="staleness_weight=-1"):
        VarianceStalenessScheduler(-1)


def test_per_geometry_parameters_only_change_their_geometry():
    eng = _engine([1.0, 2.0], n_walkers=64)
    state = eng.init_state()
    shared, specific = split_params(eng.params_of(state, 0))
    assert set(specific) == {"orbitals_up", "orbitals_down", "~"}
    assert set(specific["~"]) == {"envelope_sigma_up", "envelope_pi_up", "envelope_sigma_down", "envelope_pi_down"}
    assert "one_electron_0" in shared and set(shared["~"]) == {"b_parallel", "b_antiparallel"}
    full = eng.params_of(state, 0)
    assert jax.tree_util.tree_structure(merge_params(shared, specific)) == jax.tree_util.tree_structure(full)
    r = state.walkers[1].r[:3]
    batch_log_psi = jax.jit(jax.vmap(eng.wf.log_psi, in_axes=(None, 0, None)))  # one compilation for all calls

    def psi(st, g):
        return batch_log_psi(eng.params_of(st, g), r, eng.nuclei[g])

    before_a, before_b = psi(state, 0), psi(state, 1)
    spec_a = jax.tree_util.tree_map(lambda x: x * 1.3 + 0.1, state.specific[0])
    changed = state._replace(specific=(spec_a, state.specific[1]))
    assert not np.allclose(psi(changed, 0), before_a)  # A changed
    np.testing.assert_array_equal(psi(changed, 1), before_b)  # B untouched
    shared_changed = state._replace(shared=jax.tree_util.tree_map(lambda x: x * 1.3 + 0.1, state.shared))
    assert not np.allclose(psi(shared_changed, 0), before_a)
    assert not np.allclose(psi(shared_changed, 1), before_b)


def test_shared_training_lowers_every_geometry_toward_the_reference():
    bond_lengths = [1.0, 1.4, 2.5]
    eng = _engine(bond_lengths)
    state = eng.burn_in(eng.init_state())
    start = eng.evaluate(state, 16)
    for _ in range(120):
        state, stats = eng.train_step(state)
        assert stats["accepted"]
    assert list(state.last_step) == [117, 118, 119]  # round robin: every geometry trained 40 times
    end = eng.evaluate(state, 32)
    ref = load_h2_reference().energy(bond_lengths)
    for g, m in enumerate(eng.molecules):
        e, err = end[g]["energy"], end[g]["error"]
        hf = hartree_fock(m, "6-311G").energy
        assert e < start[g]["energy"] - 0.3, (g, start[g], end[g])
        assert e > ref[g] - 5 * err - 2e-3  # variational: not below the exact energy
        assert e < hf + 0.03, (g, e, hf)  # at least close to Hartree-Fock after 40 steps per geometry
        assert end[g]["acceptance"] > 0.2


def test_variance_scheduler_restart_is_exact(tmp_path):
    eng = _engine([1.2, 2.0], scheduler="variance", n_walkers=64, seed=4)
    state = eng.burn_in(eng.init_state(), 2)
    for _ in range(3):
        state, _ = eng.train_step(state)
    save_checkpoint(tmp_path, state, {"step": state.step})
    cont = state
    picks = []
    for _ in range(4):
        cont, stats = eng.train_step(cont)
        picks.append(stats["geometry"])
    assert all(cont.last_step >= 0)
    template = _engine([1.2, 2.0], scheduler="variance", n_walkers=64, seed=4).init_state()
    restored, meta = load_checkpoint(tmp_path, template)
    assert meta == {"step": 3}
    restored = restored._replace(step=int(meta["step"]))
    for _ in range(4):
        restored, _ = eng.train_step(restored)
    for a, b in zip(jax.tree_util.tree_leaves(cont), jax.tree_util.tree_leaves(restored), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_fine_tune_from_trained_parameters_and_bad_input():
    eng = _engine([1.4], n_walkers=64)
    state = eng.init_state()
    params = eng.params_of(state, 0)
    params = jax.tree_util.tree_map(lambda x: x + 0.01, params)
    other = _engine([1.0, 3.0], n_walkers=64)
    st2 = other.init_state(params)
    for g in range(2):
        for a, b in zip(jax.tree_util.tree_leaves(other.params_of(st2, g)), jax.tree_util.tree_leaves(params),
                        strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(jnp.asarray(b, a.dtype)))
    from deeperwin.systems import get_system

    with pytest.raises(ValueError, match=r"molecules\[1\]"):
        SharedEngine([get_system("H2"), get_system("He")])
    with pytest.raises(ValueError, match="optimizer='sgd'"):
        SharedEngine(bond_length_scan("H2", [1.0]), optimization=OptimizationConfig(optimizer="sgd"))
    with pytest.raises(ValueError, match="n_steps=4"):
        eng.evaluate(state, 4)


SHARDED_SCRIPT = """
import json, tempfile
import jax, numpy as np
from deeperwin.checkpoint import load_checkpoint, save_checkpoint
from deeperwin.config import parse_config
from deeperwin.geometry import bond_length_scan
from deeperwin.optimize import OptimizationConfig, SamplingConfig
from deeperwin.shared import SharedEngine
from deeperwin.shared_run import build_shared_engine, geometries_from_config
from deeperwin.wavefunction import WavefunctionConfig

assert len(jax.devices()) == 4, jax.devices()
mols = bond_length_scan("H2", [1.2, 2.4])

def engine(devices):
    e = SharedEngine(mols, wavefunction=WavefunctionConfig(1, 8, 4, 1),
                     sampling=SamplingConfig(n_walkers=32, steps_per_sample=3, burn_in=5),
                     optimization=OptimizationConfig(learning_rate=0.02, pretrain_steps=0), seed=3)
    e.use_devices(devices)
    return e

out = {}
for name, devices in (("one", jax.devices()[:1]), ("four", jax.devices())):
    e = engine(devices)
    state = e.burn_in(e.init_state())
    energies = []
    for _ in range(16):
        state, stats = e.train_step(state)
        energies.append(stats["energy"])
    out[name] = {"energies": energies, "n_shards": [len(w.r.sharding.device_set) for w in state.walkers],
                 "eval": [r["energy"] for r in e.evaluate(state, 16)]}
    if name == "four":
        with tempfile.TemporaryDirectory() as tmp:
            save_checkpoint(tmp, state, {"step": state.step})
            e1 = engine(jax.devices()[:1])
            restored, meta = load_checkpoint(tmp, e1.init_state())
            restored = e1.place_state(restored._replace(step=meta["step"]))
            _, s4 = e.train_step(state)
            _, s1 = e1.train_step(restored)
            out["restored"] = {"energy_4": s4["energy"], "energy_1": s1["energy"],
                               "n_shards": len(restored.walkers[0].r.sharding.device_set)}
cfg = parse_config({"system": "H2", "geometries": {"kind": "scan", "bond_lengths": [1.2, 2.4]},
                    "optimization": {"optimizer": "adam"}, "sampling": {"n_walkers": 32}})
eng = build_shared_engine(cfg, geometries_from_config(cfg)[0])
out["config_shards"] = len(eng.init_state().walkers[1].r.sharding.device_set)
try:
    build_shared_engine(cfg.model_copy(update={"sampling": cfg.sampling.model_copy(update={"n_walkers": 30})}),
                        geometries_from_config(cfg)[0])
except ValueError as exc:
    out["bad_walkers"] = str(exc)
print("RESULT" + json.dumps(out))
"""


@pytest.mark.slow
def test_sharded_shared_run_matches_single_device():
    """Walkers of every geometry split over 4 forced CPU devices (subprocess: XLA_FLAGS before jax starts).

    Slow (about 3 minutes on the loaded 2-core CPU: it compiles every function for one and for four devices).
    """
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", SHARDED_SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert out["one"]["n_shards"] == [1, 1] and out["four"]["n_shards"] == [4, 4]
    e1, e4 = np.array(out["one"]["energies"]), np.array(out["four"]["energies"])
    # the same seed gives the same walkers and random stream: the first steps are the same numbers
    # up to the order of the reductions over walkers ...
    np.testing.assert_allclose(e4[:2], e1[:2], rtol=1e-4)
    # ... and later steps agree statistically (float32 round-off may flip single Metropolis decisions)
    assert abs(e1[-8:].mean() - e4[-8:].mean()) < 0.05, (e1, e4)
    np.testing.assert_allclose(out["four"]["eval"], out["one"]["eval"], atol=0.05)
    # a checkpoint written on 4 devices continues on 1 device with the same step
    r = out["restored"]
    assert r["n_shards"] == 1
    assert abs(r["energy_4"] - r["energy_1"]) < 1e-4 * abs(r["energy_4"])
    # a configuration shards by default over the local devices and names a bad walker count
    assert out["config_shards"] == 4
    assert "n_walkers=30" in out["bad_walkers"]


@pytest.mark.slow
def test_kfac_shared_training_touches_only_the_trained_geometry_and_restarts_exactly(tmp_path):
    """KFAC with one state for all geometries: a step changes the shared parameters and those of its geometry.

    Slow (about 3 minutes on the loaded 2-core CPU, mostly compiling KFAC).
    """
    def engine():
        return SharedEngine(bond_length_scan("H2", [1.0, 2.5]), wavefunction=TINY_WF,
                            sampling=SamplingConfig(n_walkers=64, steps_per_sample=3, burn_in=10),
                            optimization=OptimizationConfig(optimizer="kfac", learning_rate=0.05, pretrain_steps=0,
                                                            kfac_norm_constraint=1e-2),
                            seed=2)

    eng = engine()
    state = eng.burn_in(eng.init_state())
    start = eng.evaluate(state, 16)
    before = state
    state, stats = eng.train_step(state)
    assert stats["geometry"] == 0 and stats["accepted"]
    leaves = jax.tree_util.tree_leaves
    assert any(not np.array_equal(a, b) for a, b in zip(leaves(state.shared), leaves(before.shared), strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(leaves(state.specific[0]), leaves(before.specific[0]),
                                                         strict=True))
    for a, b in zip(leaves(state.specific[1]), leaves(before.specific[1]), strict=True):
        np.testing.assert_array_equal(a, b)  # geometry 1 was not trained at this step
    for _ in range(79):
        state, stats = eng.train_step(state)
        assert stats["accepted"]
    end = eng.evaluate(state, 32)
    ref = load_h2_reference().energy([1.0, 2.5])
    for g in range(2):
        assert end[g]["energy"] < start[g]["energy"] - 0.2, (start[g], end[g])
        assert end[g]["energy"] > ref[g] - 5 * end[g]["error"] - 2e-3
    # exact restart with the KFAC state in the checkpoint
    save_checkpoint(tmp_path, state, {"step": state.step})
    cont = state
    for _ in range(3):
        cont, _ = eng.train_step(cont)
    restored, meta = load_checkpoint(tmp_path, engine().init_state())
    restored = restored._replace(step=int(meta["step"]))
    for _ in range(3):
        restored, _ = eng.train_step(restored)
    for a, b in zip(leaves(cont), leaves(restored), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
