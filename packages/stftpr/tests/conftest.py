"""Shared fixtures; makes the helper module `_signals` importable (tests run with importlib mode)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:  # torch's CPU threads spin-wait; on a small shared machine one thread is much faster
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is in the `test` extra
    pass


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
