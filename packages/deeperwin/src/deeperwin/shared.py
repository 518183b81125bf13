"""Shared-weight optimisation of one wavefunction model at many nuclear geometries.

One network is trained at all geometries of a set (same nuclei, charge and spin; different
positions). Its parameters are split in two parts:

* **shared** (one copy for all geometries): the one- and two-electron embedding layers
  (``one_electron_*``, ``two_electron_*``, the SchNet filters and nucleus embedding) and the
  Jastrow factor;
* **per geometry** (one copy per geometry): the orbital read-out layers
  ``orbitals_up`` / ``orbitals_down`` and the envelope parameters
  ``envelope_sigma_*`` / ``envelope_pi_*`` (see :func:`per_geometry_names`).

The wavefunction of geometry ``g`` is the model evaluated with the shared parameters merged
with the parameters of ``g``. Every geometry keeps its own Markov chains (walkers and
step size) and, with Adam, its own Adam state of its per-geometry part; the shared part has one
Adam state. With KFAC (kfac-jax) there is one KFAC state for all geometries: the Kronecker
factors of the shared layers and of the per-geometry layers are running estimates over the
geometries in turn (one layer block per parameter block, the per-geometry blocks filled by
the geometry of each step), and a step changes only the shared parameters and those of the
geometry it trains. Each optimisation step trains one geometry, chosen by a scheduler:
:class:`RoundRobinScheduler` (cyclic) or :class:`VarianceStalenessScheduler` (the geometry
whose energy variance times staleness is largest). Every random draw of step ``t`` uses
``fold_in(key(seed), t)``, so a run restarted from a checkpoint continues exactly.

With :meth:`SharedEngine.use_devices` the walkers of every geometry are split over the local
devices (the helpers of :mod:`deeperwin.parallel`); parameters and optimiser states are
replicated and XLA inserts the reductions over walkers, so the step is the same computation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from deeperwin.hamiltonian import make_local_energy
from deeperwin.mcmc import WalkerState, init_walkers, make_mcmc_sweep
from deeperwin.optimize import OptimizationConfig, SamplingConfig, _all_finite, make_energy_loss
from deeperwin.systems import Molecule
from deeperwin.wavefunction import WavefunctionConfig, make_wavefunction

__all__ = [
    "per_geometry_names",
    "split_params",
    "merge_params",
    "RoundRobinScheduler",
    "VarianceStalenessScheduler",
    "make_scheduler",
    "SharedState",
    "SharedEngine",
]

_PRETRAIN, _BURN_IN, _TRAIN, _EVAL = 1, 2, 3, 4
_FUNCTION_CACHE: dict[Any, Any] = {}


def per_geometry_names(module: str, name: str) -> bool:
    """Whether the haiku parameter ``params[module][name]`` is per geometry (else shared).

    Per geometry are the orbital read-out layers (modules ``orbitals_*``) and the envelope
    exponents and weights (parameters ``envelope_*``); everything else is shared.
    """
    return module.startswith("orbitals_") or name.startswith("envelope_")


def split_params(params: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Split haiku parameters into ``(shared, per_geometry)`` by :func:`per_geometry_names`."""
    shared: dict[str, dict[str, Any]] = {}
    specific: dict[str, dict[str, Any]] = {}
    for module, entries in params.items():
        for name, value in entries.items():
            target = specific if per_geometry_names(module, name) else shared
            target.setdefault(module, {})[name] = value
    return shared, specific


