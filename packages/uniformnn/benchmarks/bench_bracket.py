"""Sup-norm error of trained student/teacher pairs: the bracket vs the paper's random sampling.

For d = 1..8 a teacher [d, 32, 32, 32, 32, 1] (coefficients uniform in [-0.5, 0.5]) is learned
by a student of the same architecture from m uniform samples. Then, on the same pair:

- the paper's estimate: max |teacher - student| over 2^24 uniform random points;
- uniformnn.lower_bound: 2^16 random points + 64-start projected gradient ascent;
- uniformnn.sup_norm_bracket: certified [lower, upper] with a 60 s budget and rtol 1 %.

Columns: time and value of each; "below UB" is how far the 2^24-point estimate lies below the
certified upper bound, (upper - sampled) / upper.

Usage::

    python benchmarks/bench_bracket.py [--dims 1 2 3 4 5 6 7 8] [--budget 60] [--samples-log2 24]
"""

from __future__ import annotations

import argparse
import time

import torch

from uniformnn import lower_bound, make_target, sup_norm_bracket
from uniformnn.objective import Objective
from uniformnn.search import random_search
from uniformnn.training import train_student


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dims", type=int, nargs="+", default=list(range(1, 9)))
    p.add_argument("--budget", type=float, default=60.0)
    p.add_argument("--samples-log2", type=int, default=24)
    p.add_argument("--m", type=int, default=2048, help="training samples")
    p.add_argument("--steps", type=int, default=1000, help="training steps")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    header = (f"{'d':>2} {'sampled 2^' + str(args.samples_log2):>14} {'t[s]':>6} | {'lower_bound':>11} "
              f"{'t[s]':>5} | {'bracket lower':>13} {'upper':>10} {'gap':>7} {'t[s]':>5} "
              f"{'status':>11} | {'below UB':>8}")
    print(header)
    print("-" * len(header))
    for d in args.dims:
        teacher = make_target("teacher", d, seed=d)
        student = train_student(teacher, args.m, width=32, depth=4, lr=1e-2, lr_final_factor=0.1,
                                steps=args.steps, seed=d).network
        obj = Objective(teacher, student)
        t0 = time.perf_counter()
        sampled, _, _ = random_search(obj, 2**args.samples_log2, seed=123, batch_size=2**18)
        t_sampled = time.perf_counter() - t0
        lb = lower_bound(obj, seed=1)
        br = sup_norm_bracket(teacher, student, rtol=0.01, time_budget=args.budget, seed=1)
        below = (br.upper - sampled) / br.upper
        print(f"{d:>2} {sampled:>14.6g} {t_sampled:>6.1f} | {lb.value:>11.6g} {lb.elapsed:>5.1f} | "
              f"{br.lower:>13.6g} {br.upper:>10.6g} {br.rel_gap:>7.2%} {br.elapsed:>5.1f} "
              f"{br.status:>11} | {below:>8.2%}", flush=True)


if __name__ == "__main__":
    main()
