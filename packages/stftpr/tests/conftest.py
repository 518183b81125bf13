"""Shared fixtures; makes the helper module `_signals` importable (tests run with importlib mode)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
