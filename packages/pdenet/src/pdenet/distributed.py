"""Data-parallel training with ``torch.distributed`` (gloo on CPU, nccl on GPUs).

:func:`solve_distributed` spawns ``world_size`` local processes; each initialises the process
group and runs :func:`pdenet.solve`, which wraps the network in ``DistributedDataParallel``
and lets every rank draw ``batch_size / world_size`` fresh samples from its own random
stream. Gradients are averaged across ranks, so a step sees ``batch_size`` samples in total,
as in a single-process run. Under ``torchrun`` (environment variables set, process group
initialised by the caller) call :func:`pdenet.solve` directly.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from pdenet.config import SolveConfig, make_config

__all__ = ["solve_distributed"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(rank: int, world_size: int, backend: str, port: int, config: dict[str, Any], run_dir: str,
            threads: int) -> None:
    from pdenet.training import solve

    torch.set_num_threads(threads)
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    try:
        if backend == "nccl":
            torch.cuda.set_device(rank)
            config = {**config, "device": f"cuda:{rank}"}
        solve(config, run_dir, quiet=True)
    finally:
        dist.destroy_process_group()


def solve_distributed(config: SolveConfig | dict[str, Any], run_dir: str | Path, *, world_size: int = 2,
                      backend: str = "gloo", threads_per_process: int = 1):
    """Train with ``world_size`` local data-parallel processes and return the run's results.

    Parameters
    ----------
    config : SolveConfig or dict
        The run configuration; ``batch_size`` is the total over all processes.
    run_dir : str or Path
        Run directory (written by rank 0).
    world_size : int
        Number of processes.
    backend : str
        ``gloo`` (CPU) or ``nccl`` (one GPU per process).
    threads_per_process : int
        torch CPU threads in each process.

    Returns
    -------
    solution, evaluation : tuple
        The trained solution (loaded from the run directory) and the evaluation dictionary.
    """
    import json

    from pdenet.training import load_run

    config = make_config(config)
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size must be a positive integer, got {world_size!r}")
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
    if config.batch_size % world_size:
        raise ValueError(f"batch_size={config.batch_size} must be divisible by world_size={world_size}")
    run_dir = Path(run_dir)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    mp.spawn(_worker, args=(world_size, backend, _free_port(), config.model_dump(mode="json"), str(run_dir),
                            threads_per_process), nprocs=world_size, join=True)
    solution, _, _ = load_run(run_dir)
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    return solution, evaluation
