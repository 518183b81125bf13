"""Benchmark: projection and back-projection of a 256^3 phantom at 61 tilts, faket vs scikit-image.

faket projects the whole volume at once (torch, sparse operator) and reconstructs it by
weighted back-projection; scikit-image's `radon` / `iradon` run slice by slice (as FakET's
original pipeline did). Each measurement runs in a fresh process so that its peak memory (peak
resident set size above the size after loading the inputs) is its own. With --skimage-slices
k < size, scikit-image runs on k evenly spaced slices and its time is extrapolated linearly
to all slices (the table says so). Reconstruction error: relative L2 error against the phantom
inside the reconstruction circle, on the slices scikit-image ran on, both pipelines starting
from the same phantom. radontea (optional, not a dependency) runs when installed, on
--radontea-slices slices, for time and memory.

    python benchmarks/bench_tomo.py --size 256 --tilts 61 --skimage-slices 32
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _worker(task: str, path: str, angles: list[float], slices: list[int], device: str, q) -> None:
    import torch
    from skimage.transform import iradon, radon

    from faket.projection import project
    from faket.reconstruction import fbp

    vol = np.load(path)
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", torch.get_num_threads())))
    base = _rss_kib("VmRSS")
    res: dict = {}
    t0 = time.perf_counter()
    if task == "faket_project":
        out = project(vol, angles, device=device)
        res["time"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        project(vol, angles, device=device)  # operator cached: the cost of further volumes
        res["time_warm"] = time.perf_counter() - t1
        np.save(path.replace(".npy", "_series.npy"), out)
    elif task == "faket_fbp":
        series = np.load(path.replace(".npy", "_series.npy"))
        base = _rss_kib("VmRSS")
        t0 = time.perf_counter()
        rec = fbp(series, angles, device=device)
        res["time"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        fbp(series, angles, device=device)
        res["time_warm"] = time.perf_counter() - t1
        np.save(path.replace(".npy", "_rec_slices.npy"), rec[:, slices, :])
    elif task == "skimage_radon":
        sinos = [radon(vol[:, j, :], angles, circle=True) for j in slices]
        res["time"] = time.perf_counter() - t0
        np.save(path.replace(".npy", "_sk_sinos.npy"), np.stack(sinos))
    elif task == "skimage_iradon":
        sinos = np.load(path.replace(".npy", "_sk_sinos.npy"))
        base = _rss_kib("VmRSS")
        t0 = time.perf_counter()
        recs = [iradon(s, angles, circle=True, filter_name="ramp") for s in sinos]
        res["time"] = time.perf_counter() - t0
        np.save(path.replace(".npy", "_sk_rec_slices.npy"), np.stack(recs, axis=1))
    elif task == "radontea_radon":
        import radontea

        for j in slices:
            radontea.radon_parallel(vol[:, j, :], -np.deg2rad(angles))
        res["time"] = time.perf_counter() - t0
    elif task == "radontea_backproject":
        import radontea

        sinos = np.load(path.replace(".npy", "_sk_sinos.npy"))
        base = _rss_kib("VmRSS")
        t0 = time.perf_counter()
        for s in sinos:
            radontea.backproject(s.T, -np.deg2rad(angles), filtering="ramp")
        res["time"] = time.perf_counter() - t0
    res["peak_mib"] = max(_rss_kib("VmHWM") - base, 0) / 1024
    q.put(res)


def _run(task: str, *a) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_worker, args=(task, *a, q))
    p.start()
    res = q.get()
    p.join()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256, help="volume edge (default 256)")
    ap.add_argument("--tilts", type=int, default=61, help="tilts from -60 to 60 degrees (default 61)")
    ap.add_argument("--skimage-slices", type=int, default=32, help="slices scikit-image runs on (default 32; = size for all)")
    ap.add_argument("--radontea-slices", type=int, default=8, help="slices radontea runs on, if installed (default 8; 0 to skip)")
    ap.add_argument("--device", default="cpu", help="torch device for faket (default cpu)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = ap.parse_args()

    from faket.phantom import make_phantom

    n = args.size
    ph = make_phantom((n, n, n), n_particles=max(8, n // 4), particle_radius=max(4, n // 32), n_vesicles=3, n_fiducials=6, seed=args.seed)
    zz, xx = np.mgrid[:n, :n] - n // 2
    inside = np.hypot(zz, xx) < n // 2 - 1  # radon(circle=True) needs zero outside the circle
    vol = np.where(inside[:, None, :], ph.volume, 0.0).astype(np.float32)
    angles = np.linspace(-60, 60, args.tilts).tolist()
    k = min(args.skimage_slices, n)
    slices = np.linspace(0, n - 1, k).round().astype(int).tolist()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "vol.npy")
        np.save(path, vol)
        r = {
            "faket_project": _run("faket_project", path, angles, slices, args.device),
            "faket_fbp": _run("faket_fbp", path, angles, slices, args.device),
            "skimage_radon": _run("skimage_radon", path, angles, slices, args.device),
            "skimage_iradon": _run("skimage_iradon", path, angles, slices, args.device),
        }
        rt_slices = slices[:: max(1, len(slices) // max(args.radontea_slices, 1))][: args.radontea_slices]
        try:
            import radontea  # noqa: F401

            have_radontea = args.radontea_slices > 0
        except ImportError:
            have_radontea = False
        if have_radontea:
            np.save(path.replace(".npy", "_sk_sinos.npy"), np.load(path.replace(".npy", "_sk_sinos.npy"))[: len(rt_slices)])
            r["radontea_radon"] = _run("radontea_radon", path, angles, rt_slices, args.device)
            r["radontea_backproject"] = _run("radontea_backproject", path, angles, rt_slices, args.device)
        rec = np.load(path.replace(".npy", "_rec_slices.npy"))
        sk = np.load(path.replace(".npy", "_sk_rec_slices.npy"))
    ref = vol[:, slices, :]
    mask = np.broadcast_to(inside[:, None, :], ref.shape)

    def err(x: np.ndarray) -> float:
        return float(np.linalg.norm((x - ref)[mask]) / np.linalg.norm(ref[mask]))

    scale = n / k
    e_ours, e_sk = err(rec), err(sk)
    rows = [
        ("projection", r["faket_project"], r["skimage_radon"], None, None),
        ("back-projection (FBP, ramp)", r["faket_fbp"], r["skimage_iradon"], e_ours, e_sk),
    ]
    extrap = "" if k == n else f" (measured on {k} of {n} slices, x{scale:g})"
    print(f"{n}^3 volume, {args.tilts} tilts (-60..60), device {args.device}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print()
    print(f"| step | faket time (s), first / cached operator | faket peak MiB | scikit-image time (s){extrap} | scikit-image peak MiB | speed-up (first call) | rel. error faket | rel. error scikit-image |")
    print("|---|---|---|---|---|---|---|---|")
    out = []
    for name, ours, theirs, eo, es in rows:
        t_sk = theirs["time"] * scale
        print(
            f"| {name} | {ours['time']:.2f} / {ours['time_warm']:.2f} | {ours['peak_mib']:.0f} | {t_sk:.1f} | {theirs['peak_mib']:.0f} | "
            f"{t_sk / ours['time']:.1f}x | {'' if eo is None else f'{eo:.4f}'} | {'' if es is None else f'{es:.4f}'} |"
        )
        out.append({"step": name, "faket": ours, "skimage": {**theirs, "time_all_slices": t_sk}, "error_faket": eo, "error_skimage": es})
    if "radontea_radon" in r:
        rs = n / len(rt_slices)
        print()
        print(f"radontea {__import__('radontea').__version__} (measured on {len(rt_slices)} of {n} slices, times x{rs:g}; reconstruction error not computed: its centre and scaling conventions differ from scikit-image's and were not reconciled):")
        print()
        print("| step | radontea time (s) | radontea peak MiB | faket speed-up (first call) |")
        print("|---|---|---|---|")
        for name, key, ours in (("projection (radon_parallel)", "radontea_radon", r["faket_project"]), ("back-projection (backproject, ramp)", "radontea_backproject", r["faket_fbp"])):
            t_rt = r[key]["time"] * rs
            print(f"| {name} | {t_rt:.1f} | {r[key]['peak_mib']:.0f} | {t_rt / ours['time']:.1f}x |")
            out.append({"step": name, "radontea": {**r[key], "time_all_slices": t_rt}})
    if args.json:
        args.json.write_text(json.dumps({"size": n, "tilts": args.tilts, "skimage_slices": k, "rows": out}, indent=2))


if __name__ == "__main__":
    main()
