"""Shared vs independent optimisation: total steps (and seconds) until every H2 geometry is within 3 mHa.

Convergence criterion (fixed before any run, the same for every method): a geometry counts as
converged at the first optimisation step where the mean of its last ``--window`` (25) training
energies (unbiased VMC estimates of the current wavefunction before its update) is within
``--tol`` (3 mHa) of the shipped FCI/aug-cc-pV5Z curve at its bond length.

For every seed the same geometries are optimised

* **shared**, with each scheduler of ``--schedulers`` (round robin; variance x staleness): one
  SharedEngine over all geometries; the count is the total step at which every geometry has met
  the criterion (at most ``--max-steps`` per geometry, i.e. ``n x max-steps`` in all);
* **independent**: one engine per geometry with the same network and settings; the count is the
  sum of the per-geometry steps (at most ``--max-steps`` each).

Pretraining to Hartree-Fock (``--pretrain`` steps per engine: the shared engine spreads them over
its geometries, every independent engine has them all) and burn-in are not counted in the steps;
their seconds are reported in the "total s" columns. Optimisation seconds are the wall time of the
counted steps (compilation is done beforehand by a warm-up). Then a new bond length (``--new``) is
fine-tuned from the shared (round robin) parameters of the nearest geometry (no pretraining) and
compared with a fresh start. Prints Markdown tables (per seed and mean +- standard deviation over
the seeds) and writes every count to ``--json``. Run from the package directory, e.g.

    nice -n 10 python benchmarks/bench_shared.py --n-geometries 15 --seeds 0 1 2 --json bench_shared.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from deeperwin.baseline import hartree_fock
from deeperwin.geometry import bond_length_scan
from deeperwin.optimize import OptimizationConfig, SamplingConfig
from deeperwin.pes import load_h2_reference
from deeperwin.shared import SharedEngine
from deeperwin.wavefunction import WavefunctionConfig


def _engine(mols, seed, scheduler="round_robin", pretrain=100):
    return SharedEngine(mols, wavefunction=WavefunctionConfig(2, 16, 8, 2),
                        sampling=SamplingConfig(n_walkers=256, steps_per_sample=5, burn_in=50),
                        optimization=OptimizationConfig(learning_rate=0.01, lr_decay_steps=1000,
                                                        pretrain_steps=pretrain),
                        scheduler=scheduler, seed=seed)


def steps_to_accuracy(mols, ref, max_steps, window, tol, seed, scheduler="round_robin", pretrain=100,
                      params=None, hfs=None, pretrain_steps=None):
    """Optimise until every geometry meets the criterion.

    Returns a dict: ``steps`` (None when not reached within ``max_steps``), ``visits`` (per
    geometry, steps at which it was trained until it met the criterion), ``opt_s`` (seconds of
    the optimisation steps), ``setup_s`` (pretraining and burn-in), and the engine and state.
    With ``params`` the run starts from them (fine-tuning, no pretraining).
    """
    t0 = time.perf_counter()
    eng = _engine(mols, seed, scheduler, pretrain)
    state = eng.init_state(params)
    if params is None and pretrain:
        hfs = hfs if hfs is not None else [hartree_fock(m, "6-311G") for m in mols]
        state = eng.pretrain(state, hfs, pretrain_steps)
    state = eng.burn_in(state)
    setup_s = time.perf_counter() - t0
    history = [[] for _ in mols]
    met_at = [None] * len(mols)
    steps = None
    t0 = time.perf_counter()
    while state.step < max_steps:
        state, stats = eng.train_step(state)
        g = stats["geometry"]
        history[g].append(stats["energy"])
        if len(history[g]) >= window and met_at[g] is None and abs(np.mean(history[g][-window:]) - ref[g]) < tol:
            met_at[g] = len(history[g])
        elif met_at[g] is not None and abs(np.mean(history[g][-window:]) - ref[g]) >= tol:
            met_at[g] = None  # left the band again: the criterion must hold when the last geometry meets it
        if all(m is not None for m in met_at):
            steps = state.step
            break
    return {"steps": steps, "visits": met_at, "opt_s": time.perf_counter() - t0, "setup_s": setup_s,
            "engine": eng, "state": state}


def _fmt(x, digits=0):
    return "n/a" if x is None else f"{x:.{digits}f}"


def _mean_sd(values, digits=0):
    v = [x for x in values if x is not None]
    if len(v) < len(values):
        return f"{len(values) - len(v)} of {len(values)} not converged"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{np.mean(v):.{digits}f} +- {np.std(v, ddof=1):.{digits}f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-geometries", type=int, default=15, help="bond lengths evenly spaced in [1, 3] bohr")
    p.add_argument("--bond-lengths", type=float, nargs="+", help="explicit bond lengths (bohr), instead")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--schedulers", nargs="+", default=["round_robin", "variance"])
    p.add_argument("--max-steps", type=int, default=1000, help="step limit per geometry")
    p.add_argument("--window", type=int, default=25)
    p.add_argument("--tol", type=float, default=3e-3, help="hartree")
    p.add_argument("--pretrain", type=int, default=100, help="pretraining steps per engine")
    p.add_argument("--new", type=float, default=1.7, help="bond length of the fine-tuning test (bohr)")
    p.add_argument("--json", help="write every count to this file")
    a = p.parse_args()
    bls = a.bond_lengths or [round(float(x), 4) for x in np.linspace(1.0, 3.0, a.n_geometries)]
    mols = bond_length_scan("H2", bls)
    ref = load_h2_reference().energy(bls)
    hfs = [hartree_fock(m, "6-311G") for m in mols]
    new = bond_length_scan("H2", [a.new])
    new_ref = load_h2_reference().energy([a.new])
    new_hf = [hartree_fock(new[0], "6-311G")]
    nearest = int(np.argmin(np.abs(np.asarray(bls) - a.new)))
    # warm-up: compile every function once so that no count below includes compilation
    for sched in a.schedulers:
        steps_to_accuracy(mols[:2], ref[:2], 2, a.window, a.tol, 0, sched, a.pretrain, hfs=hfs[:2], pretrain_steps=2)
    results = []
    t_all = time.perf_counter()
    for seed in a.seeds:
        row = {"seed": seed, "shared": {}}
        for sched in a.schedulers:
            r = steps_to_accuracy(mols, ref, a.max_steps * len(mols), a.window, a.tol, seed, sched, a.pretrain,
                                  hfs=hfs)
            row["shared"][sched] = {k: r[k] for k in ("steps", "visits", "opt_s", "setup_s")}
            if sched == a.schedulers[0]:
                tune_params = r["engine"].params_of(r["state"], nearest)
        indep = [steps_to_accuracy([m], [e], a.max_steps, a.window, a.tol, seed, pretrain=a.pretrain, hfs=[hf])
                 for m, e, hf in zip(mols, ref, hfs, strict=True)]
        steps = [r["steps"] for r in indep]
        row["independent"] = {"steps": steps, "total": None if None in steps else sum(steps),
                              "opt_s": sum(r["opt_s"] for r in indep), "setup_s": sum(r["setup_s"] for r in indep)}
        tuned = steps_to_accuracy(new, new_ref, a.max_steps, a.window, a.tol, seed, params=tune_params)
        fresh = steps_to_accuracy(new, new_ref, a.max_steps, a.window, a.tol, seed, pretrain=a.pretrain, hfs=new_hf)
        row["fine_tune"] = {"tuned": tuned["steps"], "fresh": fresh["steps"]}
        results.append(row)
        print(f"seed {seed} done ({time.perf_counter() - t_all:.0f} s): "
              f"{json.dumps({k: v for k, v in row.items() if k != 'seed'})}", flush=True)

    def ratio(ind, sh):
        return None if ind is None or not sh else ind / sh

    print()
    print(f"H2, {len(bls)} bond lengths {bls[0]:g}-{bls[-1]:g} bohr; criterion: mean of the last {a.window} training "
          f"energies within {1000 * a.tol:g} mHa of FCI/aug-cc-pV5Z; steps exclude pretraining ({a.pretrain} per "
          f"engine) and burn-in, 'total s' includes them")
    head = ["seed"]
    for s in a.schedulers:
        head += [f"shared {s}: steps", "opt s", "total s", "ratio (steps)", "ratio (s)"]
    head += ["independent: steps (sum)", "opt s", "total s", "per geometry (min/median/max)"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for row in results:
        ind = row["independent"]
        cells = [str(row["seed"])]
        for s in a.schedulers:
            sh = row["shared"][s]
            r_s = None if sh["steps"] is None else ind["opt_s"] / sh["opt_s"]
            cells += [_fmt(sh["steps"]), _fmt(sh["opt_s"]), _fmt(sh["opt_s"] + sh["setup_s"]),
                      _fmt(ratio(ind["total"], sh["steps"]), 2), _fmt(r_s, 2)]
        ok = [x for x in ind["steps"] if x is not None]
        spread = f"{min(ok)}/{int(np.median(ok))}/{max(ok)}" if ok else "n/a"
        cells += [_fmt(ind["total"]), _fmt(ind["opt_s"]), _fmt(ind["opt_s"] + ind["setup_s"]), spread]
        print("| " + " | ".join(cells) + " |")
    print()
    print("| method | total steps (mean +- sd over seeds) | optimisation s | incl. pretraining s | ratio independent/shared (steps) |")
    print("| --- | --- | --- | --- | --- |")
    for s in a.schedulers:
        sh = [r["shared"][s] for r in results]
        rs = [ratio(r["independent"]["total"], r["shared"][s]["steps"]) for r in results]
        print(f"| shared, {s} | {_mean_sd([x['steps'] for x in sh])} | {_mean_sd([x['opt_s'] for x in sh])} | "
              f"{_mean_sd([x['opt_s'] + x['setup_s'] for x in sh])} | {_mean_sd(rs, 2)} |")
    ind = [r["independent"] for r in results]
    print(f"| independent | {_mean_sd([x['total'] for x in ind])} | {_mean_sd([x['opt_s'] for x in ind])} | "
          f"{_mean_sd([x['opt_s'] + x['setup_s'] for x in ind])} | 1 |")
    print()
    print(f"| new bond length {a.new:g} bohr | fine-tuned from shared {a.schedulers[0]} (no pretraining) | "
          f"fresh start (with pretraining) |")
    print("| --- | --- | --- |")
    for row in results:
        print(f"| seed {row['seed']} | {_fmt(row['fine_tune']['tuned'])} | {_fmt(row['fine_tune']['fresh'])} |")
    print(f"\nwall time {time.perf_counter() - t_all:.0f} s")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump({"bond_lengths": bls, "window": a.window, "tol": a.tol, "pretrain": a.pretrain,
                       "max_steps": a.max_steps, "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
