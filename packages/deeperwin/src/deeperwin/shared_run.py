"""Runs over a set of geometries with shared weights, and the potential energy curve of a run.

A configuration with a ``geometries:`` section (see :class:`deeperwin.config.GeometrySettings`)
makes :func:`deeperwin.run.run` call :func:`run_shared`. The run directory holds::

    config.yaml        the fully resolved configuration
    system.json        the template molecule (bohr)
    geometries.json    geometry database: hash -> molecule, index, coordinate, HF energy (and, after
                       evaluation, energy and error)
    metrics.csv        one row per optimisation step, with the geometry index trained
    checkpoint.npz/.json   shared and per-geometry parameters, optimiser states, walkers, scheduler state
    evaluation.json    per-geometry energy with blocking error bar, variance, acceptance, HF energy
    pes.csv, pes.md    the potential energy curve as a table (with HF, reference and fit when available)
    pes.json           the table and, for diatomic scans of at least 5 points, the fit (R_e, omega_e)
    pes.png            energy with error bars against the coordinate (with the ``plot`` extra)

The coordinate of a geometry is the bond length for ``kind: scan``, the amplitude for
``kind: displacement`` and the index for ``kind: explicit``. Shared-weight runs use Adam or
KFAC (see :mod:`deeperwin.shared`); with ``parallel.shard_walkers`` (the default) and several local devices, the walkers of every
geometry are split over them (one host; ``parallel.distributed`` is refused).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from deeperwin.checkpoint import atomic_write_text, load_checkpoint, save_checkpoint
from deeperwin.config import RunConfig, dump_config, load_config

__all__ = ["geometries_from_config", "build_shared_engine", "run_shared", "restart_shared", "evaluate_shared",
           "write_pes", "SHARED_METRIC_FIELDS"]

SHARED_METRIC_FIELDS = ["step", "geometry", "energy", "variance", "acceptance", "step_size", "accepted", "time_s"]


def geometries_from_config(cfg: RunConfig) -> tuple[list[Any], list[float]]:
    """The molecules of a configuration's ``geometries`` section and their coordinates."""
    from deeperwin.geometry import bond_length_scan, displacement_scan, explicit_geometries
    from deeperwin.run import molecule_from_config
    from deeperwin.systems import BOHR_PER_ANGSTROM

    g = cfg.geometries
    if g is None:
        raise ValueError("config: this run has no 'geometries' section")
    template = molecule_from_config(cfg)
    scale = BOHR_PER_ANGSTROM if g.units == "angstrom" else 1.0
    if g.kind == "scan":
        mols = bond_length_scan(template, g.bond_lengths, units=g.units, atoms=tuple(g.atoms))
        coords = [float(b) * scale for b in g.bond_lengths]
    elif g.kind == "displacement":
        mols = displacement_scan(template, g.direction, g.amplitudes, units=g.units, normalize=g.normalize)
        coords = [float(a) * scale for a in g.amplitudes]
    else:
        mols = explicit_geometries(template, g.positions, units=g.units)
        coords = [float(i) for i in range(len(mols))]
    return mols, coords


def build_shared_engine(cfg: RunConfig, mols: list[Any]):
    """The :class:`deeperwin.shared.SharedEngine` of a configuration and its geometries."""
    import jax

    from deeperwin.optimize import OptimizationConfig, SamplingConfig
    from deeperwin.shared import SharedEngine
    from deeperwin.wavefunction import WavefunctionConfig

    if cfg.parallel.distributed:
        raise ValueError("parallel.distributed=True: shared-weight training over 'geometries' runs on the devices of "
                         "one host (set parallel.distributed: false)")
    if cfg.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    o = cfg.optimization.model_dump()
    o.pop("n_steps")
    o.pop("basis")
    engine = SharedEngine(mols, wavefunction=WavefunctionConfig(**cfg.wavefunction.model_dump()),
                          sampling=SamplingConfig(**cfg.sampling.model_dump()), optimization=OptimizationConfig(**o),
                          scheduler=cfg.geometries.scheduler, staleness_weight=cfg.geometries.staleness_weight,
                          seed=cfg.seed, dtype=cfg.dtype)
    if cfg.parallel.shard_walkers and len(jax.local_devices()) > 1:
        engine.use_devices()
    return engine


