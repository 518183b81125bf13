"""Runs: a run directory with the resolved config, metrics, checkpoints, evaluation and plots.

Layout of a run directory::

    config.yaml        the fully resolved configuration
    system.json        the molecule (bohr)
    baseline.json      Hartree-Fock energy (and CCSD(T) when asked)
    metrics.csv        one row per optimisation step
    checkpoint.npz/.json   parameters, optimiser state, walkers, step (atomic, every checkpoint_every steps)
    evaluation.json    energy with blocking error bar, variance, acceptance, references
    results.md         the table of the evaluation against references
    energy.png         energy trace (with the ``plot`` extra)

A run restarted from its directory continues exactly where the checkpoint was written:
same parameters, optimiser state, walkers and random stream.

With several processes (``parallel.distributed``) every process runs the same steps on its
share of the walkers, and only process 0 writes the run directory (which must be on a file
system all processes read, for restarts and evaluation).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from deeperwin.checkpoint import atomic_write_text as _atomic_write_text
from deeperwin.checkpoint import load_checkpoint, save_checkpoint
from deeperwin.config import RunConfig, dump_config, load_config, parse_config

__all__ = ["run", "restart", "evaluate_run", "molecule_from_config", "build_engine", "METRIC_FIELDS"]

METRIC_FIELDS = ["step", "energy", "variance", "acceptance", "step_size", "accepted", "time_s"]


def molecule_from_config(config: RunConfig):
    """The :class:`deeperwin.systems.Molecule` of a configuration (a name or explicit nuclei)."""
    from deeperwin.systems import Molecule, get_system

    if isinstance(config.system, str):
        return get_system(config.system)
    s = config.system
    return Molecule.from_nuclei(s.charges, s.positions, units=s.units, charge=s.charge, spin=s.spin, name=s.name)


def build_engine(config: RunConfig, mol: Any):
    """The :class:`deeperwin.optimize.Engine` of a configuration and molecule."""
    import jax

    from deeperwin.optimize import Engine, OptimizationConfig, SamplingConfig
    from deeperwin.wavefunction import WavefunctionConfig

    if config.parallel.distributed:
        from deeperwin.parallel import initialize_distributed

        p = config.parallel
        initialize_distributed(p.coordinator_address, p.num_processes, p.process_id)
    if config.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    o = config.optimization.model_dump()
    o.pop("n_steps")
    o.pop("basis")
    engine = Engine(mol.charges, mol.positions, mol.n_up, mol.n_down,
                    wavefunction=WavefunctionConfig(**config.wavefunction.model_dump()),
                    sampling=SamplingConfig(**config.sampling.model_dump()),
                    optimization=OptimizationConfig(**o), seed=config.seed, dtype=config.dtype)
    if config.parallel.shard_walkers and len(jax.devices()) > 1:
        engine.use_devices()
    return engine


def _main() -> bool:
    from deeperwin.parallel import is_main_process

    return is_main_process()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a file of the run directory atomically; a no-op on processes other than process 0."""
    if _main():
        _atomic_write_text(path, text)


def _progress(total: int, initial: int, quiet: bool, desc: str):
    from tqdm.auto import tqdm

    quiet = quiet or not _main()
    return tqdm(total=total, initial=initial, desc=desc, disable=quiet or not sys.stderr.isatty(),
                dynamic_ncols=True, leave=False)


def _check_new_run_dir(run_dir: Path) -> None:
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise ValueError(f"run directory {str(run_dir)!r} already exists and is not empty; "
                         f"continue it with 'deeperwin restart {run_dir}' or choose another directory")


def _check_run_dir(run_dir: Path) -> None:
    if not (run_dir / "config.yaml").is_file() or not (run_dir / "checkpoint.json").is_file():
        raise ValueError(f"{str(run_dir)!r} is not a deeperwin run directory (config.yaml and checkpoint.json expected)")


