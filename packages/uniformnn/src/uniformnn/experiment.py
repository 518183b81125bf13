"""Resumable sampling-complexity experiments: one job per configuration, a tidy results table.

Run directory layout (``out_dir``)::

    config.yaml          the fully resolved configuration
    jobs/<job_id>.json   one finished job: its specification and metrics (written atomically)
    networks/<id>.pt     trained students (uniformnn saved-network format)
    results.csv          the tidy table: one row per finished job (rebuilt from jobs/)

A job is identified by a hash of its specification, so re-running the same configuration
skips finished jobs (resume after an interruption), and several processes or machines can
share one run directory: each writes only its own job files. Spread jobs with
``workers=N`` (a local process pool, one job per task, GPUs assigned round-robin) or with
``shard=(i, n)`` (run every n-th job starting at i; for cluster array jobs or ``torchrun``,
``shard="auto"`` reads ``RANK``/``WORLD_SIZE`` or ``SLURM_PROCID``/``SLURM_NTASKS``), then
call :func:`collect_results` (or ``uniformnn experiment CONFIG --collect``) once all are done.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm.auto import tqdm

from uniformnn.baselines import fit_baseline, grid_size
from uniformnn.box import Box
from uniformnn.bracket import sup_norm_bracket
from uniformnn.config import ExperimentConfig, load_config
from uniformnn.networks import save_network
from uniformnn.objective import Objective, resolve_device
from uniformnn.search import error_norms, lower_bound
from uniformnn.targets import make_target
from uniformnn.training import train_student

__all__ = [
    "RESULT_COLUMNS",
    "collect_results",
    "plan_jobs",
    "read_results",
    "run_experiment",
    "run_job",
]

RESULT_COLUMNS = [
    "job_id", "method", "dim", "m", "target", "teacher", "seed", "width", "depth",
    "optimizer", "lr", "batch_size", "steps", "n_samples_used", "l1", "l2", "linf",
    "linf_upper", "linf_sampled", "linf_method", "train_loss", "seconds",
]


def _job_id(spec: dict[str, Any]) -> str:
    blob = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def plan_jobs(config: ExperimentConfig | dict | str | os.PathLike) -> list[dict[str, Any]]:
    """All job specifications of a configuration, in a fixed order, each with its ``job_id``."""
    cfg = load_config(config)
    jobs = []
    ev = cfg.evaluation.model_dump()
    tgt = cfg.target.model_dump()
    for dim, teacher, m in itertools.product(cfg.dims, range(cfg.target.count), cfg.sample_counts):
        common = {"dim": dim, "teacher": teacher, "m": m, "target": tgt, "evaluation": ev}
        if cfg.students is not None:
            st = cfg.students
            for width, depth, opt, lr, bs, seed in itertools.product(
                    st.widths, st.depths, st.optimizers, st.learning_rates, st.batch_sizes, cfg.seeds):
                spec = {**common, "method": "student", "width": width, "depth": depth,
                        "optimizer": opt, "lr": lr, "batch_size": bs, "steps": st.steps,
                        "lr_final_factor": st.lr_final_factor, "init_scale": st.init_scale,
                        "seed": seed}
                jobs.append({**spec, "job_id": _job_id(spec)})
        for kind in cfg.baselines:
            try:
                grid_size(m, dim, kind)
            except ValueError:
                continue  # too few samples for this grid; nothing to run
            spec = {**common, "method": kind}
            jobs.append({**spec, "job_id": _job_id(spec)})
    return jobs


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _target_for(spec: dict[str, Any]):
    t = spec["target"]
    box = Box.cube(spec["dim"], t["low"], t["high"])
    opts = {"teacher": {"hidden": t["hidden"], "coef": t["coef"], "distribution": t["distribution"]},
            "sines": {"frequency": t["frequency"]}, "network": {"path": t["path"]}}.get(t["kind"], {})
    return make_target(t["kind"], spec["dim"], seed=spec["teacher"], box=box, **opts)


def run_job(spec: dict[str, Any], out_dir: str | os.PathLike, *, device: str | None = None
            ) -> dict[str, Any]:
    """Run one job (train or fit, then measure the errors) and write ``jobs/<job_id>.json``."""
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    dev = resolve_device(device)
    target = _target_for(spec)
    ev = spec["evaluation"]
    row: dict[str, Any] = {c: None for c in RESULT_COLUMNS}
    row.update({k: spec.get(k) for k in ("job_id", "method", "dim", "m", "teacher", "seed", "width",
                                        "depth", "optimizer", "lr", "batch_size", "steps")})
    row["target"] = target.name
    history: list = []
    if spec["method"] == "student":
        res = train_student(target, spec["m"], width=spec["width"], depth=spec["depth"],
                            optimizer=spec["optimizer"], lr=spec["lr"],
                            lr_final_factor=spec["lr_final_factor"], batch_size=spec["batch_size"],
                            steps=spec["steps"], seed=spec["seed"], init_scale=spec["init_scale"],
                            device=dev)
        model = res.network
        row["train_loss"], row["n_samples_used"], history = res.final_loss, spec["m"], res.history
        save_network(model, out_dir / "networks" / f"{spec['job_id']}.pt",
                     metadata={k: v for k, v in spec.items() if k not in ("target", "evaluation")})
    else:
        model = fit_baseline(target, spec["m"], spec["method"])
        row["n_samples_used"] = model.n_samples
    obj = Objective(target, model, target.box, device=dev)
    norms = error_norms(obj, n=ev["n_eval"], seed=10_000 + int(spec.get("seed") or 0))
    row.update(l1=norms["l1"], l2=norms["l2"], linf_sampled=norms["linf_sampled"])
    if ev["linf"] == "bracket" and spec["method"] == "student" and obj.certifiable:
        br = sup_norm_bracket(obj.f, obj.g, target.box, rtol=ev["bracket_rtol"],
                              time_budget=ev["bracket_time"], n_random=ev["n_random"],
                              n_starts=ev["n_starts"], steps=ev["steps"], device=dev)
        row.update(linf=max(br.lower, norms["linf_sampled"]), linf_upper=br.upper,
                   linf_method=f"bracket:{br.status}")
    else:
        lb = lower_bound(obj, n_random=ev["n_random"], n_starts=ev["n_starts"], steps=ev["steps"],
                         seed=20_000 + int(spec.get("seed") or 0))
        row.update(linf=max(lb.value, norms["linf_sampled"]), linf_upper=math.nan,
                   linf_method="search")
    row["seconds"] = time.perf_counter() - t0
    record = {"row": row, "spec": spec, "history": history}
    _write_atomic(out_dir / "jobs" / f"{spec['job_id']}.json", json.dumps(record, indent=1))
    return row


def _worker(spec: dict[str, Any], out_dir: str, device: str | None, threads: int) -> dict[str, Any]:
    torch.set_num_threads(threads)
    return run_job(spec, out_dir, device=device)


def read_results(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a results table (``results.csv`` or a run directory), numbers parsed."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.csv"
    if not path.is_file():
        raise FileNotFoundError(f"results table {str(path)!r} does not exist")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"method", "dim", "m"} <= set(reader.fieldnames):
            raise ValueError(
                f"results table {str(path)!r}: expected columns method, dim, m, ... (a results.csv "
                "written by uniformnn experiment)"
            )
        rows = []
        for raw in reader:
            row: dict[str, Any] = {}
            for k, v in raw.items():
                row[k] = (v or None) if k in _TEXT_COLUMNS else _parse(v)
            rows.append(row)
    return rows


_TEXT_COLUMNS = {"job_id", "method", "target", "optimizer", "linf_method"}


def _parse(v: str | None) -> Any:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() and "n" not in v.lower() else f


def collect_results(out_dir: str | os.PathLike) -> Path:
    """Rebuild ``results.csv`` from the finished job files in ``out_dir/jobs`` (atomic)."""
    out_dir = Path(out_dir)
    rows = []
    for p in sorted((out_dir / "jobs").glob("*.json")):
        try:
            rows.append(json.loads(p.read_text(encoding="utf-8"))["row"])
        except (json.JSONDecodeError, KeyError):
            continue
    order = {"student": 0, "constant": 1, "linear": 2}
    rows.sort(key=lambda r: (r["dim"], r["m"], order.get(r["method"], 9), r["teacher"] or 0,
                             str(r.get("job_id"))))
    path = out_dir / "results.csv"
    tmp = path.with_name(f".results.csv.tmp-{os.getpid()}")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=RESULT_COLUMNS, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in RESULT_COLUMNS})
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _resolve_shard(shard: tuple[int, int] | str | None) -> tuple[int, int]:
    if shard is None:
        return 0, 1
    if shard == "auto":
        for rk, wk in (("RANK", "WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS")):
            if rk in os.environ and wk in os.environ:
                return _resolve_shard((int(os.environ[rk]), int(os.environ[wk])))
        return 0, 1
    if isinstance(shard, str):
        try:
            i, n = (int(p) for p in shard.split("/"))
        except ValueError:
            raise ValueError(f"shard: got {shard!r}; expected 'I/N' with 0 <= I < N, or 'auto'") from None
        shard = (i, n)
    i, n = shard
    if not (0 <= i < n):
        raise ValueError(f"shard: got {i}/{n}; expected 0 <= I < N")
    return int(i), int(n)


def run_experiment(
    config: ExperimentConfig | dict | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    workers: int = 1,
    shard: tuple[int, int] | str | None = None,
    max_jobs: int | None = None,
    quiet: bool = False,
    on_job_done: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) every job of ``config`` whose result is not yet in ``out_dir``.

    Parameters
    ----------
    config
        A YAML path, a dict or an :class:`~uniformnn.config.ExperimentConfig`.
    out_dir
        Run directory (created). If it already holds a different configuration a
        ``ValueError`` is raised rather than mixing two experiments.
    workers
        Processes running jobs in parallel (1: in this process).
    shard
        ``(i, n)``, ``"i/n"`` or ``"auto"``: run only jobs ``i, i + n, i + 2n, ...``.
    max_jobs
        Stop after this many newly run jobs (``None``: all).
    quiet
        No progress bar.
    on_job_done
        Called with each finished row (in the parent process).

    Returns
    -------
    dict
        ``n_jobs`` (planned in this shard), ``n_run`` (newly run), ``n_skipped`` (already
        done), ``results`` (path of results.csv).
    """
    cfg = load_config(config)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: got {workers!r}; expected a positive integer")
    i, n = _resolve_shard(shard)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    resolved = yaml.safe_dump(cfg.model_dump(), sort_keys=True)
    cfg_path = out_dir / "config.yaml"
    if cfg_path.exists():
        old = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
        if old != cfg.model_dump():
            raise ValueError(
                f"out_dir {str(out_dir)!r}: holds a different experiment (its config.yaml differs); "
                "use a new directory"
            )
    else:
        _write_atomic(cfg_path, resolved)
    jobs = [j for k, j in enumerate(plan_jobs(cfg)) if k % n == i]
    done = {p.stem for p in (out_dir / "jobs").glob("*.json")}
    todo = [j for j in jobs if j["job_id"] not in done]
    if max_jobs is not None:
        todo = todo[:max_jobs]
    device = None if cfg.device == "auto" else cfg.device
    n_gpu = torch.cuda.device_count() if device is None else 0
    bar = tqdm(total=len(todo), disable=quiet, desc=cfg.name, unit="job")
    n_run = 0
    try:
        if workers == 1:
            for job in todo:
                row = run_job(job, out_dir, device=device)
                n_run += 1
                bar.update()
                if on_job_done:
                    on_job_done(row)
        else:
            threads = max(1, (os.cpu_count() or 1) // workers)
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                futures = [
                    pool.submit(_worker, job, str(out_dir),
                                f"cuda:{k % n_gpu}" if n_gpu else device, threads)
                    for k, job in enumerate(todo)
                ]
                for fut in as_completed(futures):
                    row = fut.result()
                    n_run += 1
                    bar.update()
                    if on_job_done:
                        on_job_done(row)
    finally:
        bar.close()
        results = collect_results(out_dir)
    n_skipped = sum(j["job_id"] in done for j in jobs)
    return {"n_jobs": len(jobs), "n_run": n_run, "n_skipped": n_skipped, "results": str(results)}


def iter_rows(rows: Iterable[dict[str, Any]], **match: Any) -> list[dict[str, Any]]:
    """Rows whose columns equal the given values (a small helper for analysis)."""
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]
