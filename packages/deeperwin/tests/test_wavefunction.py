"""Wavefunction symmetries and the local energy against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from deeperwin.hamiltonian import (
    clip_local_energies,
    kinetic_energy,
    make_local_energy,
    potential_energy,
)
from deeperwin.wavefunction import WavefunctionConfig, make_wavefunction

TINY = WavefunctionConfig(n_determinants=2, one_electron_width=8, two_electron_width=4, n_layers=2)


@pytest.mark.parametrize("method", ["forward", "reference"])
def test_hydrogen_like_exact_local_energy(method):
    # psi = exp(-Z r) is the exact ground state of a one-electron ion: E_L = -Z^2/2 everywhere
    # (H: -0.5, He+: -2.0); Z enters as a traced parameter, so both ions share one compilation
    nuclei = jnp.zeros((1, 3))
    r = jax.random.normal(jax.random.PRNGKey(0), (64, 1, 3)) * 2.0

    @jax.jit
    def e_loc(z, r):
        def one(x):
            kin = kinetic_energy(lambda y: -z * jnp.linalg.norm(y[0] - nuclei[0]), x, method)
            return kin - z / jnp.linalg.norm(x[0] - nuclei[0])

        return jax.vmap(one)(r)

    for z in (1.0, 2.0):
        np.testing.assert_allclose(np.asarray(e_loc(z, r)), -0.5 * z**2, rtol=2e-5)
    # the same through make_local_energy (potential_energy included)
    e = jax.vmap(make_local_energy(lambda p, x, R: -jnp.linalg.norm(x[0] - R[0]), [1.0], method),
                 in_axes=(None, 0, None))(None, r[:4], nuclei)
    np.testing.assert_allclose(np.asarray(e), -0.5, rtol=2e-5)


def test_coulomb_terms_closed_form():
    r = jnp.array([[0.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    nuclei = jnp.array([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    z = [2.0, 1.0]
    expected = (-2 / 1 - 1 / np.sqrt(10) - 2 / 2 - 1 / np.sqrt(13) + 1 / np.sqrt(5) + 2 / 3)
    np.testing.assert_allclose(float(potential_energy(r, nuclei, z)), expected, rtol=1e-6)


def test_gaussian_kinetic_energy_closed_form():
    # psi = exp(-a |r|^2) for 2 electrons: -1/2 (lap + |grad|^2) = sum_i (3a - 2 a^2 |r_i|^2)
    a = 0.7
    r = jax.random.normal(jax.random.PRNGKey(3), (2, 3))
    kin = kinetic_energy(lambda x: -a * jnp.sum(x**2), r, "reference")
    np.testing.assert_allclose(float(kin), float(2 * 3 * a - 2 * a**2 * jnp.sum(r**2)), rtol=1e-5)


@pytest.fixture(scope="module")
def lih():
    """A tiny network (with SchNet-like convolutions) for LiH-like 3 up + 1 down electrons."""
    wf = make_wavefunction([3.0, 1.0], 3, 1, WavefunctionConfig(n_determinants=2, one_electron_width=8,
                                                               two_electron_width=4, n_layers=2, embedding="schnet"))
    nuclei = jnp.array([[0.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    r = jax.random.normal(jax.random.PRNGKey(0), (4, 3)) + nuclei[jnp.array([0, 0, 1, 0])]
    params = wf.init(jax.random.PRNGKey(1), r, nuclei)
    return wf, params, r, nuclei


def test_antisymmetry_and_translation(lih):
    wf, params, r, nuclei = lih
    f = jax.jit(jax.vmap(wf.signed_log_psi, in_axes=(None, 0, None)))
    shift = jnp.array([0.3, -1.2, 0.7])
    swapped_up = r[jnp.array([1, 0, 2, 3])]
    batch = jnp.stack([r, swapped_up, r + shift])
    sign, logabs = f(params, batch, nuclei)
    sign_t, logabs_t = f(params, batch[2:3], nuclei + shift)
    assert float(sign[1]) == -float(sign[0])
    np.testing.assert_allclose(float(logabs[1]), float(logabs[0]), rtol=1e-5)
    assert float(sign_t[0]) == float(sign[0])
    np.testing.assert_allclose(float(logabs_t[0]), float(logabs[0]), rtol=1e-5)


def test_laplacian_methods_agree_float64():
    # helium, one layer: forward Laplacian == Hessian-diagonal loop == dense trace
    with jax.enable_x64(True):
        wf = make_wavefunction([2.0], 1, 1, WavefunctionConfig(n_determinants=1, one_electron_width=4,
                                                              two_electron_width=2, n_layers=1))
        nuclei = jnp.zeros((1, 3), jnp.float64)
        r = jax.random.normal(jax.random.PRNGKey(5), (2, 3), jnp.float64)
        params = wf.init(jax.random.PRNGKey(1), r, nuclei)

        def f(x):
            return wf.log_psi(params, x.reshape(2, 3), nuclei)

        def all_three(x):
            flat = x.reshape(-1)
            dense = -0.5 * (jnp.trace(jax.hessian(f)(flat)) + jnp.sum(jax.grad(f)(flat) ** 2))
            return kinetic_energy(f, x, "forward"), kinetic_energy(f, x, "reference"), dense

        fwd, ref, dense = jax.jit(all_three)(r)
        assert fwd.dtype == jnp.float64
        np.testing.assert_allclose(float(fwd), float(ref), rtol=1e-6)
        np.testing.assert_allclose(float(ref), float(dense), rtol=1e-6)


def test_single_spin_channel_is_finite():
    # n_down = 0 (two up electrons at a helium nucleus): value, local energy and gradients finite
    wf = make_wavefunction([2.0], 2, 0, WavefunctionConfig(1, 4, 2, 1))
    nuclei = jnp.zeros((1, 3))
    r = jnp.array([[0.3, -0.2, 0.5], [-0.4, 0.1, 0.2]])
    params = wf.init(jax.random.PRNGKey(0), r, nuclei)
    e_loc, grads = jax.jit(lambda p: (make_local_energy(wf.log_psi, wf.charges)(p, r, nuclei),
                                      jax.grad(wf.log_psi)(p, r, nuclei)))(params)
    assert np.isfinite(float(e_loc))
    assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))


def test_electron_electron_cusp(lih):
    # Kato: the spherical average of d log|psi| / d r_ij at r_ij -> 0 is 1/2 (antiparallel)
    wf, params, r, nuclei = lih
    directions = jnp.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
    eps = 1e-3

    def at(dist, u):
        # electron 3 (down) placed at distance dist from electron 0 (up)
        return wf.log_psi(params, r.at[3].set(r[0] + dist * u), nuclei)

    slopes = jax.jit(jax.vmap(lambda u: (at(2 * eps, u) - at(eps, u)) / eps))(directions)
    np.testing.assert_allclose(float(jnp.mean(slopes)), 0.5, atol=2e-2)


def test_clip_local_energies():
    e = jnp.array([-1.0, -1.1, -0.9, -1.0, 50.0, jnp.nan])
    clipped = clip_local_energies(e, width=2.0)
    med = np.median([-1.0, -1.1, -0.9, -1.0, 50.0])
    e_fill = np.array([-1.0, -1.1, -0.9, -1.0, 50.0, med])
    mad = np.mean(np.abs(e_fill - med))
    assert np.all(np.isfinite(clipped))
    np.testing.assert_allclose(float(clipped[4]), med + 2 * mad, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(clipped[:4]), np.asarray(e[:4]))


def test_config_validation():
    with pytest.raises(ValueError, match="n_layers"):
        WavefunctionConfig(n_layers=0)
    with pytest.raises(ValueError, match="n_up"):
        make_wavefunction([1.0], 0, 1)
