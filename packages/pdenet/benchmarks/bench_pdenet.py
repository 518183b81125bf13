"""Benchmark: pdenet networks against the Monte Carlo solver and published anchors; prints one table.

Per Kolmogorov problem: training time, relative L1/L2/Linf errors on fresh points, and the
amortisation against Monte Carlo: the time to evaluate 1e5 points with the network versus
with the Monte Carlo solver at the same relative L1 error. The number of Monte Carlo samples
per point for equal error is ``n = (sqrt(2/pi) mean_i s_i / (e mean_i |u_i|))^2`` (``s_i`` the
payoff standard deviation at point ``i``, ``e`` the network's relative L1 error); the Monte
Carlo time is measured on ``--mc-points`` points and scaled linearly to 1e5.
Per semilinear problem: DeepBSDE time and relative error of u(0, x0) against the reference and
the published DeepBSDE error (Han, Jentzen, E 2018: 0.17 % HJB, 0.30 % Allen-Cahn; Berner et
al. 2020: relative L1 1.09e-3 on parametric Black-Scholes).

Usage::

    python benchmarks/bench_pdenet.py [--quick] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from pdenet import MonteCarloSolver, solve

RUNS = {
    "heat_paraboloid": ({"problem": "heat_paraboloid", "problem_options": {"dim": 10}, "steps": 2000,
                         "batch_size": 1024}, "target rel L1 < 1e-2"),
    "black_scholes_put": ({"problem": "black_scholes_put", "loss": "bsde_detached", "time_steps": 2,
                           "steps": 4000, "batch_size": 2048}, "target < 5e-3; Berner et al. 1.09e-3"),
    "heat_gaussian": ({"problem": "heat_gaussian", "problem_options": {"dim": 150}, "steps": 1500,
                       "batch_size": 512}, "closed form, d = 150"),
    "hjb": ({"problem": "hjb", "loss": "deepbsde", "steps": 2000, "batch_size": 256,
             "optim": {"lr": 3e-3, "y0_lr": 5e-2, "lr_final": 1e-5}}, "target 1 %; DeepBSDE 0.17 %"),
    "allen_cahn": ({"problem": "allen_cahn", "loss": "deepbsde", "steps": 2000, "batch_size": 256,
                    "y0_range": [0.3, 0.6], "optim": {"lr": 1e-3, "y0_lr": 1e-2, "lr_final": 1e-5}},
                   "target 2 %; DeepBSDE 0.30 %"),
}


def amortisation(result, mc_points: int, n_eval: int = 100_000) -> tuple[float, float, int]:
    problem = result.problem
    gen = torch.Generator().manual_seed(123)
    t, x, p = problem.sample_inputs(n_eval, generator=gen)
    start = time.perf_counter()
    result.solution.predict(t, x, p)
    net_time = time.perf_counter() - start
    # payoff spread at a few points -> samples per point for the network's error
    probe = MonteCarloSolver(problem, 2000, seed=5)
    mean, half = probe.solve(t[:200].double(), x[:200].double(), p[:200].double())
    sd = half / 1.96 * math.sqrt(2000)
    e = result.evaluation["rel_l1"]
    n = max(2, int(math.ceil((math.sqrt(2 / math.pi) * float(sd.mean()) / (e * float(mean.abs().mean()))) ** 2)))
    mc = MonteCarloSolver(problem, n, seed=7)  # batches bounded by max_elements (64 MB a state array)
    start = time.perf_counter()
    mc.predict(t[:mc_points].double(), x[:mc_points].double(), p[:mc_points].double())
    mc_time = (time.perf_counter() - start) * n_eval / mc_points
    return net_time, mc_time, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the steps (smoke run)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--mc-points", type=int, default=200)
    parser.add_argument("--only", nargs="*", default=None, help="subset of problems")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    head = ("problem", "loss", "train s", "rel L1 / L2 / Linf (or u(0,0))", "1e5 points: net vs MC",
            "speed-up", "anchor")
    # header first and one flushed row per problem, so that a partial run is still useful
    print("| " + " | ".join(head) + " |", flush=True)
    print("|" + "---|" * len(head), flush=True)
    for name, (cfg, note) in RUNS.items():
        if args.only and name not in args.only:
            continue
        cfg = dict(cfg, seed=0)
        if args.quick:
            cfg["steps"] = max(100, cfg["steps"] // 4)
            name = f"{name} (quick, {cfg['steps']} steps)"
        result = solve(cfg, quiet=True)
        ev = result.evaluation
        if "rel_l1" in ev:
            net_t, mc_t, n = amortisation(result, args.mc_points)
            row = (name, cfg.get("loss", "feynman_kac"), f"{ev['train_time_s']:.0f}",
                   f"{ev['rel_l1']:.2e} / {ev['rel_l2']:.2e} / {ev['rel_linf']:.2e}",
                   f"{net_t:.3f} s vs {mc_t:.1f} s (n={n}/pt)", f"{mc_t / net_t:.0f}x", note)
        else:
            row = (name, "deepbsde", f"{ev['train_time_s']:.0f}",
                   f"u(0,0)={ev['value']:.5f} vs {ev['reference']:.5f}: rel {ev['rel_error']:.2e}",
                   "n/a (one point)", "", note)
        print("| " + " | ".join(row) + " |", flush=True)

if __name__ == "__main__":
    main()
