"""Time and peak memory of style transfer for a 61-tilt series, per style model and image size.

Each configuration runs in a fresh Python process (so that the peak resident memory,
``ru_maxrss``, belongs to it alone): it styles ``--tilts`` tilts (one batch) for
``--iterations`` Adam iterations after one warm-up iteration, and the time per
tilt-iteration is extrapolated to 61 tilts x ``--full-iterations`` iterations. The
extrapolation is linear (tilts are independent and every iteration costs the same), and
the table says which numbers are measured and which extrapolated.

The VGG19 with ImageNet weights costs exactly what the randomly initialised VGG19 costs
(same network), so ``vgg19`` is timed only when a weights file is present and otherwise
reported as equal to ``vgg19-random``.

Usage::

    python benchmarks/bench_style.py                      # 256 and 512, all models, CPU
    python benchmarks/bench_style.py --sizes 256 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

N_TILTS = 61


def _one(model: str, size: int, tilts: int, iterations: int, threads: int, device: str) -> dict:
    import resource

    import numpy as np
    import torch

    from faket.style import default_vgg19_weights_path
    from faket.transfer import style_transfer

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    content = rng.normal(size=(tilts, size, size)).astype(np.float32)
    style = rng.gamma(2.0, size=(tilts, size, size)).astype(np.float32)
    weights = None
    if model == "vgg19" and not default_vgg19_weights_path().is_file():
        return {"skipped": f"no weights file at {default_vgg19_weights_path()}"}
    kw = dict(style_model=model, weights=weights, batch_size=tilts, device=device, seed=0)
    style_transfer(content[:1], style[:1], iterations=1, **{**kw, "batch_size": 1})  # warm-up
    t0 = time.perf_counter()
    style_transfer(content, style, iterations=iterations, **kw)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "per_tilt_iteration": seconds / (tilts * iterations), "peak_rss_mib": rss_mib}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--models", nargs="+", default=["weight-free", "vgg19-random", "vgg19"])
    ap.add_argument("--tilts", type=int, default=2, help="tilts actually run (one batch)")
    ap.add_argument("--iterations", type=int, default=2, help="iterations actually run")
    ap.add_argument("--full-iterations", type=int, default=100, help="iterations of the extrapolated full run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--one", nargs=2, metavar=("MODEL", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]), args.tilts, args.iterations, args.threads, args.device)))
        return
    print(f"# load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"# style transfer, {args.device}, {args.threads} threads; measured: {args.tilts} tilts x {args.iterations} iterations (one batch);")
    print(f"# extrapolated: {N_TILTS} tilts x {args.full_iterations} iterations = measured time per tilt-iteration x {N_TILTS * args.full_iterations}")
    print(f"| model | size | measured s | s per tilt-iteration | 61 tilts x {args.full_iterations} it. (extrapolated) | peak RSS MiB ({args.tilts} tilts) |")
    print("|---|---|---|---|---|---|")
    results = {}
    for size in args.sizes:
        for model in args.models:
            cmd = [sys.executable, __file__, "--one", model, str(size), "--tilts", str(args.tilts), "--iterations", str(args.iterations), "--threads", str(args.threads), "--device", args.device]
            proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(args.threads)})
            if proc.returncode != 0:
                print(f"| {model} | {size} | failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode} | | | |")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results[(model, size)] = r
            if "skipped" in r:
                ref = results.get(("vgg19-random", size))
                note = "same network as vgg19-random" + (f": {ref['per_tilt_iteration'] * N_TILTS * args.full_iterations / 60:.0f} min" if ref and "per_tilt_iteration" in ref else "")
                print(f"| {model} | {size} | not run ({r['skipped']}) | | {note} | |")
                continue
            full = r["per_tilt_iteration"] * N_TILTS * args.full_iterations
            print(f"| {model} | {size} | {r['seconds']:.1f} | {r['per_tilt_iteration']:.3f} | {full / 60:.1f} min | {r['peak_rss_mib']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
