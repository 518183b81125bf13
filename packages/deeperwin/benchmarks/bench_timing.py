"""Time per local-energy evaluation (forward vs reference Laplacian) and per optimisation step.

He, LiH and N2 with the default network at a fixed number of walkers; compiled functions
are timed after a warm-up call, each as the median of several repetitions. Prints one
Markdown table.

    python benchmarks/bench_timing.py [--walkers 256] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax

from deeperwin.optimize import Engine, OptimizationConfig, SamplingConfig
from deeperwin.systems import get_system


def _median_time(fn, repeats: int) -> float:
    fn()  # compile / warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walkers", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--systems", nargs="+", default=["He", "LiH", "N2"])
    args = parser.parse_args()
    rows = []
    for name in args.systems:
        mol = get_system(name)
        timings = {}
        for lap in ("forward", "reference"):
            engine = Engine(mol.charges, mol.positions, mol.n_up, mol.n_down,
                            sampling=SamplingConfig(n_walkers=args.walkers, steps_per_sample=10),
                            optimization=OptimizationConfig(optimizer="kfac", laplacian=lap), seed=0)
            state = engine.init_state()
            nuclei = engine._nuclei_batch(args.walkers)
            timings[lap] = _median_time(
                lambda e=engine, s=state, n=nuclei: jax.block_until_ready(e._local_energy(s.params, s.walkers.r, n)),
                args.repeats)
            if lap == "forward":
                holder = {"state": state}

                def step(engine=engine, holder=holder):
                    holder["state"], _ = engine.train_step(holder["state"])
                    jax.block_until_ready(jax.tree_util.tree_leaves(holder["state"].params))

                timings["step"] = _median_time(step, args.repeats)
        rows.append((name, mol.n_up + mol.n_down, timings))
    print(f"walkers: {args.walkers}; devices: {jax.devices()}; median of {args.repeats} after warm-up\n")
    print("| system | electrons | E_L forward Laplacian (ms) | E_L reference Laplacian (ms) | speed-up | KFAC step incl. 10 MCMC steps (ms) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, n_el, t in rows:
        print(f"| {name} | {n_el} | {1e3 * t['forward']:.1f} | {1e3 * t['reference']:.1f} | "
              f"{t['reference'] / t['forward']:.1f}x | {1e3 * t['step']:.1f} |")


if __name__ == "__main__":
    main()
