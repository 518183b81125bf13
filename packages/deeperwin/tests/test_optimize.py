"""Sampling and optimisation: exact densities (the He training run below Hartree-Fock is in test_parallel.py)."""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from deeperwin.mcmc import WalkerState, assign_electrons, init_walkers, make_mcmc_sweep
from deeperwin.optimize import Engine, OptimizationConfig, SamplingConfig
from deeperwin.wavefunction import WavefunctionConfig


def test_assign_electrons_by_charge_and_spin():
    # LiH: 3 electrons at Li, 1 at H, spins alternate; N2 triplet-free: 7 + 7
    owner = assign_electrons([3.0, 1.0], 2, 2)
    assert sorted(owner.tolist()) == [0, 0, 0, 1]
    assert owner[:2].tolist().count(0) >= 1 and owner[2:].tolist().count(0) >= 1
    owner = assign_electrons([7.0, 7.0], 7, 7)
    assert np.bincount(owner).tolist() == [7, 7]
    # cation: one electron fewer, taken from a nucleus
    assert len(assign_electrons([3.0, 1.0], 2, 1)) == 3
    r = init_walkers(jax.random.PRNGKey(0), [3.0, 1.0], np.array([[0, 0, 0], [0, 0, 30.0]]), 2, 2, 5, width=0.5)
    assert r.shape == (5, 4, 3)
    near_h = np.asarray(r[..., 2]) > 15
    assert np.all(near_h.sum(axis=1) == 1)


@pytest.mark.parametrize("one_electron", [False, True])
def test_mcmc_samples_hydrogen_density(one_electron):
    # |psi|^2 = exp(-2r) / pi: <r> = 3/2, <r^2> = 3 (closed forms)
    def log_psi(params, r, nuclei):
        return -jnp.sum(jnp.linalg.norm(r - nuclei[0], axis=-1))

    n_walkers, n_el = 512, 2 if one_electron else 1
    sweep = jax.jit(make_mcmc_sweep(log_psi, 5, one_electron_moves=one_electron, target_acceptance=0.5))
    nuclei = jnp.zeros((n_walkers, 1, 3))
    r = init_walkers(jax.random.PRNGKey(1), [1.0], np.zeros((1, 3)), n_el, 0, n_walkers)
    state = WalkerState(r, jnp.zeros(n_walkers), jnp.asarray(0.05), jnp.asarray(0.0))
    radii = []
    for i in range(200):
        state = sweep(None, state, nuclei, jax.random.PRNGKey(i))
        if i >= 50:
            radii.append(np.asarray(jnp.linalg.norm(state.r, axis=-1)).ravel())
    radii = np.concatenate(radii)
    np.testing.assert_allclose(radii.mean(), 1.5, atol=0.03)
    np.testing.assert_allclose((radii**2).mean(), 3.0, atol=0.1)
    assert abs(float(state.acceptance) - 0.5) < 0.1  # the step size was adapted from 0.05
    assert float(state.step_size) > 0.2


def _accuracy_run(mol: Any, block_error) -> tuple[float, float]:
    """The accuracy configuration of the README: KFAC, 4 determinants, 2000 steps; mean and block error."""
    from deeperwin.baseline import hartree_fock

    engine = Engine(mol.charges, mol.positions, mol.n_up, mol.n_down,
                    wavefunction=WavefunctionConfig(n_determinants=4, one_electron_width=32, two_electron_width=8),
                    sampling=SamplingConfig(n_walkers=1024, steps_per_sample=10, burn_in=100),
                    optimization=OptimizationConfig(optimizer="kfac", learning_rate=0.05, lr_decay_steps=1000,
                                                    pretrain_steps=200), seed=1)
    state = engine.pretrain(engine.init_state(), hartree_fock(mol))
    state = engine.burn_in(state)
    for _ in range(2000):
        state, _ = engine.train_step(state)
    result = engine.evaluate(state, 2000)
    energy, error = result["energies"].mean(), block_error(result["energies"], 20)
    print(f"{mol.name}: {energy:.6f} +- {error:.6f}")
    return energy, error


@pytest.mark.slow
def test_helium_accuracy(block_error):
    """He within 2 mHa of -2.903724 (exact, Pekeris) with error bar below 1 mHa."""
    from deeperwin.systems import get_system

    energy, error = _accuracy_run(get_system("He"), block_error)
    assert abs(energy - (-2.903724)) < 2e-3
    assert error < 1e-3


@pytest.mark.slow
def test_h2_accuracy(block_error):
    """H2 at 1.4 bohr within 3 mHa of -1.174475 (Kolos-Wolniewicz)."""
    from deeperwin.systems import Molecule

    energy, _ = _accuracy_run(Molecule.from_nuclei([1.0, 1.0], [[0, 0, 0], [0, 0, 1.4]], name="H2"), block_error)
    assert abs(energy - (-1.174475)) < 3e-3

