"""The headline example of faket, small enough for a laptop (`faket demo`, `mds demo`).

Two phantoms: one to simulate, and one whose measured-like tilt series
(:func:`faket.simulate.measured_like`, a stand-in for a measured tilt series) gives the
style. The simulated phantom is projected, made NOISY, styled tilt by tilt with the
weight-free style model and reconstructed; the headline compares the NOISY and the styled
series with the style series (Gram-matrix distance and power-spectrum difference).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def run_demo(out_dir: str | Path, *, quiet: bool = False, seed: int = 0) -> dict[str, Any]:
    """Run the demo, write its outputs under `out_dir` and return a summary.

    Parameters
    ----------
    out_dir : str or Path
        Output directory (created; existing demo files are replaced).
    quiet : bool
        No progress bars.
    seed : int
        Seed of the phantoms, the noise and the style model.

    Returns
    -------
    dict
        ``headline``: one line with the headline figure; ``files``: paths written;
        ``metrics``: the comparison numbers.
    """
    import sys

    import numpy as np

    from faket.evaluate import compare_tilt_series
    from faket.mrc import write_mrc
    from faket.phantom import make_phantom
    from faket.projection import project
    from faket.reconstruction import fbp
    from faket.simulate import _save_previews, add_gaussian_noise, measured_like, tilt_angles
    from faket.transfer import atomic_write_text, style_transfer, write_trace

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shape = (32, 64, 64)
    angles = tilt_angles(-60, 60, 4)  # 31 tilts
    small = dict(n_particles=8, n_vesicles=0, n_fiducials=2, particle_radius=5)
    sim = make_phantom(shape, seed=seed, **small)
    meas = make_phantom(shape, seed=seed + 1000, **small)
    clean = np.asarray(project(np.asarray(sim.volume, dtype=np.float32), angles), dtype=np.float32)
    measured = measured_like(np.asarray(project(np.asarray(meas.volume, dtype=np.float32), angles)), angles, seed=seed + 1)
    noisy = add_gaussian_noise(clean, 0.5, seed=seed)
    result = style_transfer(
        noisy, measured, style_model="weight-free", iterations=40, batch_size=8, seed=seed, progress=not quiet and sys.stderr.isatty()
    )
    styled = result.styled
    recon = np.asarray(fbp(styled, angles, thickness=shape[0]), dtype=np.float32)
    # statistics with other random filters than the ones the transfer optimised
    m_noisy = compare_tilt_series(noisy, measured, seed=seed + 7919)
    m_styled = compare_tilt_series(styled, measured, seed=seed + 7919)
    keys = ("gram_mean", "spectrum_log_rmse", "mean_abs_diff", "std_rel_diff")
    metrics = {"noisy_vs_measured": {k: m_noisy[k] for k in keys}, "faket_vs_measured": {k: m_styled[k] for k in keys}}
    files = [
        write_mrc(out / "noisy.mrc", noisy, overwrite=True),
        write_mrc(out / "measured_like.mrc", measured, overwrite=True),
        write_mrc(out / "faket_styled.mrc", styled, overwrite=True),
        write_mrc(out / "faket_reconstruction.mrc", recon, overwrite=True),
        write_trace(out / "trace.json", result),
        atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=1)),
    ]
    mid = int(np.argmin(np.abs(angles)))
    png = _save_previews(out, [("NOISY", noisy[mid]), ("FAKET (weight-free)", styled[mid]), ("measured-like style", measured[mid])], "demo_tilt0.png")
    if png is not None:
        files.append(png)
    headline = (
        f"FAKET (weight-free style model, 31 tilts of 64x64): Gram distance to the measured-like series "
        f"{m_noisy['gram_mean']:.3f} (NOISY) -> {m_styled['gram_mean']:.3f}; power-spectrum log-RMSE "
        f"{m_noisy['spectrum_log_rmse']:.3f} -> {m_styled['spectrum_log_rmse']:.3f}"
    )
    return {"headline": headline, "files": [str(f) for f in files], "metrics": metrics}
