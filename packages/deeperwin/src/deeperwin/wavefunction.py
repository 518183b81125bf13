"""Neural-network wavefunction (haiku): permutation-equivariant embedding, full determinants, Jastrow.

The wavefunction of ``n_up + n_down`` electrons in the field of fixed nuclei is

.. math::

    \\psi(r) = \\exp(J(r)) \\sum_k \\det \\Phi^k(r),

where :math:`\\Phi^k` is an ``n_el x n_el`` matrix of orbitals (full determinants: every
electron enters every orbital), each orbital the output of a permutation-equivariant
embedding of the electron times an exponential envelope around the nuclei, and :math:`J` a
Jastrow factor that carries the exact electron-electron cusp (1/2 for antiparallel and
1/4 for parallel spins). The embedding is FermiNet-like (one- and two-electron streams with
spin-resolved means) or, with ``embedding="schnet"``, additionally uses SchNet-like
continuous-filter convolutions over electron-electron and electron-nucleus pairs, as in
DeepErwin. Everything is evaluated in log space: the model returns ``(sign, log|psi|)``.

Only the electron positions are differentiated; the nuclear positions are an input, so one
set of weights can be evaluated at several geometries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["WavefunctionConfig", "Wavefunction", "make_wavefunction"]

Params = Any


@dataclass(frozen=True)
class WavefunctionConfig:
    """Architecture of the wavefunction.

    Parameters
    ----------
    n_determinants
        Number of full determinants that are summed (in log space).
    one_electron_width
        Width of the one-electron stream.
    two_electron_width
        Width of the two-electron (pair) stream.
    n_layers
        Number of interaction layers of the embedding.
    embedding
        ``"ferminet"`` (spin-resolved means of both streams) or ``"schnet"`` (additionally
        SchNet-like convolutions over electron-electron and electron-nucleus pairs, DeepErwin).
    jastrow
        Multiply by a Jastrow factor with the exact electron-electron cusp.
    """

    n_determinants: int = 4
    one_electron_width: int = 32
    two_electron_width: int = 8
    n_layers: int = 2
    embedding: Literal["ferminet", "schnet"] = "ferminet"
    jastrow: bool = True

    def __post_init__(self) -> None:
        for name in ("n_determinants", "one_electron_width", "two_electron_width", "n_layers"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}={value!r}: expected a positive integer")
        if self.embedding not in ("ferminet", "schnet"):
            raise ValueError(f"embedding={self.embedding!r}: expected 'ferminet' or 'schnet'")

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a plain dictionary."""
        return asdict(self)


class Wavefunction(NamedTuple):
    """A wavefunction model: pure functions of ``(params, r, nuclei)``.

    ``r`` holds the electron positions of one configuration, shape ``(n_el, 3)`` (up-spin
    electrons first); ``nuclei`` the nuclear positions ``(n_nuclei, 3)`` in bohr. Map over
    walkers with :func:`jax.vmap`.

    Attributes
    ----------
    init
        ``init(key, r, nuclei) -> params``.
    signed_log_psi
        ``(params, r, nuclei) -> (sign, log|psi|)``.
    log_psi
        ``(params, r, nuclei) -> log|psi|``.
    orbitals
        ``(params, r, nuclei) -> (n_determinants, n_el, n_el)`` orbital matrices, envelopes
        included, Jastrow excluded (rows: electrons; columns: the first ``n_up`` belong to
        the up-spin block, the rest to the down-spin block).
    charges, n_up, n_down, config
        What the model was built for.
    """

    init: Callable[..., Params]
    signed_log_psi: Callable[..., tuple[jax.Array, jax.Array]]
    log_psi: Callable[..., jax.Array]
    orbitals: Callable[..., jax.Array]
    charges: tuple[float, ...]
    n_up: int
    n_down: int
    config: WavefunctionConfig


def _pair_distances(diff: jax.Array) -> jax.Array:
    """Norm over the last axis of an (n, n, 3) difference array, zero and NaN-free on the diagonal."""
    n = diff.shape[0]
    eye = jnp.eye(n, dtype=diff.dtype)
    return jnp.sqrt(jnp.sum(diff**2, axis=-1) + eye) * (1.0 - eye)


def _spin_mean(x: jax.Array, start: int, stop: int, axis: int) -> jax.Array | None:
    """Mean over electrons [start, stop) along `axis`, or None for an empty spin channel."""
    if stop <= start:
        return None
    return jnp.mean(jax.lax.slice_in_dim(x, start, stop, axis=axis), axis=axis)