def merge_params(shared: dict[str, dict[str, Any]], specific: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The full haiku parameters of one geometry (inverse of :func:`split_params`)."""
    out: dict[str, dict[str, Any]] = {m: dict(e) for m, e in shared.items()}
    for module, entries in specific.items():
        out.setdefault(module, {}).update(entries)
    return out


# ---------------------------------------------------------------------- schedulers
class RoundRobinScheduler:
    """Geometries in turn: step ``t`` trains geometry ``t mod n``."""

    name = "round_robin"

    def choose(self, step: int, last_step: np.ndarray, variance: np.ndarray) -> int:
        """The geometry to train at ``step`` (``last_step`` and ``variance`` are ignored)."""
        return int(step) % len(last_step)


class VarianceStalenessScheduler:
    """Prioritise geometries by energy variance and staleness.

    A geometry never trained comes first (lowest index). Otherwise the geometry with the
    largest score ``variance * (1 + staleness_weight * age / n)`` is chosen, where
    ``variance`` is the variance of its local energy at its last step, ``age`` the number
    of steps since it was last trained and ``n`` the number of geometries (ties: lowest
    index). With ``staleness_weight = 0`` this is greedy in the variance; a large weight
    approaches round robin.

    Parameters
    ----------
    staleness_weight
        Weight of the staleness (non-negative).
    """

    name = "variance"

    def __init__(self, staleness_weight: float = 1.0) -> None:
        if not (isinstance(staleness_weight, (int, float)) and math.isfinite(staleness_weight)
                and staleness_weight >= 0):
            raise ValueError(f"staleness_weight={staleness_weight!r}: expected a finite number >= 0")
        self.staleness_weight = float(staleness_weight)

    def choose(self, step: int, last_step: np.ndarray, variance: np.ndarray) -> int:
        """The geometry to train at ``step``.

        Parameters
        ----------
        step
            The step about to be taken.
        last_step
            Per geometry, the step at which it was last trained (-1: never).
        variance
            Per geometry, the local-energy variance at its last step (NaN: unknown).
        """
        last = np.asarray(last_step)
        never = np.flatnonzero(last < 0)
        if never.size:
            return int(never[0])
        var = np.asarray(variance, dtype=float)
        var = np.where(np.isfinite(var), var, np.inf)
        age = step - last
        score = var * (1.0 + self.staleness_weight * age / len(last))
        return int(np.argmax(score))


def make_scheduler(name: str, staleness_weight: float = 1.0) -> RoundRobinScheduler | VarianceStalenessScheduler:
    """A scheduler by name: ``"round_robin"`` or ``"variance"``."""
    if name == "round_robin":
        return RoundRobinScheduler()
    if name == "variance":
        return VarianceStalenessScheduler(staleness_weight)
    raise ValueError(f"scheduler={name!r}: expected 'round_robin' or 'variance'")


# ---------------------------------------------------------------------- engine
class SharedState(NamedTuple):
    """Everything a shared run needs to continue exactly.

    Attributes
    ----------
    shared
        Shared parameters.
    specific
        Tuple of per-geometry parameters, one per geometry.
    opt_shared
        Adam state of the shared parameters (KFAC: the one KFAC state of all parameters).
    opt_specific
        Tuple of Adam states of the per-geometry parameters (KFAC: None per geometry).
    walkers
        Tuple of :class:`~deeperwin.mcmc.WalkerState`, one per geometry (own step size).
    last_step
        Per geometry, the step at which it was last trained (-1: never), int array.
    variance
        Per geometry, the local-energy variance at its last training step (NaN: unknown).
    step
        Number of optimisation steps taken (all geometries together).
    """

    shared: Any
    specific: tuple
    opt_shared: Any
    opt_specific: tuple
    walkers: tuple
    last_step: np.ndarray
    variance: np.ndarray
    step: int


@dataclass(frozen=True)
class _Fns:
    sweep: Callable
    train_step: Callable
    local_energy: Callable
    pretrain_step: Callable


class SharedEngine:
    """VMC with shared weights at several geometries of one molecule (Adam or KFAC).

    Parameters
    ----------
    molecules
        The geometries: same charges, charge and spin (e.g. from
        :func:`deeperwin.geometry.bond_length_scan`).
    wavefunction, sampling, optimization
        Settings (defaults when None); ``optimizer`` ``"adam"`` or ``"kfac"``.
    scheduler
        ``"round_robin"`` or ``"variance"`` (see :class:`VarianceStalenessScheduler`).
    staleness_weight
        Weight of the staleness of the variance scheduler.
    seed
        Seed of every random draw.
    dtype
        ``"float32"`` or ``"float64"``.
    """

    def __init__(self, molecules: Sequence[Molecule], *, wavefunction: WavefunctionConfig | None = None,
                 sampling: SamplingConfig | None = None, optimization: OptimizationConfig | None = None,
                 scheduler: str = "round_robin", staleness_weight: float = 1.0, seed: int = 0,
                 dtype: str = "float32") -> None:
        mols = list(molecules)
        if not mols or not all(isinstance(m, Molecule) for m in mols):
            raise ValueError(f"molecules: expected one or more Molecule objects, got {molecules!r}")
        first = mols[0]
        for i, m in enumerate(mols):
            if m.charges != first.charges or m.n_up != first.n_up or m.n_down != first.n_down:
                raise ValueError(f"molecules[{i}]: charges {m.charges} and spins ({m.n_up}, {m.n_down}) differ from "
                                 f"molecules[0] ({first.charges}, ({first.n_up}, {first.n_down})); a geometry set "
                                 f"needs the same nuclei, charge and spin")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype={dtype!r}: expected 'float32' or 'float64'")
        if dtype == "float64" and not jax.config.jax_enable_x64:
            raise ValueError("dtype='float64' needs jax_enable_x64 (jax.config.update('jax_enable_x64', True))")
        self.optimization = optimization or OptimizationConfig()
        if self.optimization.optimizer not in ("adam", "kfac"):
            raise ValueError(f"optimizer={self.optimization.optimizer!r}: expected 'adam' or 'kfac'")
        self.molecules = mols
        self.sampling = sampling or SamplingConfig()
        self.dtype = jnp.dtype(dtype)
        self.charges = tuple(float(z) for z in first.charges)
        self.n_up, self.n_down = first.n_up, first.n_down
        self.nuclei = [jnp.asarray(m.positions, self.dtype) for m in mols]
        self.scheduler = make_scheduler(scheduler, staleness_weight)
        self.seed = int(seed)
        self.key = jax.random.PRNGKey(self.seed)
        wf_config = wavefunction if wavefunction is not None else WavefunctionConfig()
        # compiled functions are shared by all engines of the same settings (restarts, fine-tuning, tests)
        cache_key = (self.charges, self.n_up, self.n_down, wf_config, self.sampling, self.optimization, str(self.dtype))
        if cache_key not in _FUNCTION_CACHE:
            self.wf = make_wavefunction(self.charges, self.n_up, self.n_down, wf_config)
            _FUNCTION_CACHE[cache_key] = (self.wf, self._build(), self._opt, self._pre_opt)
        self.wf, self._fns, self._opt, self._pre_opt = _FUNCTION_CACHE[cache_key]
        self.sharding = None  # walker sharding, see use_devices
        self._devices = None

    def use_devices(self, devices: Any = None) -> None:
        """Split the walkers of every geometry over ``devices`` (default: all local devices).

        Parameters and optimiser states are replicated. Call before :meth:`init_state` (or
        put a restored state on the devices with :meth:`place_state`). One host only: the
        per-step statistics are gathered on the host.

        Raises
        ------
        ValueError
            When ``sampling.n_walkers`` is not a multiple of the number of devices, or the
            devices are not all addressable from this process.
        """
        from deeperwin.parallel import walker_sharding

        devs = jax.local_devices() if devices is None else list(devices)
        if any(d.process_index != jax.process_index() for d in devs):
            raise ValueError("devices: shared-weight training shards walkers over the devices of one host only")
        self.sharding = walker_sharding(self.sampling.n_walkers, devs)
        self._devices = devs

    def place_state(self, state: SharedState) -> SharedState:
        """Put a state on the devices: walkers split, the rest replicated (no-op without :meth:`use_devices`)."""
        if self.sharding is None:
            return state
        from deeperwin.parallel import replicated_sharding

        rep = replicated_sharding(self._devices)

        def replicate(tree):
            return jax.tree_util.tree_map(lambda x: jax.device_put(x, rep) if hasattr(x, "shape") else x, tree)

        walkers = tuple(WalkerState(jax.device_put(w.r, self.sharding), jax.device_put(w.log_prob, self.sharding),
                                    jax.device_put(w.step_size, rep), jax.device_put(w.acceptance, rep))
                        for w in state.walkers)
        return state._replace(shared=replicate(state.shared), specific=replicate(state.specific),
                              opt_shared=replicate(state.opt_shared), opt_specific=replicate(state.opt_specific),
                              walkers=walkers)

    def _place(self, x: jax.Array) -> jax.Array:
        return x if self.sharding is None else jax.device_put(x, self.sharding)

    @property
    def n_geometries(self) -> int:
        """Number of geometries."""
        return len(self.molecules)

    def _key(self, phase: int, step: int, geometry: int = 0) -> jax.Array:
        return jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(self.key, phase), step), geometry)

    def _batch_nuclei(self, g: int) -> jax.Array:
        return self._place(jnp.broadcast_to(self.nuclei[g], (self.sampling.n_walkers, *self.nuclei[g].shape)))

    def _schedule(self) -> optax.Schedule:
        o = self.optimization
        return lambda t: o.learning_rate / (1.0 + t / o.lr_decay_steps)

    def _build(self) -> _Fns:
        s, o = self.sampling, self.optimization
        sweep = make_mcmc_sweep(self.wf.log_psi, s.steps_per_sample, one_electron_moves=s.one_electron_moves,
                                target_acceptance=s.target_acceptance)
        loss = make_energy_loss(self.wf, o.clip_width, o.laplacian)
        self._opt = optax.adam(self._schedule())
        opt = self._opt
        if o.optimizer == "kfac":
            import kfac_jax

            self._opt = kfac_jax.Optimizer(
                value_and_grad_func=jax.value_and_grad(loss, has_aux=True), l2_reg=0.0, value_func_has_aux=True,
                learning_rate_schedule=self._schedule(), momentum_schedule=lambda t: jnp.zeros([]),
                damping_schedule=lambda t: jnp.asarray(o.kfac_damping), norm_constraint=o.kfac_norm_constraint,
                num_burnin_steps=0, inverse_update_period=1, estimation_mode="fisher_exact", multi_device=False,
                include_norms_in_stats=False)

        def grad_parts(shared, specific, batch):
            return jax.value_and_grad(lambda sh, sp: loss(merge_params(sh, sp), batch), argnums=(0, 1),
                                      has_aux=True)(shared, specific)

        def train_step(shared, specific, opt_shared, opt_specific, walkers, nuclei, key):
            walkers = sweep(merge_params(shared, specific), walkers, nuclei, key)
            (value, aux), (g_sh, g_sp) = grad_parts(shared, specific, {"r": walkers.r, "nuclei": nuclei})
            up_sh, new_opt_sh = opt.update(g_sh, opt_shared, shared)
            up_sp, new_opt_sp = opt.update(g_sp, opt_specific, specific)
            new_sh, new_sp = optax.apply_updates(shared, up_sh), optax.apply_updates(specific, up_sp)
            ok = (jnp.isfinite(value) & _all_finite((g_sh, g_sp)) & _all_finite((new_sh, new_sp)))

            def keep(new, old):
                return jax.tree_util.tree_map(lambda n, p: jnp.where(ok, n, p), new, old)

            return (keep(new_sh, shared), keep(new_sp, specific), keep(new_opt_sh, opt_shared),
                    keep(new_opt_sp, opt_specific), walkers, aux["e_loc"], ok)

        n_up, n_el = self.n_up, self.n_up + self.n_down
        pre_opt = optax.adam(o.pretrain_learning_rate)
        self._pre_opt = pre_opt
        orbitals = jax.vmap(self.wf.orbitals, in_axes=(None, 0, 0))

        def pre_loss(shared, specific, r, nuclei, t_up, t_down):
            phi = orbitals(merge_params(shared, specific), r, nuclei)
            value = jnp.mean((phi[:, :, :n_up, :n_up] - t_up[:, None]) ** 2)
            if n_el > n_up:
                value = value + jnp.mean((phi[:, :, n_up:, n_up:] - t_down[:, None]) ** 2)
            return value

        def pretrain_step(shared, specific, opt_state, r, nuclei, t_up, t_down):
            value, grads = jax.value_and_grad(pre_loss, argnums=(0, 1))(shared, specific, r, nuclei, t_up, t_down)
            updates, opt_state = pre_opt.update(grads, opt_state, (shared, specific))
            shared, specific = optax.apply_updates((shared, specific), updates)
            return shared, specific, opt_state, value

        local_energy = jax.vmap(make_local_energy(self.wf.log_psi, self.charges, o.laplacian), in_axes=(None, 0, 0))
        return _Fns(jax.jit(sweep), jax.jit(train_step), jax.jit(local_energy), jax.jit(pretrain_step))

    # ------------------------------------------------------------------ initialisation
    def params_of(self, state: SharedState, geometry: int) -> Any:
        """The full parameters of one geometry (shared merged with its own part)."""
        return merge_params(state.shared, state.specific[geometry])

    def init_state(self, params: Any = None) -> SharedState:
        """Step-0 state: fresh (or given) parameters copied to every geometry, fresh walkers.

        Parameters
        ----------
        params
            Full parameters to start from (e.g. of a trained single-geometry run or of one
            geometry of a trained shared run: fine-tuning); fresh seeded ones when None.
        """
        s = self.sampling
        if params is None:
            r0 = init_walkers(self._key(0, 1), self.charges, self.nuclei[0], self.n_up, self.n_down, 1,
                              dtype=self.dtype)[0]
            params = self.wf.init(self._key(0, 2), r0, self.nuclei[0])
        shared, specific = split_params(params)
        shared = jax.tree_util.tree_map(lambda x: jnp.asarray(x, self.dtype), shared)
        specific = jax.tree_util.tree_map(lambda x: jnp.asarray(x, self.dtype), specific)
        walkers = []
        for g in range(self.n_geometries):
            r = init_walkers(self._key(0, 0, g), self.charges, self.nuclei[g], self.n_up, self.n_down, s.n_walkers,
                             s.init_width, self.dtype)
            walkers.append(WalkerState(r, jnp.zeros(r.shape[0], self.dtype), jnp.asarray(s.init_step_size, self.dtype),
                                       jnp.asarray(0.0, self.dtype)))
        n = self.n_geometries
        state = self.place_state(SharedState(shared, tuple(specific for _ in range(n)), None, (), tuple(walkers),
                                             np.full(n, -1, dtype=np.int64), np.full(n, np.nan), 0))
        return self._init_opt(state)

    def _init_opt(self, state: SharedState) -> SharedState:
        """Fresh optimiser states for the parameters of ``state``."""
        n = self.n_geometries
        if self.optimization.optimizer == "adam":
            opt_shared, opt_specific = self._opt.init(state.shared), tuple(self._opt.init(sp) for sp in state.specific)
        else:
            w = state.walkers[0]
            opt_shared = self._opt.init(self.params_of(state, 0), self._key(_TRAIN + 10, 0),
                                        {"r": w.r, "nuclei": self._batch_nuclei(0)})
            opt_specific = (None,) * n
        return self.place_state(state._replace(opt_shared=opt_shared, opt_specific=opt_specific))

    # ------------------------------------------------------------------ phases
    def pretrain(self, state: SharedState, hfs: Sequence[Any], n_steps: int | None = None,
                 callback: Callable[[int, float], None] | None = None) -> SharedState:
        """Fit the orbitals to Hartree-Fock orbitals, geometries in turn (supervised).

        Parameters
        ----------
        state
            Current state; parameters and walkers are updated.
        hfs
            One Hartree-Fock result per geometry (:func:`deeperwin.baseline.hartree_fock`).
        n_steps
            Steps over all geometries (default ``optimization.pretrain_steps``).
        callback
            Called as ``callback(step, loss)``.
        """
        if len(hfs) != self.n_geometries:
            raise ValueError(f"hfs: expected {self.n_geometries} Hartree-Fock results, got {len(hfs)}")
        n = self.optimization.pretrain_steps if n_steps is None else int(n_steps)
        shared, specific, walkers = state.shared, list(state.specific), list(state.walkers)
        opt_states = [self._pre_opt.init((shared, sp)) for sp in specific]
        for i in range(n):
            g = i % self.n_geometries
            nuclei = self._batch_nuclei(g)
            walkers[g] = self._fns.sweep(merge_params(shared, specific[g]), walkers[g], nuclei,
                                         self._key(_PRETRAIN, i, g))
            phi_up, phi_down = hfs[g].eval_orbitals(np.asarray(walkers[g].r, dtype=float))
            t_up = self._place(jnp.asarray(phi_up[:, :self.n_up, :], self.dtype))
            t_down = self._place(jnp.asarray(phi_down[:, self.n_up:, :], self.dtype))
            shared, specific[g], opt_states[g], value = self._fns.pretrain_step(shared, specific[g], opt_states[g],
                                                                               walkers[g].r, nuclei, t_up, t_down)
            if callback is not None:
                callback(i, float(value))
        return self._init_opt(state._replace(shared=shared, specific=tuple(specific), walkers=tuple(walkers)))

    def burn_in(self, state: SharedState, n_sweeps: int | None = None) -> SharedState:
        """``n_sweeps`` (default ``sampling.burn_in``) sweeps at every geometry with fixed parameters."""
        n = self.sampling.burn_in if n_sweeps is None else int(n_sweeps)
        walkers = list(state.walkers)
        for g in range(self.n_geometries):
            params, nuclei = self.params_of(state, g), self._batch_nuclei(g)
            for i in range(n):
                walkers[g] = self._fns.sweep(params, walkers[g], nuclei, self._key(_BURN_IN, i, g))
        return state._replace(walkers=tuple(walkers))

    def train_step(self, state: SharedState) -> tuple[SharedState, dict[str, Any]]:
        """One optimisation step at the geometry the scheduler picks.

        Returns the new state and statistics ``geometry`` (index), ``energy`` (mean local
        energy, unclipped), ``variance``, ``acceptance``, ``step_size`` and ``accepted``.
        """
        g = self.scheduler.choose(state.step, state.last_step, state.variance)
        key = self._key(_TRAIN, state.step)
        if self.optimization.optimizer == "adam":
            sh, sp, osh, osp, walkers, e_loc, ok = self._fns.train_step(
                state.shared, state.specific[g], state.opt_shared, state.opt_specific[g], state.walkers[g],
                self._batch_nuclei(g), key)
        else:
            sh, sp, osh, walkers, e_loc, ok = self._kfac_step(state, g, key)
            osp = None
        e = np.asarray(e_loc, dtype=float)
        var = float(np.nanvar(e))
        last, variance = np.array(state.last_step), np.array(state.variance)
        last[g], variance[g] = state.step, var
        specific, opt_specific, all_walkers = list(state.specific), list(state.opt_specific), list(state.walkers)
        specific[g], opt_specific[g], all_walkers[g] = sp, osp, walkers
        new = SharedState(sh, tuple(specific), osh, tuple(opt_specific), tuple(all_walkers), last, variance,
                          state.step + 1)
        stats = {"geometry": g, "energy": float(np.nanmean(e)), "variance": var,
                 "acceptance": float(walkers.acceptance), "step_size": float(walkers.step_size),
                 "accepted": bool(ok)}
        return new, stats

    def _kfac_step(self, state: SharedState, g: int, key: jax.Array) -> tuple:
        """Sweep and one KFAC step at geometry ``g`` (NaN guard: a bad step keeps the old state)."""
        k_mcmc, k_opt = jax.random.split(key)
        nuclei = self._batch_nuclei(g)
        params = self.params_of(state, g)
        walkers = self._fns.sweep(params, state.walkers[g], nuclei, k_mcmc)
        try:
            # kfac-jax donates the buffers of params and state: hand it copies, so that the previous
            # parameters survive for the NaN guard (and for the caller)
            params_in, opt_in = jax.tree_util.tree_map(lambda x: jnp.copy(x) if isinstance(x, jax.Array) else x,
                                                       (params, state.opt_shared))
            new_params, new_opt, stats = self._opt.step(params_in, opt_in, k_opt, batch={"r": walkers.r, "nuclei": nuclei},
                                                        global_step_int=state.step)
            e_loc = stats["aux"]["e_loc"]
            ok = bool(jnp.isfinite(stats["loss"])) and bool(_all_finite(new_params)) and bool(_all_finite(new_opt))
        except FloatingPointError:  # pragma: no cover - only with jax_debug_nans
            ok, e_loc = False, jnp.full(walkers.r.shape[0], jnp.nan)
        if not ok:
            return state.shared, state.specific[g], state.opt_shared, walkers, e_loc, False
        sh, sp = split_params(new_params)
        return sh, sp, new_opt, walkers, e_loc, True

    def evaluate(self, state: SharedState, n_steps: int, geometries: Sequence[int] | None = None,
                 callback: Callable[[int, int, float], None] | None = None) -> list[dict[str, Any]]:
        """Per-geometry evaluation with fixed parameters and a blocking error bar.

        Parameters
        ----------
        state
            The state to evaluate.
        n_steps
            Sampling steps per geometry (at least 16 for the error bar).
        geometries
            Indices to evaluate (default all).
        callback
            Called as ``callback(geometry, step, mean local energy)``.

        Returns
        -------
        list of dict
            Per geometry: ``geometry``, ``energy``, ``error`` (blocking), ``variance``,
            ``acceptance`` and ``energies`` (per-step means).
        """
        from deeperwin.blocking import blocking_analysis

        if int(n_steps) != n_steps or n_steps < 16:
            raise ValueError(f"n_steps={n_steps!r}: the blocking error bar needs at least 16 evaluation steps")
        out = []
        for g in (range(self.n_geometries) if geometries is None else geometries):
            params, nuclei, walkers = self.params_of(state, g), self._batch_nuclei(g), state.walkers[g]
            means, second, acc = [], [], []
            for i in range(int(n_steps)):
                walkers = self._fns.sweep(params, walkers, nuclei, self._key(_EVAL, i, g))
                e = np.asarray(self._fns.local_energy(params, walkers.r, nuclei), dtype=float)
                means.append(float(np.nanmean(e)))
                second.append(float(np.nanmean(e**2)))
                acc.append(float(walkers.acceptance))
                if callback is not None:
                    callback(g, i, means[-1])
            res = blocking_analysis(np.asarray(means))
            out.append({"geometry": int(g), "energy": float(res.mean), "error": float(res.error),
                        "variance": float(np.mean(second) - np.mean(means) ** 2),
                        "acceptance": float(np.mean(acc)), "energies": np.asarray(means)})
        return out
