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

    def psi(st, g):
        return jax.vmap(eng.wf.log_psi, in_axes=(None, 0, None))(eng.params_of(st, g), r, eng.nuclei[g])

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
    with pytest.raises(ValueError, match="optimizer='kfac'"):
        SharedEngine(bond_length_scan("H2", [1.0]), optimization=OptimizationConfig(optimizer="kfac"))
    with pytest.raises(ValueError, match="n_steps=4"):
        eng.evaluate(state, 4)
