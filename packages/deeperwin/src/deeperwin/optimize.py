"""Pretraining to Hartree-Fock, energy minimisation (Adam or KFAC) and evaluation.

The energy is minimised with the standard covariance estimator of its gradient,

.. math::

    \\nabla_\\theta E = 2\\, \\mathbb{E}\\big[(E_L - \\mathbb{E}[E_L])\\, \\nabla_\\theta \\log|\\psi_\\theta|\\big],

with the local energies clipped (median +- a multiple of the mean absolute deviation) in the
gradient only. Every step is guarded: a step whose loss, gradient or new parameters are not
finite is rejected and the previous parameters and optimiser state are kept.

Every random draw of step ``t`` uses ``fold_in(key(seed), t)``, so a run restarted from a
checkpoint continues with exactly the same random stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from deeperwin.hamiltonian import clip_local_energies, make_local_energy
from deeperwin.mcmc import WalkerState, init_walkers, make_mcmc_sweep
from deeperwin.parallel import to_host
from deeperwin.wavefunction import Wavefunction, WavefunctionConfig, make_wavefunction

__all__ = [
    "OptimizationConfig",
    "SamplingConfig",
    "TrainState",
    "Engine",
    "make_energy_loss",
]

# offsets that separate the random streams of the phases of a run
_PRETRAIN, _BURN_IN, _TRAIN, _EVAL = 1, 2, 3, 4
_FUNCTION_CACHE: dict[Any, dict[str, Any]] = {}


@dataclass(frozen=True)
class SamplingConfig:
    """Metropolis-Hastings settings.

    Parameters
    ----------
    n_walkers
        Number of walkers (a multiple of the number of devices when sharded).
    steps_per_sample
        Metropolis steps between two optimisation (or evaluation) steps.
    burn_in
        Sweeps of ``steps_per_sample`` steps before optimisation starts.
    init_step_size
        Initial standard deviation of the Gaussian proposal (bohr).
    target_acceptance
        Acceptance rate the step size is adapted toward.
    one_electron_moves
        Propose moves of one electron at a time instead of all electrons.
    init_width
        Width (bohr) of the initial Gaussians around the nuclei.
    """

    n_walkers: int = 512
    steps_per_sample: int = 10
    burn_in: int = 100
    init_step_size: float = 0.2
    target_acceptance: float = 0.5
    one_electron_moves: bool = False
    init_width: float = 1.0


@dataclass(frozen=True)
class OptimizationConfig:
    """Energy minimisation settings.

    Parameters
    ----------
    optimizer
        ``"adam"`` (optax) or ``"kfac"`` (kfac-jax).
    learning_rate
        Initial learning rate; it decays as ``lr / (1 + step / lr_decay_steps)``.
    lr_decay_steps
        Decay time of the learning rate (steps).
    clip_width
        Local energies are clipped to median +- ``clip_width`` mean absolute deviations
        in the gradient.
    laplacian
        ``"forward"`` (folx) or ``"reference"`` (Hessian-diagonal loop).
    kfac_damping
        Damping of KFAC.
    kfac_norm_constraint
        Norm constraint of KFAC updates.
    pretrain_steps
        Steps of supervised pretraining of the orbitals to Hartree-Fock (0: none).
    pretrain_learning_rate
        Adam learning rate of pretraining.
    """

    optimizer: Literal["adam", "kfac"] = "adam"
    learning_rate: float = 3e-3
    lr_decay_steps: float = 1000.0
    clip_width: float = 5.0
    laplacian: Literal["forward", "reference"] = "forward"
    kfac_damping: float = 1e-3
    kfac_norm_constraint: float = 1e-3
    pretrain_steps: int = 200
    pretrain_learning_rate: float = 3e-3


class TrainState(NamedTuple):
    """Everything a run needs to continue exactly: parameters, optimiser state, walkers, step."""

    params: Any
    opt_state: Any
    walkers: WalkerState
    step: int


def _all_finite(tree: Any) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)
              if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


def make_energy_loss(wf: Wavefunction, clip_width: float = 5.0,
                     laplacian: str = "forward") -> Callable[..., tuple[jax.Array, dict]]:
    """Loss ``(params, batch) -> (mean E_L, aux)`` whose gradient is the covariance estimator.

    ``batch`` is a dict with ``"r"`` ``(n_walkers, n_el, 3)`` and ``"nuclei"``
    ``(n_walkers, n_nuclei, 3)``. ``aux`` holds the local energies ``"e_loc"``.
    """
    import kfac_jax

    local_energy = jax.vmap(make_local_energy(wf.log_psi, wf.charges, laplacian), in_axes=(None, 0, 0))
    batch_log_psi = jax.vmap(wf.log_psi, in_axes=(None, 0, 0))

    @jax.custom_jvp
    def loss(params, batch):
        e_loc = local_energy(params, batch["r"], batch["nuclei"])
        return jnp.mean(e_loc), {"e_loc": e_loc}

    @loss.defjvp
    def loss_jvp(primals, tangents):
        params, batch = primals
        params_dot = tangents[0]
        value, aux = loss(params, batch)
        e_clip = clip_local_energies(aux["e_loc"], clip_width)
        centred = e_clip - jnp.mean(e_clip)
        log_psi, log_psi_dot = jax.jvp(lambda p: batch_log_psi(p, batch["r"], batch["nuclei"]), (params,),
                                       (params_dot,))
        kfac_jax.register_normal_predictive_distribution(log_psi[:, None])
        value_dot = 2.0 * jnp.mean(centred * log_psi_dot)
        return (value, aux), (value_dot, jax.tree_util.tree_map(jnp.zeros_like, aux))

    return loss


class Engine:
    """The VMC engine for one molecule (or one set of nuclear charges at several geometries).

    Parameters
    ----------
    charges
        Nuclear charges.
    nuclei
        Nuclear positions ``(n_nuclei, 3)`` in bohr.
    n_up, n_down
        Electrons per spin.
    wavefunction, sampling, optimization
        Settings; defaults when None.
    seed
        Seed of every random draw of the run.
    dtype
        ``"float32"`` or ``"float64"`` (the latter needs ``jax_enable_x64``).
    """

    def __init__(self, charges: Sequence[float], nuclei: Any, n_up: int, n_down: int, *,
                 wavefunction: WavefunctionConfig | None = None, sampling: SamplingConfig | None = None,
                 optimization: OptimizationConfig | None = None, seed: int = 0,
                 dtype: str = "float32") -> None:
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype={dtype!r}: expected 'float32' or 'float64'")
        if dtype == "float64" and not jax.config.jax_enable_x64:
            raise ValueError("dtype='float64' needs jax_enable_x64 (jax.config.update('jax_enable_x64', True))")
        self.dtype = jnp.dtype(dtype)
        self.charges = tuple(float(z) for z in charges)
        self.nuclei = jnp.asarray(np.asarray(nuclei, dtype=float).reshape(-1, 3), self.dtype)
        self.n_up, self.n_down = int(n_up), int(n_down)
        self.sampling = sampling or SamplingConfig()
        self.optimization = optimization or OptimizationConfig()
        if self.optimization.optimizer not in ("adam", "kfac"):
            raise ValueError(f"optimizer={self.optimization.optimizer!r}: expected 'adam' or 'kfac'")
        self.seed = int(seed)
        self.key = jax.random.PRNGKey(self.seed)
        wf_config = wavefunction if wavefunction is not None else WavefunctionConfig()
        # compiled functions are shared by all engines of the same settings (restarts, tests, geometries)
        cache_key = (self.charges, self.n_up, self.n_down, wf_config, self.sampling, self.optimization, str(self.dtype))
        self._fns = _FUNCTION_CACHE.setdefault(cache_key, {})
        if not self._fns:
            self._fns["wf"] = make_wavefunction(self.charges, self.n_up, self.n_down, wf_config)
            s = self.sampling
            wf = self._fns["wf"]
            self._fns["sweep"] = make_mcmc_sweep(wf.log_psi, s.steps_per_sample,
                                                 one_electron_moves=s.one_electron_moves,
                                                 target_acceptance=s.target_acceptance)
            self._fns["sweep_jit"] = jax.jit(self._fns["sweep"])
            self._fns["loss"] = make_energy_loss(wf, self.optimization.clip_width, self.optimization.laplacian)
            self._fns["local_energy"] = jax.jit(jax.vmap(make_local_energy(wf.log_psi, self.charges,
                                                                           self.optimization.laplacian),
                                                         in_axes=(None, 0, 0)))
        self.wf = self._fns["wf"]
        self._sweep = self._fns["sweep"]
        self._sweep_jit = self._fns["sweep_jit"]
        self._loss = self._fns["loss"]
        self._local_energy = self._fns["local_energy"]
        self.sharding = None  # walker sharding, see use_devices
        self._devices = None

    def use_devices(self, devices: Any = None) -> None:
        """Shard the walkers over ``devices`` (default: all devices of all hosts)."""
        from deeperwin.parallel import walker_sharding

        self._devices = jax.devices() if devices is None else list(devices)
        self.sharding = walker_sharding(self.sampling.n_walkers, self._devices)

    def place_state(self, state: TrainState) -> TrainState:
        """Put a state on the devices (walkers sharded, the rest replicated); a no-op without sharding."""
        if self.sharding is None:
            return state
        from deeperwin.parallel import shard_state

        return shard_state(state, self.sampling.n_walkers, self._devices)

    # ------------------------------------------------------------------ helpers
    def _key(self, phase: int, step: int) -> jax.Array:
        return jax.random.fold_in(jax.random.fold_in(self.key, phase), step)

    def _nuclei_batch(self, n_walkers: int) -> jax.Array:
        return jnp.broadcast_to(self.nuclei, (n_walkers, *self.nuclei.shape))

    def _place(self, x: jax.Array) -> jax.Array:
        return x if self.sharding is None else jax.device_put(x, self.sharding)

    def _schedule(self) -> optax.Schedule:
        o = self.optimization
        return lambda t: o.learning_rate / (1.0 + t / o.lr_decay_steps)

    # ------------------------------------------------------------------ initialisation
    def init_walkers(self) -> WalkerState:
        """Fresh walkers around the nuclei (seeded)."""
        s = self.sampling
        r = init_walkers(self._key(0, 0), self.charges, self.nuclei, self.n_up, self.n_down, s.n_walkers,
                         s.init_width, self.dtype)
        r = self._place(r)
        return WalkerState(r, jnp.zeros(r.shape[0], self.dtype), jnp.asarray(s.init_step_size, self.dtype),
                           jnp.asarray(0.0, self.dtype))

    def init_params(self) -> Any:
        """Fresh network parameters (seeded)."""
        r0 = init_walkers(self._key(0, 1), self.charges, self.nuclei, self.n_up, self.n_down, 1,
                          dtype=self.dtype)[0]
        return self.wf.init(self._key(0, 2), r0, self.nuclei)

    def init_state(self) -> TrainState:
        """Parameters, optimiser state and walkers at step 0."""
        params = self.init_params()
        walkers = self.init_walkers()
        state = self.place_state(TrainState(params, None, walkers, 0))
        return state._replace(opt_state=self.place_state_opt(self.init_opt_state(state.params, walkers)))

    def place_state_opt(self, opt_state: Any) -> Any:
        """Replicate an optimiser state over the devices (no-op without sharding)."""
        if self.sharding is None:
            return opt_state
        from deeperwin.parallel import replicated_sharding

        rep = replicated_sharding(self._devices)
        return jax.tree_util.tree_map(lambda x: jax.device_put(x, rep) if hasattr(x, "shape") else x, opt_state)

    def init_opt_state(self, params: Any, walkers: WalkerState) -> Any:
        """A fresh optimiser state for ``params``."""
        self._build_optimizer()
        if self.optimization.optimizer == "adam":
            return self._optimizer.init(params)
        batch = {"r": walkers.r, "nuclei": self._place(self._nuclei_batch(walkers.r.shape[0]))}
        return self._optimizer.init(params, self._key(_TRAIN + 10, 0), batch)

    @property
    def _optimizer(self) -> Any:
        return self._fns.get("optimizer")

    @property
    def _train_step(self) -> Any:
        return self._fns.get("train_step")

    def _build_optimizer(self) -> None:
        if self._fns.get("optimizer") is not None:
            return
        o = self.optimization
        if o.optimizer == "adam":
            opt = optax.adam(self._schedule())
            self._fns["optimizer"] = opt
            grad_fn = jax.value_and_grad(self._loss, has_aux=True)
            sweep = self._sweep

            def train_step(params, opt_state, walkers, nuclei, key):
                walkers = sweep(params, walkers, nuclei, key)
                (loss, aux), grads = grad_fn(params, {"r": walkers.r, "nuclei": nuclei})
                updates, new_opt_state = opt.update(grads, opt_state, params)
                new_params = optax.apply_updates(params, updates)
                ok = jnp.isfinite(loss) & _all_finite(grads) & _all_finite(new_params)
                params = jax.tree_util.tree_map(lambda n, p: jnp.where(ok, n, p), new_params, params)
                opt_state = jax.tree_util.tree_map(lambda n, p: jnp.where(ok, n, p), new_opt_state, opt_state)
                return params, opt_state, walkers, aux["e_loc"], ok

            self._fns["train_step"] = jax.jit(train_step)
        else:
            import kfac_jax

            self._fns["optimizer"] = kfac_jax.Optimizer(
                value_and_grad_func=jax.value_and_grad(self._loss, has_aux=True),
                l2_reg=0.0,
                value_func_has_aux=True,
                learning_rate_schedule=self._schedule(),
                momentum_schedule=lambda t: jnp.zeros([]),
                damping_schedule=lambda t: jnp.asarray(o.kfac_damping),
                norm_constraint=o.kfac_norm_constraint,
                num_burnin_steps=0,
                inverse_update_period=1,
                estimation_mode="fisher_exact",
                multi_device=False,
                include_norms_in_stats=False,
            )

    # ------------------------------------------------------------------ phases
    def burn_in(self, state: TrainState, n_sweeps: int | None = None) -> TrainState:
        """Run ``n_sweeps`` (default ``sampling.burn_in``) sweeps without changing the parameters."""
        n = self.sampling.burn_in if n_sweeps is None else n_sweeps
        nuclei = self._place(self._nuclei_batch(state.walkers.r.shape[0]))
        walkers = state.walkers
        for i in range(n):
            walkers = self._sweep_jit(state.params, walkers, nuclei, self._key(_BURN_IN, i))
        return state._replace(walkers=walkers)

    def pretrain(self, state: TrainState, hf: Any, n_steps: int | None = None,
                 callback: Callable[[int, float], None] | None = None) -> TrainState:
        """Fit the orbitals to Hartree-Fock orbitals (supervised, on samples of the network).

        Parameters
        ----------
        state
            Current state; its parameters and walkers are updated, the optimiser state is reset.
        hf
            Object with ``eval_orbitals(r) -> (phi_up, phi_down)`` (e.g.
            :func:`deeperwin.baseline.hartree_fock`).
        n_steps
            Steps (default ``optimization.pretrain_steps``).
        callback
            Called as ``callback(step, loss)``.
        """
        n = self.optimization.pretrain_steps if n_steps is None else n_steps
        n_up = self.n_up
        if "pretrain_step" not in self._fns:
            self._fns["pretrain_step"] = self._make_pretrain_step()
        step = self._fns["pretrain_step"]
        opt = self._fns["pretrain_opt"]
        params, walkers = state.params, state.walkers
        opt_state = opt.init(params)
        nuclei = self._place(self._nuclei_batch(walkers.r.shape[0]))
        for i in range(n):
            walkers = self._sweep_jit(params, walkers, nuclei, self._key(_PRETRAIN, i))
            r = to_host(walkers.r).astype(float)
            phi_up, phi_down = hf.eval_orbitals(r)
            target_up = jnp.asarray(phi_up[:, :n_up, :], self.dtype)
            target_down = jnp.asarray(phi_down[:, n_up:, :], self.dtype)
            params, opt_state, loss = step(params, opt_state, walkers.r, nuclei, self._place(target_up),
                                           self._place(target_down))
            if callback is not None:
                callback(i, float(loss))
        return TrainState(params, self.place_state_opt(self.init_opt_state(params, walkers)), walkers, state.step)

    def _make_pretrain_step(self) -> Callable[..., Any]:
        n_up, n_el = self.n_up, self.n_up + self.n_down
        opt = optax.adam(self.optimization.pretrain_learning_rate)
        orbitals = jax.vmap(self.wf.orbitals, in_axes=(None, 0, 0))

        def loss_fn(params, r, nuclei, target_up, target_down):
            phi = orbitals(params, r, nuclei)  # (W, n_det, n_el, n_el)
            loss = jnp.mean((phi[:, :, :n_up, :n_up] - target_up[:, None]) ** 2)
            if n_el > n_up:
                loss = loss + jnp.mean((phi[:, :, n_up:, n_up:] - target_down[:, None]) ** 2)
            return loss

        @jax.jit
        def step(params, opt_state, r, nuclei, target_up, target_down):
            loss, grads = jax.value_and_grad(loss_fn)(params, r, nuclei, target_up, target_down)
            updates, opt_state = opt.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        self._fns["pretrain_opt"] = opt
        return step

    def train_step(self, state: TrainState) -> tuple[TrainState, dict[str, float]]:
        """One optimisation step (a sampling sweep, then a parameter update); returns the new state and statistics.

        The statistics are ``energy`` (mean local energy before the update, unclipped),
        ``variance``, ``acceptance``, ``step_size`` and ``accepted`` (False when the NaN
        guard rejected the update).
        """
        self._build_optimizer()
        key = self._key(_TRAIN, state.step)
        nuclei = self._place(self._nuclei_batch(state.walkers.r.shape[0]))
        if self.optimization.optimizer == "adam":
            params, opt_state, walkers, e_loc, ok = self._train_step(state.params, state.opt_state, state.walkers,
                                                                     nuclei, key)
            ok = bool(ok)
        else:
            k_mcmc, k_opt = jax.random.split(key)
            walkers = self._sweep_jit(state.params, state.walkers, nuclei, k_mcmc)
            batch = {"r": walkers.r, "nuclei": nuclei}
            try:
                # kfac-jax donates the buffers of params and state: hand it copies, so that the
                # previous parameters survive for the NaN guard (and for the caller)
                params_in, opt_in = jax.tree_util.tree_map(
                    lambda x: jnp.copy(x) if isinstance(x, jax.Array) else x, (state.params, state.opt_state))
                new_params, new_opt_state, stats = self._optimizer.step(params_in, opt_in, k_opt,
                                                                        batch=batch, global_step_int=state.step)
                e_loc = stats["aux"]["e_loc"]
                ok = bool(jnp.isfinite(stats["loss"])) and bool(_all_finite(new_params)) and bool(
                    _all_finite(new_opt_state))
            except FloatingPointError:  # pragma: no cover - only with jax_debug_nans
                ok, e_loc = False, jnp.full(walkers.r.shape[0], jnp.nan)
            params, opt_state = (new_params, new_opt_state) if ok else (state.params, state.opt_state)
        e = to_host(e_loc).astype(float)
        stats = {
            "energy": float(np.nanmean(e)),
            "variance": float(np.nanvar(e)),
            "acceptance": float(walkers.acceptance),
            "step_size": float(walkers.step_size),
            "accepted": ok,
        }
        return TrainState(params, opt_state, walkers, state.step + 1), stats

    def evaluate(self, state: TrainState, n_steps: int,
                 callback: Callable[[int, float], None] | None = None) -> dict[str, Any]:
        """Sample with fixed parameters and return the per-step mean local energies.

        Returns
        -------
        dict
            ``energies`` (array of per-step walker means), ``variance`` (of the local
            energy, pooled), ``acceptance`` (mean), ``walkers`` (final walker state).
        """
        nuclei = self._place(self._nuclei_batch(state.walkers.r.shape[0]))
        walkers = state.walkers
        means, second, acc = [], [], []
        for i in range(int(n_steps)):
            walkers = self._sweep_jit(state.params, walkers, nuclei, self._key(_EVAL, i))
            e = to_host(self._local_energy(state.params, walkers.r, nuclei)).astype(float)
            means.append(float(np.nanmean(e)))
            second.append(float(np.nanmean(e**2)))
            acc.append(float(walkers.acceptance))
            if callback is not None:
                callback(i, means[-1])
        means_arr = np.asarray(means)
        return {
            "energies": means_arr,
            "variance": float(np.mean(second) - np.mean(means_arr) ** 2) if means else math.nan,
            "acceptance": float(np.mean(acc)) if acc else math.nan,
            "walkers": walkers,
        }

    def config_dict(self) -> dict[str, Any]:
        """The engine's settings as plain dictionaries."""
        return {"sampling": asdict(self.sampling), "optimization": asdict(self.optimization),
                "wavefunction": self.wf.config.to_dict(), "seed": self.seed, "dtype": str(self.dtype)}
