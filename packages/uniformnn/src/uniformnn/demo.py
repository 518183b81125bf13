"""The headline example of uniformnn, small enough for a laptop (`uniformnn demo`, `mds demo`).

A small sampling-complexity study in d = 1 and d = 2: random teachers ``[d, 32, 32, 32, 32, 1]``
with coefficients uniform in [-0.5, 0.5] are learned from m = 16 ... 1024 uniform samples by
ReLU students and by piecewise-constant / piecewise-linear grid interpolation. Errors are
measured in L2 (Monte Carlo) and in L-infinity (attained lower bound), and one student is
certified with a sup-norm bracket. Outputs: the run directory with results.csv, the aggregated
table, log-log plots with fitted rates, and the bracket as JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from uniformnn.aggregation import aggregate, write_aggregate
from uniformnn.bracket import sup_norm_bracket
from uniformnn.experiment import read_results, run_experiment
from uniformnn.networks import load_network
from uniformnn.targets import make_target

DEMO_CONFIG: dict[str, Any] = {
    "name": "demo",
    "dims": [1, 2],
    "sample_counts": [16, 64, 256, 1024],
    "seeds": [0],
    "target": {"kind": "teacher", "count": 2, "hidden": [32, 32, 32, 32], "coef": 0.5},
    "students": {"widths": [32], "depths": [3], "optimizers": ["adam"], "learning_rates": [1e-2],
                 "batch_sizes": [None], "steps": 400, "lr_final_factor": 0.1},
    "baselines": ["constant", "linear"],
    "evaluation": {"n_eval": 2**14, "linf": "search", "n_random": 2**14, "n_starts": 16,
                   "steps": 50},
}


def run_demo(out_dir: str | Path, *, quiet: bool = False, seed: int = 0) -> dict[str, Any]:
    """Run the demo, write its outputs under `out_dir` and return a summary.

    Returns
    -------
    dict
        ``headline``: one line with the headline figure; ``files``: paths written.
    """
    out_dir = Path(out_dir)
    config = json.loads(json.dumps(DEMO_CONFIG))
    config["seeds"] = [int(seed)]
    run_dir = out_dir / "run"
    summary = run_experiment(config, run_dir, quiet=quiet)
    rows = read_results(run_dir)
    agg = aggregate(rows)
    files = [summary["results"], str(write_aggregate(agg, out_dir / "aggregate.csv"))]
    try:
        from uniformnn.plotting import plot_results

        files += plot_results(rows, out_dir / "plots")
    except ImportError:  # matplotlib is optional (the plot extra)
        pass

    # certify one student: d = 2, the largest m, teacher 0
    best = [r for r in rows if r["method"] == "student" and r["dim"] == 2 and r["teacher"] == 0]
    best.sort(key=lambda r: r["m"])
    row = best[-1]
    student = load_network(run_dir / "networks" / f"{row['job_id']}.pt")
    teacher = make_target("teacher", 2, seed=0, hidden=[32, 32, 32, 32], coef=0.5)
    br = sup_norm_bracket(teacher, student, rtol=0.02, time_budget=20, seed=seed,
                          n_random=2**14, n_starts=16, steps=50)
    bracket_path = out_dir / "bracket.json"
    tmp = bracket_path.with_name(".bracket.json.tmp")
    tmp.write_text(json.dumps({"job": row["job_id"], **br.to_dict()}, indent=1), encoding="utf-8")
    os.replace(tmp, bracket_path)
    files.append(str(bracket_path))

    def worst(dim: int, method: str, norm: str) -> float:
        m_max = max(a["m"] for a in agg if a["dim"] == dim)
        return next(a["worst"] for a in agg if a["dim"] == dim and a["m"] == m_max
                    and a["method"] == method and a["norm"] == norm)

    headline = (
        f"d=2, m={row['m']}: student L2 error {row['l2']:.2e} but sup-norm error in "
        f"[{br.lower:.2e}, {br.upper:.2e}] (certified, {br.status}); worst over teachers: "
        f"student L2/Linf = {worst(2, 'student', 'l2'):.2e}/{worst(2, 'student', 'linf'):.2e}, "
        f"constant grid {worst(2, 'constant', 'l2'):.2e}/{worst(2, 'constant', 'linf'):.2e}"
    )
    return {"headline": headline, "files": files}
