"""Shared vs independent optimisation: total steps until every H2 geometry is within 3 mHa.

For each bond length the criterion is met at the first step where the mean of the last
``--window`` training energies of that geometry (unbiased VMC estimates of the current
wavefunction before its update) is within ``--tol`` of the shipped FCI/aug-cc-pV5Z curve.
Shared: one SharedEngine over all geometries (round robin); the count is the total step at
which every geometry meets the criterion. Independent: one engine per geometry with the same
settings; the count is the sum of the per-geometry steps. Fine-tuning: a new bond length
(``--new``) started from the trained shared parameters of the nearest geometry (no
pretraining) against a fresh start (with pretraining). Prints Markdown tables.

    python benchmarks/bench_shared.py [--bond-lengths 1.0 1.5 2.0 2.5 3.0] [--max-steps 1500] [--new 1.7]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from deeperwin.baseline import hartree_fock
from deeperwin.geometry import bond_length_scan
from deeperwin.optimize import OptimizationConfig, SamplingConfig
from deeperwin.pes import load_h2_reference
from deeperwin.shared import SharedEngine
from deeperwin.wavefunction import WavefunctionConfig


def _engine(mols, seed):
    return SharedEngine(mols, wavefunction=WavefunctionConfig(2, 16, 8, 2),
                        sampling=SamplingConfig(n_walkers=256, steps_per_sample=5, burn_in=50),
                        optimization=OptimizationConfig(learning_rate=0.01, lr_decay_steps=1000, pretrain_steps=100),
                        seed=seed)


def _steps_to_accuracy(mols, ref, max_steps, window, tol, seed, params=None):
    """Steps until every geometry meets the criterion (None: not within max_steps), engine and state.

    With `params` the run starts from them (fine-tuning, no pretraining).
    """
    eng = _engine(mols, seed)
    state = eng.init_state(params)
    if params is None:
        state = eng.pretrain(state, [hartree_fock(m, "6-311G") for m in mols])
    state = eng.burn_in(state)
    history = [[] for _ in mols]
    met = np.zeros(len(mols), bool)
    while state.step < max_steps:
        state, stats = eng.train_step(state)
        g = stats["geometry"]
        history[g].append(stats["energy"])
        if len(history[g]) >= window:
            met[g] = abs(np.mean(history[g][-window:]) - ref[g]) < tol
        if met.all():
            return state.step, eng, state
    return None, eng, state


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bond-lengths", type=float, nargs="+", default=[1.0, 1.5, 2.0, 2.5, 3.0])
    p.add_argument("--max-steps", type=int, default=1500, help="step limit per engine")
    p.add_argument("--window", type=int, default=25)
    p.add_argument("--tol", type=float, default=3e-3, help="hartree")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--new", type=float, default=1.7, help="bond length of the fine-tuning test (bohr)")
    a = p.parse_args()
    mols = bond_length_scan("H2", a.bond_lengths)
    ref = load_h2_reference().energy(a.bond_lengths)
    t0 = time.perf_counter()
    shared, eng, state = _steps_to_accuracy(mols, ref, a.max_steps * len(mols), a.window, a.tol, a.seed)
    t_shared = time.perf_counter() - t0
    indep = []
    t0 = time.perf_counter()
    for m, r in zip(mols, ref, strict=True):
        indep.append(_steps_to_accuracy([m], [r], a.max_steps, a.window, a.tol, a.seed)[0])
    t_indep = time.perf_counter() - t0
    total = None if None in indep else sum(indep)
    print("| bond lengths (bohr) | shared steps | independent steps (sum) | per geometry | ratio |")
    print("| --- | --- | --- | --- | --- |")
    ratio = f"{total / shared:.2f}x" if shared and total else "n/a"
    print(f"| {', '.join(f'{b:g}' for b in a.bond_lengths)} | {shared} | {total} | {indep} | {ratio} |")
    print(f"wall time: shared {t_shared:.0f} s, independent {t_indep:.0f} s")
    new = bond_length_scan("H2", [a.new])
    new_ref = load_h2_reference().energy([a.new])
    nearest = int(np.argmin(np.abs(np.asarray(a.bond_lengths) - a.new)))
    tuned = _steps_to_accuracy(new, new_ref, a.max_steps, a.window, a.tol, a.seed,
                               params=eng.params_of(state, nearest))[0]
    fresh = _steps_to_accuracy(new, new_ref, a.max_steps, a.window, a.tol, a.seed)[0]
    print()
    print("| new bond length (bohr) | fine-tuned from shared run (steps) | fresh start (steps) |")
    print("| --- | --- | --- |")
    print(f"| {a.new:g} | {tuned} | {fresh} |")


if __name__ == "__main__":
    main()