def run_shared(cfg: RunConfig, run_dir: str | Path, *, quiet: bool = False,
               stop_after: int | None = None) -> dict[str, Any]:
    """Start a shared-weight run over the configuration's geometries (see the module description).

    Returns the evaluation (see :func:`evaluate_shared`) or ``{"stopped_at": step}``.
    """
    from deeperwin.baseline import hartree_fock
    from deeperwin.geometry import GeometryDatabase
    from deeperwin.run import _check_new_run_dir, _progress, molecule_from_config

    run_dir = Path(run_dir)
    _check_new_run_dir(run_dir)
    mols, coords = geometries_from_config(cfg)
    engine = build_shared_engine(cfg, mols)
    db = GeometryDatabase()
    for i, (m, c) in enumerate(zip(mols, coords, strict=True)):
        db.add(m, index=i, coordinate=c)
    if len(db) != len(mols):
        raise ValueError(f"geometries: {len(mols)} geometries but only {len(db)} distinct ones (duplicates)")
    hfs = [hartree_fock(m, cfg.optimization.basis) for m in mols]
    for m, hf in zip(mols, hfs, strict=True):
        db.update(m, hf_energy=float(hf.energy))
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", dump_config(cfg))
    atomic_write_text(run_dir / "system.json", json.dumps(molecule_from_config(cfg).to_dict(), indent=1))
    db.save(run_dir / "geometries.json")
    atomic_write_text(run_dir / "metrics.csv", ",".join(SHARED_METRIC_FIELDS) + "\n")
    state = engine.init_state()
    if cfg.optimization.pretrain_steps:
        with _progress(cfg.optimization.pretrain_steps, 0, quiet, "pretraining") as bar:
            state = engine.pretrain(state, hfs, callback=lambda i, loss: bar.update(1))
    state = engine.burn_in(state)
    save_checkpoint(run_dir, state, {"step": state.step})
    return _train_and_evaluate(run_dir, cfg, engine, state, quiet, stop_after)


def _train_and_evaluate(run_dir: Path, cfg: RunConfig, engine: Any, state: Any, quiet: bool,
                        stop_after: int | None) -> dict[str, Any]:
    from deeperwin.run import _train_loop

    state, stopped = _train_loop(run_dir, cfg, engine, state, quiet, stop_after, SHARED_METRIC_FIELDS,
                                 running_energy=False)
    if stopped:
        return {"stopped_at": state.step}
    return evaluate_shared(run_dir, quiet=quiet, _loaded=(cfg, engine, state))


def _load(run_dir: Path):
    from deeperwin.geometry import GeometryDatabase
    from deeperwin.run import _check_run_dir

    _check_run_dir(run_dir)
    cfg = load_config(run_dir / "config.yaml")
    if cfg.geometries is None:
        raise ValueError(f"{str(run_dir)!r} is a single-geometry run (no 'geometries' in its config)")
    db = GeometryDatabase.load(run_dir / "geometries.json")
    mols = [db.molecule(k) for k in db.keys()]
    engine = build_shared_engine(cfg, mols)
    state, meta = load_checkpoint(run_dir, engine.init_state())
    return cfg, engine, engine.place_state(state._replace(step=int(meta["step"])))


def restart_shared(run_dir: str | Path, *, quiet: bool = False, stop_after: int | None = None) -> dict[str, Any]:
    """Continue a shared-weight run exactly from its last checkpoint (metric rows after it are dropped)."""
    run_dir = Path(run_dir)
    cfg, engine, state = _load(run_dir)
    from deeperwin.run import _drop_metrics_after

    _drop_metrics_after(run_dir, state.step, SHARED_METRIC_FIELDS)
    return _train_and_evaluate(run_dir, cfg, engine, state, quiet, stop_after)


def evaluate_shared(run_dir: str | Path, *, n_steps: int | None = None, quiet: bool = False,
                    _loaded: Any = None) -> dict[str, Any]:
    """Evaluate every geometry of a shared run with a blocking error bar; write the PES outputs.

    Returns
    -------
    dict
        ``system``, ``optimization_steps`` and ``geometries``: per geometry ``index``,
        ``hash``, ``name``, ``coordinate``, ``energy``, ``error``, ``variance``,
        ``acceptance``, ``hf_energy``.
    """
    from deeperwin.geometry import GeometryDatabase
    from deeperwin.run import _progress

    run_dir = Path(run_dir)
    cfg, engine, state = _loaded if _loaded is not None else _load(run_dir)
    n = cfg.evaluation.n_steps if n_steps is None else int(n_steps)
    if n < 16:
        raise ValueError(f"n_steps={n}: the blocking error bar needs at least 16 evaluation steps")
    db = GeometryDatabase.load(run_dir / "geometries.json")
    with _progress(n * engine.n_geometries, 0, quiet, "evaluation") as bar:
        results = engine.evaluate(state, n, callback=lambda g, i, e: bar.update(1))
    rows = []
    for key, res in zip(db.keys(), results, strict=True):
        info = db.get(key)
        row = {"index": info["index"], "hash": key, "name": db.molecule(key).name, "coordinate": info["coordinate"],
               "energy": res["energy"], "error": res["error"], "variance": res["variance"],
               "acceptance": res["acceptance"], "hf_energy": info["hf_energy"]}
        db.update(key, energy=res["energy"], error=res["error"])
        rows.append(row)
    out = {"system": json.loads((run_dir / "system.json").read_text(encoding="utf-8")).get("name") or "molecule",
           "kind": cfg.geometries.kind, "optimization_steps": state.step, "n_steps": n,
           "n_walkers": cfg.sampling.n_walkers, "geometries": rows}
    db.save(run_dir / "geometries.json")
    atomic_write_text(run_dir / "evaluation.json", json.dumps(out, indent=1))
    write_pes(run_dir)
    return out