def _jastrow(r: jax.Array, n_up: int) -> jax.Array:
    """Pade-Jastrow sum_{i<j} c r/(1 + b r), c = 1/2 (antiparallel) or 1/4 (parallel)."""
    n_el = r.shape[0]
    if n_el < 2:
        return jnp.zeros((), r.dtype)
    d = _pair_distances(r[:, None, :] - r[None, :, :])
    spin = np.arange(n_el) < n_up
    same = spin[:, None] == spin[None, :]
    upper = np.triu(np.ones((n_el, n_el), dtype=bool), k=1)
    b_par = jax.nn.softplus(hk.get_parameter("b_parallel", (), r.dtype, hk.initializers.Constant(1.0)))
    b_anti = jax.nn.softplus(hk.get_parameter("b_antiparallel", (), r.dtype, hk.initializers.Constant(1.0)))
    c = jnp.asarray(np.where(same, 0.25, 0.5), r.dtype)
    b = jnp.where(same, b_par, b_anti)
    u = c * d / (1.0 + b * d)
    return jnp.sum(jnp.where(upper, u, 0.0))


def _network(r: jax.Array, nuclei: jax.Array, charges: tuple[float, ...], n_up: int, n_down: int,
             cfg: WavefunctionConfig) -> tuple[jax.Array, jax.Array]:
    """Orbital matrices (n_det, n_el, n_el) and the Jastrow exponent of one configuration."""
    n_el = n_up + n_down
    n_nuc = nuclei.shape[0]
    dtype = r.dtype
    # electron-nucleus features (the kink of |r - R| lets the network learn the nuclear cusp)
    r_en = r[:, None, :] - nuclei[None, :, :]
    d_en = jnp.linalg.norm(r_en, axis=-1, keepdims=True)
    scale = jnp.log1p(d_en) / d_en
    h_en = jnp.concatenate([r_en * scale, jnp.log1p(d_en)], axis=-1)  # (n_el, n_nuc, 4)
    h1 = h_en.reshape(n_el, n_nuc * 4)
    # electron-electron features: smooth at coalescence, so the Jastrow alone sets the cusp
    r_ee = r[:, None, :] - r[None, :, :]
    d_ee = _pair_distances(r_ee)[..., None]
    h2 = jnp.concatenate([r_ee / (1.0 + d_ee), d_ee**2 / (1.0 + d_ee)], axis=-1)  # (n_el, n_el, 4)

    w1, w2 = cfg.one_electron_width, cfg.two_electron_width
    if cfg.embedding == "schnet":
        nuc_embedding = hk.get_parameter("nucleus_embedding", (n_nuc, w1), dtype, hk.initializers.RandomNormal(1.0))
    for layer in range(cfg.n_layers):
        parts = [h1]
        for start, stop in ((0, n_up), (n_up, n_el)):
            g1 = _spin_mean(h1, start, stop, axis=0)
            if g1 is not None:
                parts.append(jnp.broadcast_to(g1, (n_el, g1.shape[-1])))
            g2 = _spin_mean(h2, start, stop, axis=1)
            if g2 is not None:
                parts.append(g2)
        if cfg.embedding == "schnet":
            h1_values = hk.Linear(w1, name=f"schnet_value_{layer}")(h1)
            w_ee = hk.Linear(w1, name=f"schnet_ee_filter_{layer}")(h2)
            for start, stop in ((0, n_up), (n_up, n_el)):
                if stop > start:
                    parts.append(jnp.einsum("ijf,jf->if", w_ee[:, start:stop], h1_values[start:stop]))
            w_en = hk.Linear(w1, name=f"schnet_en_filter_{layer}")(h_en)
            parts.append(jnp.einsum("iIf,If->if", w_en, nuc_embedding))
        features = jnp.concatenate(parts, axis=-1)
        new_h1 = jnp.tanh(hk.Linear(w1, name=f"one_electron_{layer}")(features))
        h1 = new_h1 + h1 if h1.shape == new_h1.shape else new_h1
        if layer < cfg.n_layers - 1:
            new_h2 = jnp.tanh(hk.Linear(w2, name=f"two_electron_{layer}")(h2))
            h2 = new_h2 + h2 if h2.shape == new_h2.shape else new_h2

    n_det = cfg.n_determinants
    charges_arr = jnp.asarray(charges, dtype)
    blocks = []
    for spin_name, start, stop in (("up", 0, n_up), ("down", n_up, n_el)):
        if stop <= start:
            continue
        n_s = stop - start
        orb = hk.Linear(n_det * n_el, name=f"orbitals_{spin_name}")(h1[start:stop])  # (n_s, n_det*n_el)
        # exponential envelopes: sum_I pi_I exp(-sigma_I |r - R_I|), exponents start at Z
        sigma = hk.get_parameter(f"envelope_sigma_{spin_name}", (n_nuc, n_det * n_el), dtype,
                                 lambda shape, dt: jnp.broadcast_to(charges_arr[:, None], shape).astype(dt) ** 0.5)
        pi = hk.get_parameter(f"envelope_pi_{spin_name}", (n_nuc, n_det * n_el), dtype, hk.initializers.Constant(1.0))
        env = jnp.sum(pi[None] * jnp.exp(-jnp.abs(sigma)[None] * d_en[start:stop]), axis=1)  # (n_s, n_det*n_el)
        blocks.append((orb * env).reshape(n_s, n_det, n_el))
    phi = jnp.concatenate(blocks, axis=0)  # (n_el, n_det, n_el)
    phi = jnp.transpose(phi, (1, 0, 2))
    jastrow = _jastrow(r, n_up) if cfg.jastrow else jnp.zeros((), dtype)
    return phi, jastrow


