"""The paper's aggregation of a results table.

For every dimension ``d``, sample count ``m``, method and error norm:

1. runs that differ only in their seed are reduced to one number (``seed_reduce``: mean by
   default, or min/max/median);
2. **worst case**: for each hyperparameter setting the maximum over targets (teachers), then
   the minimum over hyperparameter settings -- the best algorithm's guaranteed error over the
   target class, as in Berner, Grohs and Voigtlaender (ICLR 2023);
3. **average**: for each hyperparameter setting the mean over targets, then the minimum over
   hyperparameter settings.

Hyperparameters are ``width, depth, optimizer, lr, batch_size, steps`` (baselines have none).
"""

from __future__ import annotations

import csv
import math
import os
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["AGG_COLUMNS", "HYPERPARAMETERS", "NORMS", "aggregate", "write_aggregate"]

HYPERPARAMETERS = ("width", "depth", "optimizer", "lr", "batch_size", "steps")
NORMS = ("l1", "l2", "linf", "linf_upper")
AGG_COLUMNS = ["dim", "m", "method", "norm", "worst", "worst_setting", "average",
               "average_setting", "n_targets", "n_settings", "n_runs"]
_REDUCE = {"mean": statistics.fmean, "median": statistics.median, "min": min, "max": max}


def _setting(row: dict[str, Any]) -> str:
    parts = [f"{k}={row.get(k)}" for k in HYPERPARAMETERS if row.get(k) not in (None, "")]
    return ",".join(parts) or "-"


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def aggregate(rows: list[dict[str, Any]], *, norms: tuple[str, ...] = ("l1", "l2", "linf"),
              seed_reduce: str = "mean") -> list[dict[str, Any]]:
    """Aggregate result rows (see the module docstring) into a tidy table.

    Parameters
    ----------
    rows
        Result rows (e.g. from :func:`~uniformnn.experiment.read_results`); each needs
        ``dim``, ``m``, ``method``, ``teacher`` and the norm columns.
    norms
        Error columns to aggregate; rows where the column is missing or not finite are
        ignored for that norm.
    seed_reduce
        How runs differing only in their seed are combined: ``mean``, ``median``, ``min``, ``max``.

    Returns
    -------
    list of dict
        One row per ``(dim, m, method, norm)`` with the columns of :data:`AGG_COLUMNS`.
    """
    if seed_reduce not in _REDUCE:
        raise ValueError(f"seed_reduce: got {seed_reduce!r}; expected one of {sorted(_REDUCE)}")
    for name in norms:
        if name not in NORMS:
            raise ValueError(f"norms: unknown norm {name!r}; expected some of {NORMS}")
    reduce = _REDUCE[seed_reduce]
    out = []
    for norm in norms:
        # (dim, m, method) -> setting -> teacher -> values over seeds
        groups: dict[tuple, dict[str, dict[Any, list[float]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(list)))
        for r in rows:
            for key in ("dim", "m", "method"):
                if key not in r:
                    raise ValueError(f"rows: a row lacks the column {key!r}")
            v = r.get(norm)
            if not _finite(v):
                continue
            groups[(r["dim"], r["m"], r["method"])][_setting(r)][r.get("teacher")].append(float(v))
        for (dim, m, method), settings in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], str(kv[0][2]))):
            worst = {s: max(reduce(v) for v in per_t.values()) for s, per_t in settings.items()}
            avg = {s: statistics.fmean(reduce(v) for v in per_t.values()) for s, per_t in settings.items()}
            ws = min(worst, key=lambda s: (worst[s], s))
            as_ = min(avg, key=lambda s: (avg[s], s))
            out.append({
                "dim": dim, "m": m, "method": method, "norm": norm,
                "worst": worst[ws], "worst_setting": ws, "average": avg[as_], "average_setting": as_,
                "n_targets": max(len(t) for t in settings.values()), "n_settings": len(settings),
                "n_runs": sum(len(v) for t in settings.values() for v in t.values()),
            })
    return out


def write_aggregate(rows: list[dict[str, Any]], path: str | os.PathLike) -> Path:
    """Write aggregated rows as CSV (atomic)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=AGG_COLUMNS)
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
