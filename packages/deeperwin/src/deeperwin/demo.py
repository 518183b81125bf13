"""The headline example of deeperwin, small enough for a laptop (`deeperwin demo`, `mds demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEMO_CONFIG: dict[str, Any] = {
    "system": "He",
    "wavefunction": {"n_determinants": 2, "one_electron_width": 16, "two_electron_width": 4, "n_layers": 2},
    "sampling": {"n_walkers": 256, "steps_per_sample": 5, "burn_in": 20},
    "optimization": {"n_steps": 300, "optimizer": "kfac", "learning_rate": 0.05, "lr_decay_steps": 200,
                     "pretrain_steps": 50},
    "evaluation": {"n_steps": 300},
    "checkpoint_every": 100,
}


def run_demo(out_dir: str | Path, *, quiet: bool = False, seed: int = 0) -> dict[str, Any]:
    """Optimise a small neural wavefunction for the helium atom and evaluate its energy.

    A few minutes on a laptop CPU. The run directory is ``out_dir`` (it must not hold an
    earlier run).

    Returns
    -------
    dict
        ``headline``: one line with the energy, its error bar and the exact value;
        ``files``: paths written.
    """
    from deeperwin.run import run

    out_dir = Path(out_dir)
    result = run({**DEMO_CONFIG, "seed": int(seed)}, out_dir, quiet=quiet)
    ref = result["reference_energy"]
    headline = (f"He: E = {result['energy']:.4f} +- {result['error']:.4f} Ha with a neural wavefunction "
                f"(Hartree-Fock {result['hf_energy']:.4f} Ha"
                + (f", exact {ref:.4f} Ha)" if ref is not None else ")"))
    files = sorted(str(p) for p in out_dir.iterdir() if p.is_file())
    return {"headline": headline, "files": files}
