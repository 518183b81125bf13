"""deeperwin: Neural-network variational Monte Carlo for the electronic Schroedinger equation, for one or many nuclear geometries with shared weights

The function that starts a run is ``deeperwin.run.run`` (not re-exported: a package attribute
``run`` would be rebound to the submodule ``deeperwin.run`` whenever that is imported).
The public names are imported lazily (JAX, haiku and pyscf load on first use), so
``import deeperwin`` and ``deeperwin --version`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from deeperwin.__about__ import __version__
from deeperwin._citation import cite

_LAZY = {
    # systems and baselines
    "Molecule": "deeperwin.systems",
    "get_system": "deeperwin.systems",
    "list_systems": "deeperwin.systems",
    "hartree_fock": "deeperwin.baseline",
    "HartreeFockResult": "deeperwin.baseline",
    "ccsd_t": "deeperwin.baseline",
    "fci": "deeperwin.baseline",
    "two_electron_fci": "deeperwin.baseline",
    "blocking_analysis": "deeperwin.blocking",
    "BlockingResult": "deeperwin.blocking",
    "GeometryDatabase": "deeperwin.geometry",
    "geometry_hash": "deeperwin.geometry",
    "bond_length_scan": "deeperwin.geometry",
    "displacement_scan": "deeperwin.geometry",
    "explicit_geometries": "deeperwin.geometry",
    "fit_diatomic": "deeperwin.pes",
    "DiatomicFit": "deeperwin.pes",
    "pes_table": "deeperwin.pes",
    "plot_pes": "deeperwin.pes",
    "format_table": "deeperwin.pes",
    "load_h2_reference": "deeperwin.pes",
    # the engine
    "WavefunctionConfig": "deeperwin.wavefunction",
    "Wavefunction": "deeperwin.wavefunction",
    "make_wavefunction": "deeperwin.wavefunction",
    "make_local_energy": "deeperwin.hamiltonian",
    "kinetic_energy": "deeperwin.hamiltonian",
    "potential_energy": "deeperwin.hamiltonian",
    "clip_local_energies": "deeperwin.hamiltonian",
    "WalkerState": "deeperwin.mcmc",
    "init_walkers": "deeperwin.mcmc",
    "make_mcmc_sweep": "deeperwin.mcmc",
    "Engine": "deeperwin.optimize",
    "SamplingConfig": "deeperwin.optimize",
    "OptimizationConfig": "deeperwin.optimize",
    "TrainState": "deeperwin.optimize",
    # shared-weight training at many geometries
    "SharedEngine": "deeperwin.shared",
    "SharedState": "deeperwin.shared",
    "RoundRobinScheduler": "deeperwin.shared",
    "VarianceStalenessScheduler": "deeperwin.shared",
    "split_params": "deeperwin.shared",
    "merge_params": "deeperwin.shared",
    "write_pes": "deeperwin.shared_run",
    # runs
    "RunConfig": "deeperwin.config",
    "load_config": "deeperwin.config",
    "restart": "deeperwin.run",
    "evaluate_run": "deeperwin.run",
    "save_checkpoint": "deeperwin.checkpoint",
    "load_checkpoint": "deeperwin.checkpoint",
    "initialize_distributed": "deeperwin.parallel",
    "run_demo": "deeperwin.demo",
}

__all__ = ["__version__", "cite", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deeperwin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
