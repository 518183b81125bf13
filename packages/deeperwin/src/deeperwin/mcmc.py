"""Metropolis-Hastings sampling of ``|psi|^2``.

Walkers move by Gaussian proposals of all electrons at once (default) or of one electron at
a time; the step size is adapted after every sweep toward a target acceptance rate. Walkers
start around the nuclei: each nucleus receives about as many electrons as its charge, the
spins alternating, so the start is close to the atomic densities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["WalkerState", "assign_electrons", "init_walkers", "make_mcmc_sweep"]


class WalkerState(NamedTuple):
    """The state of the Markov chains.

    Attributes
    ----------
    r
        Electron positions, shape ``(n_walkers, n_el, 3)``.
    log_prob
        ``2 log|psi|`` at ``r``, shape ``(n_walkers,)``.
    step_size
        Standard deviation of the Gaussian proposal (bohr), a scalar array.
    acceptance
        Acceptance rate of the last sweep, a scalar array.
    """

    r: jax.Array
    log_prob: jax.Array
    step_size: jax.Array
    acceptance: jax.Array


def assign_electrons(charges: Sequence[float], n_up: int, n_down: int) -> np.ndarray:
    """Nucleus index of every electron (up-spin electrons first), by charge and spin.

    Each nucleus gets about ``Z`` electrons (the net charge is taken from or given to the
    nuclei with the largest charge); on each nucleus the spins alternate, up first, and
    surplus up or down electrons are moved to the nuclei with the most of the other spin.
    """
    z = np.asarray(charges, dtype=float)
    n_el = n_up + n_down
    counts = np.floor(z).astype(int)
    order = np.argsort(-z, kind="stable")
    k = 0
    while counts.sum() > n_el:
        i = order[k % len(z)]
        if counts[i] > 0:
            counts[i] -= 1
        k += 1
    k = 0
    while counts.sum() < n_el:
        counts[order[k % len(z)]] += 1
        k += 1
    up = (counts + 1) // 2
    down = counts // 2
    while up.sum() > n_up:
        i = int(np.argmax(up - down))
        up[i] -= 1
        down[i] += 1
    while up.sum() < n_up:
        i = int(np.argmax(down - up))
        up[i] += 1
        down[i] -= 1
    return np.concatenate([np.repeat(np.arange(len(z)), up), np.repeat(np.arange(len(z)), down)])


def init_walkers(key: jax.Array, charges: Sequence[float], nuclei: Any, n_up: int, n_down: int,
                 n_walkers: int, width: float = 1.0, dtype: Any = jnp.float32) -> jax.Array:
    """Initial electron positions ``(n_walkers, n_el, 3)``: Gaussians of ``width`` bohr around the nuclei.

    Parameters
    ----------
    key
        JAX random key.
    charges, nuclei
        Nuclear charges and positions ``(n_nuclei, 3)`` in bohr.
    n_up, n_down
        Numbers of electrons per spin.
    n_walkers
        Number of walkers (Markov chains).
    width
        Standard deviation of the Gaussian around each nucleus (bohr).
    dtype
        Floating point type of the positions.
    """
    if int(n_walkers) != n_walkers or n_walkers < 1:
        raise ValueError(f"n_walkers={n_walkers!r}: expected a positive integer")
    owner = assign_electrons(charges, n_up, n_down)
    centres = jnp.asarray(nuclei, dtype)[owner]
    noise = jax.random.normal(key, (int(n_walkers), n_up + n_down, 3), dtype)
    return centres[None] + width * noise


def make_mcmc_sweep(log_psi: Callable[..., jax.Array], n_steps: int, *, one_electron_moves: bool = False,
                    target_acceptance: float = 0.5, min_step: float = 0.01,
                    max_step: float = 2.0) -> Callable[..., WalkerState]:
    """A sweep of ``n_steps`` Metropolis-Hastings steps, jit-compatible.

    Parameters
    ----------
    log_psi
        ``(params, r, nuclei) -> log|psi|`` of one configuration.
    n_steps
        Proposals per walker in a sweep (with one-electron moves: sweeps over all electrons).
    one_electron_moves
        Move one electron per proposal instead of all electrons at once.
    target_acceptance
        The step size is multiplied by ``exp(acceptance - target)`` after each sweep.
    min_step, max_step
        Bounds of the adapted step size (bohr).

    Returns
    -------
    callable
        ``sweep(params, state, nuclei, key) -> WalkerState``; ``nuclei`` has shape
        ``(n_walkers, n_nuclei, 3)`` (one geometry per walker).
    """
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"steps_per_sample={n_steps!r}: expected a positive integer")
    if not 0.0 < target_acceptance < 1.0:
        raise ValueError(f"target_acceptance={target_acceptance!r}: expected a value in (0, 1)")
    batch_log_prob = jax.vmap(lambda p, r, n: 2.0 * log_psi(p, r, n), in_axes=(None, 0, 0))

    def propose_and_accept(params, nuclei, r, log_prob, key, step_size, electron):
        k1, k2 = jax.random.split(key)
        noise = step_size * jax.random.normal(k1, r.shape, r.dtype)
        if electron is not None:
            mask = (jnp.arange(r.shape[1]) == electron)[None, :, None]
            noise = jnp.where(mask, noise, 0.0)
        proposal = r + noise
        new_log_prob = batch_log_prob(params, proposal, nuclei)
        log_u = jnp.log(jax.random.uniform(k2, log_prob.shape, r.dtype, minval=1e-12, maxval=1.0))
        accept = (log_u < new_log_prob - log_prob) & jnp.isfinite(new_log_prob)
        r = jnp.where(accept[:, None, None], proposal, r)
        log_prob = jnp.where(accept, new_log_prob, log_prob)
        return r, log_prob, jnp.mean(accept.astype(r.dtype))

    def sweep(params, state: WalkerState, nuclei: jax.Array, key: jax.Array) -> WalkerState:
        n_el = state.r.shape[1]

        def body(i, carry):
            r, log_prob, acc = carry
            k = jax.random.fold_in(key, i)
            if one_electron_moves:
                total = jnp.zeros((), r.dtype)
                for e in range(n_el):
                    r, log_prob, a = propose_and_accept(params, nuclei, r, log_prob, jax.random.fold_in(k, e),
                                                        state.step_size, e)
                    total = total + a
                return r, log_prob, acc + total / n_el
            r, log_prob, a = propose_and_accept(params, nuclei, r, log_prob, k, state.step_size, None)
            return r, log_prob, acc + a

        log_prob = batch_log_prob(params, state.r, nuclei)
        r, log_prob, acc = jax.lax.fori_loop(0, n_steps, body, (state.r, log_prob, jnp.zeros((), state.r.dtype)))
        acceptance = acc / n_steps
        step = jnp.clip(state.step_size * jnp.exp(acceptance - target_acceptance), min_step, max_step)
        return WalkerState(r, log_prob, step.astype(state.step_size.dtype), acceptance.astype(state.acceptance.dtype))

    return sweep
