"""Local energy of the electronic Hamiltonian (Born-Oppenheimer, atomic units).

.. math::

    E_L(r) = -\\tfrac12 \\left(\\nabla^2 \\log|\\psi| + |\\nabla \\log|\\psi||^2\\right) + V(r)

The Laplacian is computed either with the forward Laplacian of ``folx`` (one forward pass
that carries value, gradient and Laplacian; the default) or with a reference loop over the
diagonal of the Hessian (one Hessian-vector product per coordinate). Both work in float32
and float64: the dtype follows the electron positions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "potential_energy",
    "kinetic_energy",
    "make_local_energy",
    "clip_local_energies",
    "nuclear_repulsion",
]

LaplacianMethod = Literal["forward", "reference", "hessian"]


def nuclear_repulsion(charges: Sequence[float], nuclei: jax.Array) -> jax.Array:
    """Coulomb repulsion of the nuclei, the sum over pairs of ``Z_I Z_J / |R_I - R_J|``."""
    z = jnp.asarray(charges, dtype=jnp.asarray(nuclei).dtype)
    nuclei = jnp.asarray(nuclei)
    n = nuclei.shape[0]
    if n < 2:
        return jnp.zeros((), z.dtype)
    i, j = np.triu_indices(n, k=1)
    d = jnp.linalg.norm(nuclei[i] - nuclei[j], axis=-1)
    return jnp.sum(z[i] * z[j] / d)


def potential_energy(r: jax.Array, nuclei: jax.Array, charges: Sequence[float]) -> jax.Array:
    """Coulomb energy of one configuration: electron-nucleus, electron-electron, nucleus-nucleus.

    Parameters
    ----------
    r
        Electron positions, shape ``(n_el, 3)`` (bohr).
    nuclei
        Nuclear positions, shape ``(n_nuclei, 3)`` (bohr).
    charges
        Nuclear charges, one per nucleus.
    """
    z = jnp.asarray(charges, dtype=r.dtype)
    d_en = jnp.linalg.norm(r[:, None, :] - nuclei[None, :, :], axis=-1)
    v = -jnp.sum(z[None, :] / d_en)
    n_el = r.shape[0]
    if n_el > 1:
        i, j = np.triu_indices(n_el, k=1)
        v = v + jnp.sum(1.0 / jnp.linalg.norm(r[i] - r[j], axis=-1))
    return v + nuclear_repulsion(charges, nuclei.astype(r.dtype))


def _laplacian_and_gradient(f: Callable[[jax.Array], jax.Array], x: jax.Array,
                            method: LaplacianMethod) -> tuple[jax.Array, jax.Array]:
    """Laplacian and gradient of a scalar function of a flat vector x."""
    if method == "forward":
        import folx

        out = folx.forward_laplacian(f, sparsity_threshold=0)(x)
        grad = out.jacobian.dense_array.reshape(x.shape)
        return out.laplacian, grad
    grad_f = jax.grad(f)
    if method == "reference":
        n = x.shape[0]
        eye = jnp.eye(n, dtype=x.dtype)

        def body(i, carry):
            lap, _ = carry
            g, hv = jax.jvp(grad_f, (x,), (eye[i],))
            return lap + hv[i], g

        lap, grad = jax.lax.fori_loop(0, n, body, (jnp.zeros((), x.dtype), jnp.zeros_like(x)))
        return lap, grad
    if method == "hessian":
        return jnp.trace(jax.hessian(f)(x)), grad_f(x)
    raise ValueError(f"laplacian={method!r}: expected 'forward', 'reference' or 'hessian'")


def kinetic_energy(log_psi: Callable[[jax.Array], jax.Array], r: jax.Array,
                   method: LaplacianMethod = "forward") -> jax.Array:
    """Local kinetic energy ``-1/2 (Laplacian of log|psi| + |gradient of log|psi||^2)``.

    Parameters
    ----------
    log_psi
        ``log|psi|`` of one configuration, a function of ``r`` with shape ``(n_el, 3)``.
    r
        Electron positions ``(n_el, 3)``.
    method
        ``"forward"`` (folx forward Laplacian), ``"reference"`` (loop over the Hessian
        diagonal) or ``"hessian"`` (trace of the dense Hessian; for tests).
    """
    shape = r.shape

    def flat(x):
        return log_psi(x.reshape(shape))

    lap, grad = _laplacian_and_gradient(flat, r.reshape(-1), method)
    return -0.5 * (lap + jnp.sum(grad**2))


def make_local_energy(log_psi: Callable[..., jax.Array], charges: Sequence[float],
                      method: LaplacianMethod = "forward") -> Callable[..., jax.Array]:
    """Local energy function ``(params, r, nuclei) -> E_L`` of one configuration.

    Parameters
    ----------
    log_psi
        ``(params, r, nuclei) -> log|psi|`` (e.g. :attr:`deeperwin.wavefunction.Wavefunction.log_psi`).
    charges
        Nuclear charges.
    method
        Laplacian method, see :func:`kinetic_energy`.

    Returns
    -------
    callable
        ``local_energy(params, r, nuclei)`` for one configuration; vmap over walkers.
    """
    if method not in ("forward", "reference", "hessian"):
        raise ValueError(f"laplacian={method!r}: expected 'forward', 'reference' or 'hessian'")
    charges = tuple(float(z) for z in charges)

    def local_energy(params, r: jax.Array, nuclei: jax.Array) -> jax.Array:
        kin = kinetic_energy(lambda x: log_psi(params, x, nuclei), r, method)
        return kin + potential_energy(r, nuclei, charges)

    return local_energy


def clip_local_energies(e_loc: jax.Array, width: float = 5.0) -> jax.Array:
    """Clip local energies to median +- width * mean absolute deviation from the median.

    Used for the gradient only (outliers near nodes make it noisy); energies that are
    reported are never clipped. Non-finite entries are replaced by the median.
    """
    finite = jnp.isfinite(e_loc)
    center = jnp.nanmedian(jnp.where(finite, e_loc, jnp.nan))
    e = jnp.where(finite, e_loc, center)
    spread = jnp.mean(jnp.abs(e - center))
    return jnp.clip(e, center - width * spread, center + width * spread)