def _logsumdet(phi: jax.Array) -> tuple[jax.Array, jax.Array]:
    """sign and log|sum_k det phi_k|, stable in log space."""
    signs, logdets = jnp.linalg.slogdet(phi)
    shift = jax.lax.stop_gradient(jnp.max(logdets))
    total = jnp.sum(signs * jnp.exp(logdets - shift))
    return jnp.sign(total), jnp.log(jnp.abs(total)) + shift


def make_wavefunction(charges: Sequence[float], n_up: int, n_down: int,
                      config: WavefunctionConfig | None = None) -> Wavefunction:
    """Build the neural-network wavefunction for a molecule.

    Parameters
    ----------
    charges
        Nuclear charges Z, one per nucleus.
    n_up, n_down
        Numbers of up- and down-spin electrons (``n_up >= 1``, ``n_down >= 0``).
    config
        Architecture; defaults to :class:`WavefunctionConfig`.

    Returns
    -------
    Wavefunction
        Pure functions ``init``, ``signed_log_psi``, ``log_psi`` and ``orbitals``.
    """
    charges = tuple(float(z) for z in charges)
    if not charges or any(z <= 0 for z in charges):
        raise ValueError(f"charges={charges!r}: expected one or more positive nuclear charges")
    if int(n_up) != n_up or int(n_down) != n_down or n_up < 1 or n_down < 0:
        raise ValueError(f"n_up={n_up!r}, n_down={n_down!r}: expected n_up >= 1 and n_down >= 0 (integers)")
    n_up, n_down = int(n_up), int(n_down)
    cfg = config if config is not None else WavefunctionConfig()

    def forward(r: jax.Array, nuclei: jax.Array):
        phi, jastrow = _network(r, nuclei, charges, n_up, n_down, cfg)
        sign, logdet = _logsumdet(phi)
        return sign, logdet + jastrow, phi

    model = hk.without_apply_rng(hk.transform(forward))
    jit_init = jax.jit(model.init)

    def _check(r, nuclei):
        if r.shape != (n_up + n_down, 3) or nuclei.shape != (len(charges), 3):
            raise ValueError(f"r.shape={r.shape}, nuclei.shape={nuclei.shape}: expected "
                             f"({n_up + n_down}, 3) and ({len(charges)}, 3)")

    def init(key: jax.Array, r: jax.Array, nuclei: jax.Array) -> Params:
        r, nuclei = jnp.asarray(r), jnp.asarray(nuclei)
        _check(r, nuclei)
        return jit_init(key, r, nuclei.astype(r.dtype))

    def signed_log_psi(params: Params, r: jax.Array, nuclei: jax.Array):
        _check(r, nuclei)
        sign, logabs, _ = model.apply(params, r, nuclei)
        return sign, logabs

    def log_psi(params: Params, r: jax.Array, nuclei: jax.Array) -> jax.Array:
        _check(r, nuclei)
        return model.apply(params, r, nuclei)[1]

    def orbitals(params: Params, r: jax.Array, nuclei: jax.Array) -> jax.Array:
        _check(r, nuclei)
        return model.apply(params, r, nuclei)[2]

    return Wavefunction(init, signed_log_psi, log_psi, orbitals, charges, n_up, n_down, cfg)
