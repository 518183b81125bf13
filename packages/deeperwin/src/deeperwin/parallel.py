"""Walkers sharded over all devices (``jax.sharding``) and multi-host initialisation (``jax.distributed``).

The walker axis of every per-walker array is split over a one-dimensional device mesh; the
parameters and optimiser state are replicated. The code of a step is unchanged: XLA inserts
the reductions over walkers (means of local energies, gradients) across devices. Checkpoints
store gathered arrays, so a run written on N devices restores on M devices.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["initialize_distributed", "walker_sharding", "replicated_sharding", "shard_state"]

_initialized = False


def initialize_distributed(coordinator_address: str | None = None, num_processes: int | None = None,
                           process_id: int | None = None) -> None:
    """Start ``jax.distributed`` for a run over several hosts (once per process).

    With all arguments None, JAX detects the cluster (SLURM, Open MPI, ...). Must be called
    before any other JAX computation.
    """
    global _initialized
    if _initialized:
        return
    if (num_processes is None) != (process_id is None):
        raise ValueError(f"num_processes={num_processes!r}, process_id={process_id!r}: give both or neither")
    jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes,
                               process_id=process_id)
    _initialized = True


def _mesh(devices: Any = None) -> Mesh:
    devs = np.asarray(jax.devices() if devices is None else devices)
    return Mesh(devs.reshape(-1), ("walkers",))


def walker_sharding(n_walkers: int, devices: Any = None) -> NamedSharding:
    """Sharding that splits the leading (walker) axis over all devices.

    Raises
    ------
    ValueError
        When ``n_walkers`` is not a multiple of the number of devices.
    """
    mesh = _mesh(devices)
    n_dev = mesh.devices.size
    if n_walkers % n_dev:
        raise ValueError(f"n_walkers={n_walkers}: must be a multiple of the number of devices ({n_dev})")
    return NamedSharding(mesh, PartitionSpec("walkers"))


def replicated_sharding(devices: Any = None) -> NamedSharding:
    """Sharding that keeps a full copy on every device (parameters, optimiser state)."""
    return NamedSharding(_mesh(devices), PartitionSpec())


def shard_state(state: Any, n_walkers: int, devices: Any = None) -> Any:
    """Place a :class:`deeperwin.optimize.TrainState`: walkers sharded, everything else replicated."""
    walkers_sh = walker_sharding(n_walkers, devices)
    rep = replicated_sharding(devices)

    walkers = state.walkers
    walkers = walkers._replace(r=jax.device_put(walkers.r, walkers_sh), log_prob=jax.device_put(walkers.log_prob, walkers_sh),
                               step_size=jax.device_put(walkers.step_size, rep),
                               acceptance=jax.device_put(walkers.acceptance, rep))
    params = jax.tree_util.tree_map(lambda x: jax.device_put(x, rep), state.params)
    opt_state = jax.tree_util.tree_map(lambda x: jax.device_put(x, rep) if hasattr(x, "shape") else x, state.opt_state)
    return state._replace(params=params, opt_state=opt_state, walkers=walkers)
