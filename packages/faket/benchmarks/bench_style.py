"""Time and peak memory of style transfer of a whole 61-tilt series, per style model and image size.

Each configuration runs in a fresh Python process (so that the peak resident memory,
``ru_maxrss``, belongs to it alone). After a warm-up (one tilt, one iteration) it styles
all ``--tilts`` tilts (default 61, in batches of ``--batch-size``) twice: with 0
iterations (building the model, the feature targets of every batch and the output
statistics: the set-up) and with ``--iterations`` Adam iterations. Measured: wall and CPU
time of both calls and the peak resident memory. Derived: the time of one iteration of
the whole series, (run - set-up) / iterations, and from it the time of
``--full-iterations`` iterations, set-up + full-iterations x per-iteration (extrapolated
linearly: every iteration costs the same). The table says which numbers are measured and
which are extrapolated. CPU time (all threads of the process) is reported beside the wall
time because the wall time on a shared machine depends on the other jobs.

The VGG19 with ImageNet weights costs exactly what the randomly initialised VGG19 costs
(same network, other numbers), so ``vgg19`` is run only when a weights file is present
and otherwise reported as not run.

Usage (from ``packages/faket``)::

    nice -n 10 python benchmarks/bench_style.py --sizes 256 512 --tilts 61 --iterations 1
    python benchmarks/bench_style.py --sizes 1024 --device cuda --iterations 100   # on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _one(model: str, size: int, tilts: int, iterations: int, batch_size: int, threads: int, device: str) -> dict:
    import resource

    import numpy as np
    import torch

    from faket.style import default_vgg19_weights_path
    from faket.transfer import style_transfer

    torch.set_num_threads(threads)
    if model == "vgg19" and not default_vgg19_weights_path().is_file():
        return {"skipped": f"no weights file at {default_vgg19_weights_path()}"}
    rng = np.random.default_rng(0)
    content = rng.normal(size=(tilts, size, size)).astype(np.float32)
    style = rng.gamma(2.0, size=(tilts, size, size)).astype(np.float32)
    kw = dict(style_model=model, device=device, seed=0, batch_size=batch_size)
    style_transfer(content[:1], style[:1], iterations=1, **{**kw, "batch_size": 1})  # warm-up
    times = {}
    for its in (0, iterations):  # 0 iterations: model, feature targets and output statistics only
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        w0, c0 = time.perf_counter(), time.process_time()
        style_transfer(content, style, iterations=its, **kw)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times[its] = (time.perf_counter() - w0, time.process_time() - c0)
    (w_setup, c_setup), (w_run, c_run) = times[0], times[iterations]
    out = {"seconds": w_run, "cpu_seconds": c_run, "setup_seconds": w_setup, "setup_cpu_seconds": c_setup,
           "per_iteration": (w_run - w_setup) / iterations, "cpu_per_iteration": (c_run - c_setup) / iterations,
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.startswith("cuda"):
        out["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--models", nargs="+", default=["weight-free", "vgg19-random", "vgg19"])
    ap.add_argument("--tilts", type=int, default=61, help="tilts styled (all of them are run)")
    ap.add_argument("--iterations", type=int, default=2, help="Adam iterations actually run (>= 1)")
    ap.add_argument("--batch-size", type=int, default=4, help="tilts per batch (memory grows with it)")
    ap.add_argument("--full-iterations", type=int, default=100, help="iterations of the extrapolated full run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default=None, help="also write the results as JSON to this file")
    ap.add_argument("--one", nargs=2, metavar=("MODEL", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.iterations < 1:
        ap.error(f"--iterations: {args.iterations} is not accepted; accepted: an integer >= 1")
    if args.one:
        r = _one(args.one[0], int(args.one[1]), args.tilts, args.iterations, args.batch_size, args.threads, args.device)
        print(json.dumps(r))
        return
    t_all = time.perf_counter()
    print(f"# load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start")
    print(f"# style transfer on {args.device}, {args.threads} threads, batches of {args.batch_size} tilts")
    print(f"# measured: set-up (0 iterations) and {args.tilts} tilts x {args.iterations} iterations; "
          f"extrapolated: set-up + {args.full_iterations} x (run - set-up) / {args.iterations}")
    mem = "peak GPU MiB" if args.device.startswith("cuda") else f"peak RSS MiB (batch of {args.batch_size})"
    print(f"| model | size | measured wall s, set-up / {args.iterations} it. | measured CPU s, set-up / {args.iterations} it. | "
          f"wall s per iteration ({args.tilts} tilts) | CPU s per iteration | {args.tilts} tilts x {args.full_iterations} it., wall "
          f"(extrapolated) | {mem} |")
    print("|---|---|---|---|---|---|---|---|")
    results = []
    for size in args.sizes:
        for model in args.models:
            cmd = [sys.executable, __file__, "--one", model, str(size), "--tilts", str(args.tilts), "--iterations", str(args.iterations),
                   "--batch-size", str(args.batch_size), "--threads", str(args.threads), "--device", args.device]
            proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(args.threads)})
            if proc.returncode != 0:
                err = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
                print(f"| {model} | {size} | failed: {err} | | | | | |", flush=True)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append({"model": model, "size": size, **r})
            if "skipped" in r:
                print(f"| {model} | {size} | not run ({r['skipped']}) | | | | | |", flush=True)
                continue
            full = r["setup_seconds"] + r["per_iteration"] * args.full_iterations
            m = r.get("peak_gpu_mib", r["peak_rss_mib"])
            print(f"| {model} | {size} | {r['setup_seconds']:.0f} / {r['seconds']:.0f} | {r['setup_cpu_seconds']:.0f} / {r['cpu_seconds']:.0f} | "
                  f"{r['per_iteration']:.1f} | {r['cpu_per_iteration']:.1f} | {full / 60:.0f} min | {m:.0f} |", flush=True)
    print(f"# total {time.perf_counter() - t_all:.0f} s; load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"args": vars(args), "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