def run(config: RunConfig | dict | str | Path, run_dir: str | Path, *, quiet: bool = False,
        overrides: list[str] | tuple[str, ...] = (), stop_after: int | None = None) -> dict[str, Any]:
    """Start a run: baseline, pretraining, burn-in, optimisation, evaluation.

    Parameters
    ----------
    config
        A :class:`deeperwin.config.RunConfig`, a dictionary or a YAML file.
    run_dir
        New (or empty) directory; an existing run is never overwritten.
    quiet
        No progress bar.
    overrides
        ``KEY=VALUE`` overrides (with a YAML file).
    stop_after
        Stop (with a checkpoint) after this many optimisation steps, as if interrupted.

    Returns
    -------
    dict
        The evaluation (see :func:`evaluate_run`), or ``{"stopped_at": step}``.
    """
    if isinstance(config, (str, Path)):
        cfg = load_config(config, overrides)
    else:
        from deeperwin.config import apply_overrides

        cfg = parse_config(apply_overrides(config.model_dump(mode="json") if isinstance(config, RunConfig) else config,
                                           list(overrides)))
    run_dir = Path(run_dir)
    if cfg.geometries is not None:
        from deeperwin.shared_run import run_shared

        return run_shared(cfg, run_dir, quiet=quiet, stop_after=stop_after)
    _check_new_run_dir(run_dir)
    mol = molecule_from_config(cfg)  # bad molecules are refused before anything is written
    engine = build_engine(cfg, mol)
    from deeperwin.parallel import sync_processes

    sync_processes("deeperwin-run-dir-checked")  # every process has seen the directory empty
    if _main():
        run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", dump_config(cfg))
    atomic_write_text(run_dir / "system.json", json.dumps(mol.to_dict(), indent=1))
    atomic_write_text(run_dir / "metrics.csv", ",".join(METRIC_FIELDS) + "\n")

    from deeperwin.baseline import hartree_fock

    hf = hartree_fock(mol, cfg.optimization.basis)
    atomic_write_text(run_dir / "baseline.json", json.dumps({"hf_energy": float(hf.energy), "hf_method": hf.method,
                                                              "basis": cfg.optimization.basis}, indent=1))
    state = engine.init_state()
    if cfg.optimization.pretrain_steps:
        with _progress(cfg.optimization.pretrain_steps, 0, quiet, "pretraining") as bar:
            state = engine.pretrain(state, hf, callback=lambda i, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.2e}")))
    state = engine.burn_in(state)
    save_checkpoint(run_dir, state, {"step": state.step})
    return _train_and_evaluate(run_dir, cfg, mol, engine, state, quiet, stop_after)


