"""The headline example of pdenet, small enough for a laptop (`pdenet demo`, `mds demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_demo(out_dir: str | Path, *, quiet: bool = False, seed: int = 0) -> dict[str, Any]:
    """Run the demo, write its outputs under `out_dir` and return a summary.

    Returns
    -------
    dict
        ``headline``: one line with the headline figure; ``files``: paths written.
    """
    raise NotImplementedError("the pdenet demo is not written yet")
