"""Walkers sharded over all devices (``jax.sharding``) and multi-host initialisation (``jax.distributed``).

The walker axis of every per-walker array is split over a one-dimensional device mesh; the
parameters and optimiser state are replicated. The code of a step is unchanged: XLA inserts
the reductions over walkers (means of local energies, gradients) across devices. Checkpoints
store gathered arrays, so a run written on N devices restores on M devices.

With several processes (``jax.distributed``), every process runs the same program on its
own devices; arrays sharded over the walkers span all processes. :func:`to_host` gathers
such an array onto every process, and only the main process (:func:`is_main_process`,
``jax.process_index() == 0``) writes files. On CPU the cross-process collectives use gloo.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["initialize_distributed", "is_main_process", "sync_processes", "to_host", "walker_sharding", "replicated_sharding",
           "shard_state"]

_initialized = False


def initialize_distributed(coordinator_address: str | None = None, num_processes: int | None = None,
                           process_id: int | None = None) -> None:
    """Start ``jax.distributed`` for a run over several hosts (once per process).

    With all arguments None, JAX detects the cluster (SLURM, Open MPI, ...). Must be called
    before any other JAX computation. Cross-process collectives of the CPU backend use gloo
    (``jax_cpu_collectives_implementation``), so that several CPU processes can also form
    one run (tests, clusters without accelerators).

    Parameters
    ----------
    coordinator_address
        ``host:port`` of process 0 (None: detected).
    num_processes
        Number of processes (None: detected).
    process_id
        Index of this process, 0 to ``num_processes - 1`` (None: detected).
    """
    global _initialized
    if _initialized:
        return
    if (num_processes is None) != (process_id is None):
        raise ValueError(f"num_processes={num_processes!r}, process_id={process_id!r}: give both or neither")
    if num_processes is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"process_id={process_id!r}: expected 0 to num_processes - 1 = {num_processes - 1}")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes,
                               process_id=process_id)
    _initialized = True


def is_main_process() -> bool:
    """Whether this process writes the run directory (process 0; always True without ``jax.distributed``)."""
    return jax.process_index() == 0


def sync_processes(name: str) -> None:
    """Wait until every process reaches this point (a no-op with one process).

    Parameters
    ----------
    name
        A label of the barrier (the same on every process).
    """
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def to_host(x: Any) -> np.ndarray:
    """A full NumPy copy of an array on every process, gathering the shards of other processes.

    Arrays that this process can read completely (single process, or replicated) are copied
    directly; an array sharded over the devices of several processes is assembled with
    :func:`jax.experimental.multihost_utils.process_allgather`, a collective: every process
    must call it at the same point.
    """
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        if x.is_fully_replicated:
            return np.asarray(x.addressable_data(0))
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(jax.device_get(x))


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