def _append_metrics(run_dir: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    if not _main():
        return
    with open(run_dir / "metrics.csv", "a", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writerows(rows)
        fh.flush()


def _drop_metrics_after(run_dir: Path, step: int, fields: list[str]) -> None:
    """Remove metric rows written after the checkpoint of ``step`` (a restart recomputes them identically)."""
    if not _main():
        return
    text = (run_dir / "metrics.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    kept = [r for r in rows if int(r["step"]) <= step]
    if len(kept) != len(rows):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
        atomic_write_text(run_dir / "metrics.csv", out.getvalue())


def _train_loop(run_dir: Path, cfg: RunConfig, engine: Any, state: Any, quiet: bool, stop_after: int | None,
                fields: list[str], running_energy: bool) -> tuple[Any, bool]:
    """Optimisation steps up to ``optimization.n_steps`` with metrics and checkpoints at intervals.

    Returns the state and whether the loop stopped early at ``stop_after``. ``running_energy``
    shows the mean energy of the last 50 steps in the progress bar (one geometry only).
    """
    n_steps = cfg.optimization.n_steps
    pending: list[dict[str, Any]] = []
    recent: list[float] = []
    with _progress(n_steps, state.step, quiet, "optimisation") as bar:
        while state.step < n_steps:
            t0 = time.perf_counter()
            state, stats = engine.train_step(state)
            row = {"step": state.step, **stats, "time_s": time.perf_counter() - t0}
            row["accepted"] = int(stats["accepted"])
            pending.append(row)
            bar.update(1)
            if running_energy:
                recent = (recent + [stats["energy"]])[-50:]
                bar.set_postfix(E=f"{np.nanmean(recent):.5f}")
            at_stop = stop_after is not None and state.step >= stop_after
            if state.step % cfg.checkpoint_every == 0 or state.step == n_steps or at_stop:
                _append_metrics(run_dir, pending, fields)
                pending = []
                save_checkpoint(run_dir, state, {"step": state.step})
            if at_stop and state.step < n_steps:
                return state, True
    return state, False


def _train_and_evaluate(run_dir: Path, cfg: RunConfig, mol: Any, engine: Any, state: Any, quiet: bool,
                        stop_after: int | None) -> dict[str, Any]:
    state, stopped = _train_loop(run_dir, cfg, engine, state, quiet, stop_after, METRIC_FIELDS, running_energy=True)
    if stopped:
        return {"stopped_at": state.step}
    return evaluate_run(run_dir, quiet=quiet, _loaded=(cfg, mol, engine, state))


def _process_overrides(overrides: list[str] | tuple[str, ...], sections: tuple[str, ...] = ("parallel",)) -> list[str]:
    """Overrides of a restart or evaluation: only the per-process ``parallel.*`` settings (and, when
    evaluating, the ``evaluation.*`` settings) may differ from the stored configuration."""
    overrides = list(overrides)
    for item in overrides:
        if str(item).strip().split(".", 1)[0] not in sections or "." not in str(item):
            allowed = ", ".join(f"'{x}.*'" for x in sections)
            raise ValueError(f"overrides: {item!r}: a run continues with its stored configuration; only "
                             f"{allowed} keys may be set here (e.g. parallel.process_id=1)")
    return overrides


def _load(run_dir: Path, overrides: list[str] | tuple[str, ...] = (), sections: tuple[str, ...] = ("parallel",)):
    _check_run_dir(run_dir)
    cfg = load_config(run_dir / "config.yaml", _process_overrides(overrides, sections))
    mol = molecule_from_config(cfg)
    engine = build_engine(cfg, mol)
    template = engine.init_state()
    state, meta = load_checkpoint(run_dir, template)
    state = engine.place_state(state._replace(step=int(meta["step"])))
    state = state._replace(opt_state=engine.place_state_opt(state.opt_state))
    return cfg, mol, engine, state


def _is_shared(run_dir: Path) -> bool:
    """Whether a run directory holds a shared-weight run over several geometries."""
    return (run_dir / "geometries.json").is_file()


def restart(run_dir: str | Path, *, quiet: bool = False, stop_after: int | None = None,
            overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Continue a run from its last checkpoint (exactly: same parameters, optimiser state, walkers, random stream).

    Metrics rows written after the checkpoint are dropped (they are recomputed identically).

    Parameters
    ----------
    run_dir
        Run directory written by :func:`run`.
    quiet
        No progress bar.
    stop_after
        Stop (with a checkpoint) after this many optimisation steps in all.
    overrides
        ``parallel.KEY=VALUE`` settings of this process, e.g. ``parallel.process_id=1`` for
        the second process of a multi-host run (the stored configuration is that of
        process 0); other keys are refused.
    """
    run_dir = Path(run_dir)
    if _is_shared(run_dir):
        from deeperwin.shared_run import restart_shared

        return restart_shared(run_dir, quiet=quiet, stop_after=stop_after)
    overrides = _process_overrides(overrides)
    cfg, mol, engine, state = _load(run_dir, overrides)
    _drop_metrics_after(run_dir, state.step, METRIC_FIELDS)
    return _train_and_evaluate(run_dir, cfg, mol, engine, state, quiet, stop_after)


def _blocking(energies: np.ndarray) -> tuple[float, float]:
    """Mean and blocking error bar of a series of per-step energies."""
    try:
        from deeperwin.blocking import blocking_analysis
    except ImportError:  # pragma: no cover - until deeperwin.blocking is part of the package
        x = np.asarray(energies, dtype=float)
        n_blocks = max(2, min(20, len(x) // 10))
        means = np.array([b.mean() for b in np.array_split(x, n_blocks)])
        return float(x.mean()), float(means.std(ddof=1) / np.sqrt(n_blocks))
    res = blocking_analysis(energies)
    return float(res.mean), float(res.error)


def evaluate_run(run_dir: str | Path, *, n_steps: int | None = None, quiet: bool = False,
                 overrides: list[str] | tuple[str, ...] = (), _loaded: Any = None) -> dict[str, Any]:
    """Evaluate the energy of a run's wavefunction with a blocking error bar.

    Samples ``evaluation.n_steps`` (or ``n_steps``) steps with the parameters of the last
    checkpoint and writes ``evaluation.json``, ``results.md`` and ``energy.png``.
    ``overrides`` may set ``evaluation.*`` keys (e.g. ``evaluation.ccsd_t=true`` to add the
    CCSD(T) column) and the ``parallel.*`` settings of this process (as in :func:`restart`).

    Returns
    -------
    dict
        ``energy``, ``error`` (blocking), ``variance``, ``acceptance``, ``n_steps``,
        ``hf_energy``, ``reference_energy`` (and source), ``ccsd_t_energy`` when asked.
    """
    run_dir = Path(run_dir)
    if _loaded is None and _is_shared(run_dir):
        from deeperwin.shared_run import evaluate_shared

        return evaluate_shared(run_dir, n_steps=n_steps, quiet=quiet)
    if _loaded is not None:
        cfg, mol, engine, state = _loaded
    else:
        cfg, mol, engine, state = _load(run_dir, overrides, ("parallel", "evaluation"))
    n = cfg.evaluation.n_steps if n_steps is None else int(n_steps)
    if n < 16:
        raise ValueError(f"n_steps={n}: the blocking error bar needs at least 16 evaluation steps")
    with _progress(n, 0, quiet, "evaluation") as bar:
        res = engine.evaluate(state, n, callback=lambda i, e: bar.update(1))
    energy, error = _blocking(res["energies"])
    baseline = json.loads((run_dir / "baseline.json").read_text(encoding="utf-8"))
    out = {
        "system": mol.name or "molecule",
        "energy": energy,
        "error": error,
        "variance": res["variance"],
        "acceptance": res["acceptance"],
        "n_steps": n,
        "n_walkers": cfg.sampling.n_walkers,
        "optimization_steps": state.step,
        "hf_energy": baseline["hf_energy"],
        "reference_energy": mol.reference_energy,
        "reference_source": mol.reference_source,
    }
    if cfg.evaluation.ccsd_t:
        from deeperwin.baseline import ccsd_t

        if "ccsd_t_energy" not in baseline or baseline.get("ccsd_t_basis") != cfg.evaluation.ccsd_t_basis:
            from deeperwin.parallel import sync_processes

            if _main():  # computed once, read by the other processes
                baseline["ccsd_t_energy"] = float(ccsd_t(mol, cfg.evaluation.ccsd_t_basis))
                baseline["ccsd_t_basis"] = cfg.evaluation.ccsd_t_basis
                atomic_write_text(run_dir / "baseline.json", json.dumps(baseline, indent=1))
            sync_processes("deeperwin-ccsd-t")
            baseline = json.loads((run_dir / "baseline.json").read_text(encoding="utf-8"))
        out["ccsd_t_energy"] = baseline["ccsd_t_energy"]
        out["ccsd_t_basis"] = baseline["ccsd_t_basis"]
    atomic_write_text(run_dir / "evaluation.json", json.dumps(out, indent=1))
    atomic_write_text(run_dir / "results.md", results_table(out))
    if _main():
        buf = io.StringIO()
        np.savetxt(buf, res["energies"])
        atomic_write_text(run_dir / "evaluation_energies.txt", buf.getvalue())
        _plot(run_dir)
    return out


def results_table(result: dict[str, Any]) -> str:
    """A Markdown table of a run's energy against its references (hartree)."""
    lines = ["| method | energy (Ha) | difference to reference (mHa) |", "| --- | --- | --- |"]
    ref = result.get("reference_energy")

    def diff(e):
        return f"{1000 * (e - ref):+.2f}" if ref is not None and e is not None and math.isfinite(e) else ""

    lines.append(f"| deeperwin VMC | {result['energy']:.5f} +- {result['error']:.5f} | {diff(result['energy'])} |")
    lines.append(f"| Hartree-Fock | {result['hf_energy']:.5f} | {diff(result['hf_energy'])} |")
    if "ccsd_t_energy" in result:
        basis = f"/{result['ccsd_t_basis']}" if result.get("ccsd_t_basis") else ""
        lines.append(f"| CCSD(T){basis} | {result['ccsd_t_energy']:.5f} | {diff(result['ccsd_t_energy'])} |")
    if ref is not None:
        lines.append(f"| reference | {ref:.5f} | 0 |")
        if result.get("reference_source"):
            lines.append("")
            lines.append(f"Reference: {result['reference_source']}")
    return "\n".join(lines) + "\n"


def _plot(run_dir: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the plot extra is not installed
        return
    rows = list(csv.DictReader(io.StringIO((run_dir / "metrics.csv").read_text(encoding="utf-8"))))
    if not rows:
        return
    steps = np.array([int(r["step"]) for r in rows])
    energy = np.array([float(r["energy"]) for r in rows])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, energy, lw=0.5, alpha=0.5, label="mean local energy")
    window = max(1, len(energy) // 20)
    if len(energy) >= window:
        smooth = np.convolve(energy, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1:], smooth, lw=1.5, label=f"running mean ({window} steps)")
    lo, hi = np.nanpercentile(energy, [1, 99])
    ax.set_ylim(lo - 0.05 * (hi - lo + 1e-3), hi + 0.05 * (hi - lo + 1e-3))
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("energy (Ha)")
    ax.legend()
    fig.tight_layout()
    tmp = run_dir / ".energy.png.tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(run_dir / "energy.png")
