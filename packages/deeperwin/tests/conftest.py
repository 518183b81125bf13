"""Shared test settings: pyscf on one thread (much faster on a loaded machine)."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