def write_pes(run_dir: str | Path) -> dict[str, Any]:
    """Write the potential energy curve of an evaluated shared run: pes.csv, pes.md, pes.json, pes.png.

    The first column is the coordinate of the geometry set: ``bond_length`` (R, bohr) for
    scans, ``amplitude`` (bohr) for displacements, ``geometry_index`` for explicit lists.
    The table has the energy with its error, Hartree-Fock and, for H2 inside the shipped
    reference grid, the FCI/aug-cc-pV5Z reference. A diatomic scan of at least 5 points
    is fitted (:func:`deeperwin.pes.fit_diatomic`, quartic, error-weighted) for R_e and the
    harmonic frequency; a failed fit is reported with its reason instead.

    Returns
    -------
    dict
        ``rows`` (see :func:`deeperwin.pes.pes_table`), ``fit`` (dict or None),
        ``fit_error`` (str or None) and ``files`` (paths written).
    """
    from deeperwin.pes import fit_diatomic, format_table, load_h2_reference, pes_table

    run_dir = Path(run_dir)
    path = run_dir / "evaluation.json"
    if not path.is_file():
        raise ValueError(f"{str(run_dir)!r} holds no evaluation.json of a shared run; run 'deeperwin evaluate' first")
    ev = json.loads(path.read_text(encoding="utf-8"))
    if "geometries" not in ev:
        raise ValueError(f"{str(run_dir)!r} is a single-geometry run; 'deeperwin pes' needs a run with 'geometries'")
    system = json.loads((run_dir / "system.json").read_text(encoding="utf-8"))
    geoms = sorted(ev["geometries"], key=lambda r: r["coordinate"])
    x = np.array([g["coordinate"] for g in geoms])
    e = np.array([g["energy"] for g in geoms])
    s = np.array([g["error"] for g in geoms])
    hf = np.array([g["hf_energy"] for g in geoms])
    reference = None
    is_h2 = [float(z) for z in system["charges"]] == [1.0, 1.0] and system.get("charge", 0) == 0
    diatomic_scan = ev["kind"] == "scan" and len(system["charges"]) == 2
    if is_h2 and diatomic_scan:
        ref = load_h2_reference()
        if x.min() >= ref.bond_lengths[0] and x.max() <= ref.bond_lengths[-1]:
            reference = ref.energy(x)
    key = {"scan": "bond_length", "displacement": "amplitude", "explicit": "geometry_index"}[ev["kind"]]
    rows = pes_table(x, e, s, reference=reference, hf=hf, coordinate=key)
    for row, g in zip(rows, geoms, strict=True):
        row["hash"] = g["hash"]
    fit, fit_error = None, None
    if diatomic_scan and len(x) >= 5:
        from deeperwin.systems import Molecule

        symbols = Molecule.from_dict(system).symbols
        try:
            f = fit_diatomic(x, e, s, reduced_mass=(symbols[0], symbols[1]))
            fit = {"equilibrium_bond_length": f.equilibrium_bond_length,
                   "equilibrium_bond_length_error": f.equilibrium_bond_length_error,
                   "harmonic_frequency_cm": f.harmonic_frequency, "harmonic_frequency_error_cm": f.harmonic_frequency_error,
                   "minimum_energy": f.minimum_energy, "minimum_energy_error": f.minimum_energy_error, "model": f.model}
        except ValueError as exc:
            fit_error = str(exc)
    files = []
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(run_dir / "pes.csv", buf.getvalue())
    coordinate = {"scan": "bond length (bohr)", "displacement": "displacement amplitude (bohr)",
                  "explicit": "geometry index"}[ev["kind"]]
    md = [f"Potential energy curve of {ev['system']} ({len(rows)} geometries, coordinate: {coordinate}, "
          f"{ev['optimization_steps']} shared optimisation steps)", "", format_table(rows)]
    if fit is not None:
        md += ["", f"Fit ({fit['model']}): R_e = {fit['equilibrium_bond_length']:.4f} +- "
               f"{fit['equilibrium_bond_length_error']:.4f} bohr, omega_e = {fit['harmonic_frequency_cm']:.0f} +- "
               f"{fit['harmonic_frequency_error_cm']:.0f} cm^-1"]
    elif fit_error is not None:
        md += ["", f"No fit: {fit_error}"]
    if reference is not None:
        md += ["", "Reference: pyscf FCI, aug-cc-pV5Z (shipped H2 curve)"]
    atomic_write_text(run_dir / "pes.md", "\n".join(md) + "\n")
    doc = {"rows": rows, "fit": fit, "fit_error": fit_error, "coordinate": coordinate}
    atomic_write_text(run_dir / "pes.json", json.dumps(doc, indent=1))
    files += [run_dir / "pes.csv", run_dir / "pes.md", run_dir / "pes.json"]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from deeperwin.pes import plot_pes
    except ImportError:  # the plot extra is not installed
        pass
    else:
        fig = plot_pes(x, e, s, hf=hf, reference=reference, title=f"{ev['system']}: shared-weight VMC",
                       path=run_dir / "pes.png", coordinate=key)
        plt.close(fig)
        files.append(run_dir / "pes.png")
    doc["files"] = [str(p) for p in files]
    return doc
