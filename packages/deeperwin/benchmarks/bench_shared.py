"""Shared vs independent optimisation: total steps (and seconds) until every H2 geometry is within 3 mHa.

Two convergence criteria are measured in the same runs, the same for every method:

* **evaluated** (the default headline, the criterion of the weight-sharing paper): every
  ``--check-every`` (5) optimisation steps per geometry (i.e. every ``5 n`` steps of a shared run
  over ``n`` geometries) the current wavefunction of every geometry is evaluated with fixed
  parameters (``--eval-steps`` sampling steps, blocking error bar); a geometry meets the target
  when its evaluated energy is within ``--tol`` (3 mHa) of the shipped FCI/aug-cc-pV5Z curve.
  The evaluation changes no parameter and is not counted in the steps; its seconds are reported.
* **window**: at the first step where the mean of a geometry's last ``--window`` (25) training
  energies (VMC energies of the wavefunction before each update) is within ``--tol``. This
  average lags behind the wavefunction and needs ``--window`` steps of the geometry's own.

For every seed the same geometries are optimised

* **shared**, with each scheduler of ``--schedulers`` (round robin; variance x staleness): one
  SharedEngine over all geometries; the count is the total step at which every geometry meets the
  criterion at once (at most ``--max-steps`` per geometry, i.e. ``n x max-steps`` in all);
* **independent**: one engine per geometry with the same network and settings; the count is the
  sum of the per-geometry steps (at most ``--max-steps`` each).

Every geometry gets ``--pretrain`` steps of pretraining to Hartree-Fock in both methods (the shared
engine takes ``n x pretrain`` steps, geometries in turn); pretraining and burn-in are not counted in
the steps, and their seconds are in the "total s" columns. Optimisation seconds are the wall time
of the counted steps (compilation is done beforehand by a warm-up). Then a new bond length
(``--new``) is fine-tuned from the shared (round robin) parameters of the nearest geometry (no
pretraining) and compared with a fresh start. Prints Markdown tables (per seed and mean +- standard
deviation over the seeds) and writes every count to ``--json``; ``--combine A.json B.json ...``
prints the tables of several such files (seeds run as separate processes). Run from the package
directory, e.g.

    nice -n 10 python benchmarks/bench_shared.py --n-geometries 15 --seeds 0 1 2 --json bench_shared.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from deeperwin.baseline import hartree_fock
from deeperwin.checkpoint import atomic_write_text
from deeperwin.geometry import bond_length_scan
from deeperwin.optimize import OptimizationConfig, SamplingConfig
from deeperwin.pes import load_h2_reference
from deeperwin.shared import SharedEngine
from deeperwin.wavefunction import WavefunctionConfig

CRITERIA = ("evaluated", "window")


def _engine(mols, seed, scheduler="round_robin"):
    return SharedEngine(mols, wavefunction=WavefunctionConfig(2, 16, 8, 2),
                        sampling=SamplingConfig(n_walkers=256, steps_per_sample=5, burn_in=50),
                        optimization=OptimizationConfig(learning_rate=0.01, lr_decay_steps=1000),
                        scheduler=scheduler, seed=seed)


def steps_to_accuracy(mols, ref, max_steps, window, tol, seed, scheduler="round_robin", pretrain=100,
                      params=None, hfs=None, check_every=5, eval_steps=150):
    """Optimise until every geometry meets both criteria (or ``max_steps`` per geometry).

    Returns a dict: ``steps`` (per criterion: total steps at which every geometry met it at once,
    None when not reached), ``visits`` (window criterion: per geometry, its own steps when it met
    it), ``evaluated`` (energy errors and error bars in Ha at the checkpoint that met the evaluated
    criterion, or at the last one), ``opt_s`` (seconds of the optimisation steps), ``eval_s``
    (checkpoint evaluations), ``setup_s`` (pretraining and burn-in), and the engine and state.
    With ``params`` the run starts from them (fine-tuning, no pretraining).
    """
    n = len(mols)
    t0 = time.perf_counter()
    eng = _engine(mols, seed, scheduler)
    state = eng.init_state(params)
    if params is None and pretrain:
        hfs = hfs if hfs is not None else [hartree_fock(m, "6-311G") for m in mols]
        state = eng.pretrain(state, hfs, pretrain * n)
    state = eng.burn_in(state)
    setup_s = time.perf_counter() - t0
    history = [[] for _ in mols]
    met_at = [None] * n
    steps = dict.fromkeys(CRITERIA)
    evaluated, trace = None, []
    opt_s = eval_s = 0.0
    while state.step < max_steps * n and None in steps.values():
        t0 = time.perf_counter()
        state, stats = eng.train_step(state)
        opt_s += time.perf_counter() - t0
        g = stats["geometry"]
        history[g].append(stats["energy"])
        if len(history[g]) >= window:
            inside = abs(np.mean(history[g][-window:]) - ref[g]) < tol
            if inside and met_at[g] is None:
                met_at[g] = len(history[g])
            elif not inside:
                met_at[g] = None  # left the band again: the criterion must hold when the last geometry meets it
        if steps["window"] is None and all(m is not None for m in met_at):
            steps["window"] = state.step
        if steps["evaluated"] is None and state.step % (check_every * n) == 0:
            t0 = time.perf_counter()
            res = eng.evaluate(state, eval_steps)
            eval_s += time.perf_counter() - t0
            evaluated = {"error": [r["energy"] - e for r, e in zip(res, ref, strict=True)],
                         "error_bar": [r["error"] for r in res], "step": state.step}
            worst = int(np.argmax(np.abs(evaluated["error"])))
            trace.append([state.step, worst, evaluated["error"][worst]])
            if all(abs(x) < tol for x in evaluated["error"]):
                steps["evaluated"] = state.step
    return {"steps": steps, "visits": met_at, "evaluated": evaluated, "trace": trace, "opt_s": opt_s, "eval_s": eval_s,
            "setup_s": setup_s, "engine": eng, "state": state}


def _fmt(x, digits=0):
    return "n/a" if x is None else f"{x:.{digits}f}"


def _mean_sd(values, digits=0):
    v = [x for x in values if x is not None]
    if len(v) < len(values):
        return f"{len(values) - len(v)} of {len(values)} not converged"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{np.mean(v):.{digits}f} +- {np.std(v, ddof=1):.{digits}f}"


def run_seed(seed, mols, ref, hfs, a, new, new_ref, new_hf, nearest):
    """Every method for one seed; returns the JSON row."""
    common = {"window": a.window, "tol": a.tol, "check_every": a.check_every, "eval_steps": a.eval_steps}
    row = {"seed": seed, "shared": {}}
    for sched in a.schedulers:
        r = steps_to_accuracy(mols, ref, a.max_steps, seed=seed, scheduler=sched, pretrain=a.pretrain, hfs=hfs,
                              **common)
        row["shared"][sched] = {k: r[k] for k in ("steps", "visits", "evaluated", "trace", "opt_s", "eval_s",
                                                     "setup_s")}
        if sched == a.schedulers[0]:
            tune_params = r["engine"].params_of(r["state"], nearest)
    indep = [steps_to_accuracy([m], [e], a.max_steps, seed=seed, pretrain=a.pretrain, hfs=[hf], **common)
             for m, e, hf in zip(mols, ref, hfs, strict=True)]
    row["independent"] = {"steps": {c: [r["steps"][c] for r in indep] for c in CRITERIA},
                          "opt_s": sum(r["opt_s"] for r in indep), "eval_s": sum(r["eval_s"] for r in indep),
                          "setup_s": sum(r["setup_s"] for r in indep)}
    row["independent"]["total"] = {c: None if None in v else sum(v) for c, v in row["independent"]["steps"].items()}
    tuned = steps_to_accuracy(new, new_ref, a.max_steps, seed=seed, params=tune_params, **common)
    fresh = steps_to_accuracy(new, new_ref, a.max_steps, seed=seed, pretrain=a.pretrain, hfs=new_hf, **common)
    row["fine_tune"] = {"tuned": tuned["steps"], "fresh": fresh["steps"]}
    return row


def _ratio(ind, sh):
    return None if ind is None or not sh else ind / sh


def report(meta, results):
    """Print the Markdown tables of ``results`` (rows of :func:`run_seed`)."""
    bls, schedulers = meta["bond_lengths"], meta["schedulers"]
    print()
    print(f"H2, {len(bls)} bond lengths {bls[0]:g}-{bls[-1]:g} bohr, seeds {[r['seed'] for r in results]}; "
          f"tolerance {1000 * meta['tol']:g} mHa of FCI/aug-cc-pV5Z; evaluated: every {meta['check_every']} steps "
          f"per geometry, {meta['eval_steps']} evaluation steps; window: mean of the last {meta['window']} training "
          f"energies; steps exclude pretraining ({meta['pretrain']} per geometry in both methods) and burn-in; "
          f"'total s' includes them and the evaluations")
    for crit in CRITERIA:
        print(f"\nCriterion: {crit}\n")
        head = ["seed"]
        for s in schedulers:
            head += [f"shared {s}: steps", "ratio"]
        head += ["independent: steps (sum)", "per geometry (min/median/max)"]
        print("| " + " | ".join(head) + " |")
        print("|" + " --- |" * len(head))
        for row in results:
            ind = row["independent"]
            cells = [str(row["seed"])]
            for s in schedulers:
                sh = row["shared"][s]["steps"][crit]
                cells += [_fmt(sh), _fmt(_ratio(ind["total"][crit], sh), 2)]
            ok = [x for x in ind["steps"][crit] if x is not None]
            spread = f"{min(ok)}/{int(np.median(ok))}/{max(ok)}" if ok else "n/a"
            missing = len(ind["steps"][crit]) - len(ok)
            cells += [_fmt(ind["total"][crit]) + (f" ({missing} not converged)" if missing else ""), spread]
            print("| " + " | ".join(cells) + " |")
        print()
        print("| method | total steps (mean +- sd over seeds) | ratio independent/shared (steps) |")
        print("| --- | --- | --- |")
        for s in schedulers:
            rs = [_ratio(r["independent"]["total"][crit], r["shared"][s]["steps"][crit]) for r in results]
            print(f"| shared, {s} | {_mean_sd([r['shared'][s]['steps'][crit] for r in results])} | {_mean_sd(rs, 2)} |")
        print(f"| independent | {_mean_sd([r['independent']['total'][crit] for r in results])} | 1 |")
    print("\nSeconds (wall, mean +- sd over seeds):\n")
    print("| method | optimisation s | evaluation s | pretraining and burn-in s | total s |")
    print("| --- | --- | --- | --- | --- |")
    for name, get in [(f"shared, {s}", lambda r, s=s: r["shared"][s]) for s in schedulers] + \
            [("independent", lambda r: r["independent"])]:
        xs = [get(r) for r in results]
        print(f"| {name} | {_mean_sd([x['opt_s'] for x in xs])} | {_mean_sd([x['eval_s'] for x in xs])} | "
              f"{_mean_sd([x['setup_s'] for x in xs])} | "
              f"{_mean_sd([x['opt_s'] + x['eval_s'] + x['setup_s'] for x in xs])} |")
    print(f"\n| new bond length {meta['new']:g} bohr, steps ({' / '.join(CRITERIA)}) | fine-tuned from shared "
          f"{schedulers[0]} (no pretraining) | fresh start (with pretraining) |")
    print("| --- | --- | --- |")
    for row in results:
        ft = row["fine_tune"]
        print(f"| seed {row['seed']} | {' / '.join(_fmt(ft['tuned'][c]) for c in CRITERIA)} | "
              f"{' / '.join(_fmt(ft['fresh'][c]) for c in CRITERIA)} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-geometries", type=int, default=15, help="bond lengths evenly spaced in [1, 3] bohr")
    p.add_argument("--bond-lengths", type=float, nargs="+", help="explicit bond lengths (bohr), instead")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--schedulers", nargs="+", default=["round_robin", "variance"])
    p.add_argument("--max-steps", type=int, default=400, help="step limit per geometry")
    p.add_argument("--check-every", type=int, default=5, help="steps per geometry between evaluations")
    p.add_argument("--eval-steps", type=int, default=150, help="sampling steps of each evaluation")
    p.add_argument("--window", type=int, default=25)
    p.add_argument("--tol", type=float, default=3e-3, help="hartree")
    p.add_argument("--pretrain", type=int, default=100, help="pretraining steps per geometry (both methods)")
    p.add_argument("--new", type=float, default=1.7, help="bond length of the fine-tuning test (bohr)")
    p.add_argument("--json", help="write every count to this file")
    p.add_argument("--combine", nargs="+", metavar="JSON", help="only print the tables of these --json files")
    a = p.parse_args()
    if a.combine:
        data = []
        for f in a.combine:
            try:
                with open(f, encoding="utf-8") as fh:
                    data.append(json.load(fh))
            except (OSError, ValueError) as exc:
                raise SystemExit(f"--combine {f}: cannot read a --json file of this benchmark ({exc})") from None
        meta = {k: v for k, v in data[0].items() if k != "results"}
        for f, d in zip(a.combine, data, strict=True):
            if {k: v for k, v in d.items() if k != "results"} != meta:
                raise SystemExit(f"{f}: settings differ from {a.combine[0]}; only runs of the same settings combine")
        report(meta, [r for d in data for r in d["results"]])
        return
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
        steps_to_accuracy(mols[:2], ref[:2], 1, a.window, a.tol, 0, sched, 1, hfs=hfs[:2], check_every=1,
                          eval_steps=16)
    meta = {"bond_lengths": bls, "schedulers": a.schedulers, "window": a.window, "tol": a.tol,
            "pretrain": a.pretrain, "max_steps": a.max_steps, "check_every": a.check_every,
            "eval_steps": a.eval_steps, "new": a.new}
    results = []
    t_all = time.perf_counter()
    for seed in a.seeds:
        row = run_seed(seed, mols, ref, hfs, a, new, new_ref, new_hf, nearest)
        results.append(row)
        print(f"seed {seed} done ({time.perf_counter() - t_all:.0f} s): "
              f"{json.dumps({k: v for k, v in row.items() if k != 'seed'})}", flush=True)
        if a.json:  # after every seed, so that a stopped run keeps what it measured
            atomic_write_text(a.json, json.dumps({**meta, "results": results}, indent=1))
    report(meta, results)
    print(f"\nwall time {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
