"""Shared test settings: pyscf on one thread (much faster on a loaded machine)."""

import copy
import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


_TINY = {
    "system": "He",
    "wavefunction": {"n_determinants": 1, "one_electron_width": 8, "two_electron_width": 4, "n_layers": 1},
    "sampling": {"n_walkers": 16, "steps_per_sample": 2, "burn_in": 2},
    "optimization": {"n_steps": 6, "optimizer": "kfac", "learning_rate": 0.01, "pretrain_steps": 2},
    "evaluation": {"n_steps": 16},
    "checkpoint_every": 3,
    "seed": 3,
}


@pytest.fixture
def tiny_config():
    """The smallest He run configuration; tests sharing it reuse each other's compiled functions."""
    return copy.deepcopy(_TINY)
