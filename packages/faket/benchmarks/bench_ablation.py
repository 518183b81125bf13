"""Ablation on phantoms: NOISY vs BASELINE vs FAKET (random VGG19, weight-free, ImageNet VGG19).

The protocol of the FakET paper at CPU scale, with phantoms (faket.phantom) as the samples.

"Measured" data (the style series and the test data) come from a process the simulators
do not share: faket.simulate.measured_like (CTF, white plus low-pass noise growing with
the tilt, tilt-dependent mean) with microscope parameters drawn per tomogram (defocus
uniform in [30, 50], B-factor in [20, 40], amplitude contrast in [0.05, 0.10]) and its own
noise seeds, on phantoms of their own: one "calibration/style" tomogram and ``--test``
test tomograms, none of them used for training. It is a stand-in generator, not
measurements.

Modalities of the training data (``--train`` phantoms, each simulated in every modality):

- NOISY: simple additive noise on the projections, with the package's noise model:
  :class:`faket.noise.NoiseModel` fitted on the calibration tomogram's (clean projections,
  measured series) pair (per-tilt scale, offset and Gaussian noise level, smoothed over the
  tilts), applied with ``modality="noisy"``. The fitted scale is negative (the CTF inverts
  the low-frequency contrast), so NOISY has the measured data's polarity.
- BASELINE: the simulator's own physical model approximating the microscope: the CTF
  (:func:`faket.simulate.apply_ctf`) with the simulator's nominal parameters (defocus 40,
  B-factor 30, amplitude contrast 0.07; not the drawn ones), then a NoiseModel fitted on
  the calibration tomogram's (CTF-filtered projections, measured series) pair. It differs
  from the measured process in the CTF parameters and the noise colour (white only).
- FAKET-*: the NOISY series styled tilt by tilt (faket.transfer.style_transfer) with the
  calibration tomogram's measured series as the style.

Per modality and replicate:

- statistics of the first training series against the measured series of the first test
  tomogram (not the style series the transfer optimised towards): Gram distance with
  weight-free filters of another seed than the transfer's, log power-spectrum RMSE;
- a 3-D U-Net trained on the modality's FBP reconstructions (particle mask) and applied to
  the measured test reconstructions: Dice of the particle mask and particle F1 (centroids
  of connected components within ``--tolerance`` voxels), counts pooled over the test
  tomograms;
- NCC template matching (the phantom's templates in their reference orientation, best of
  both contrast polarities) on the modality's own reconstructions of the test phantoms
  (how hard the modality is; the same on the measured test reconstructions is printed as
  the reference).

Every replicate (``--seeds``) draws new phantoms, microscope parameters, noise and U-Net
initialisation; the table gives mean and standard deviation over the replicates. Nothing
is tuned on the test data: the settings below are fixed in advance.

Usage (from ``packages/faket``)::

    nice -n 10 python benchmarks/bench_ablation.py --seeds 0 1 2 --json ablation.json
    python benchmarks/bench_ablation.py --quick               # a smoke run (a minute)
    python benchmarks/bench_ablation.py --weights vgg19-dcbb9e9d.pth   # adds FAKET-VGG19
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from faket.evaluate import compare_tilt_series, f1_score, locate_particles
from faket.noise import NoiseModel
from faket.phantom import make_phantom
from faket.projection import project
from faket.reconstruction import fbp
from faket.simulate import apply_ctf, measured_like, tilt_angles
from faket.style import default_vgg19_weights_path
from faket.transfer import style_transfer
from faket.unet import particles_from_labels, predict_segmentation, train_unet

#: The simulator's nominal microscope parameters (BASELINE's CTF).
NOMINAL = {"defocus": 40.0, "b_factor": 30.0, "amplitude_contrast": 0.07}


def _phantom(shape, seed):
    small = min(shape) < 32
    return make_phantom(shape, n_particles=3 if small else 8, n_vesicles=0, n_fiducials=1 if small else 2,
                        particle_radius=3 if small else 5, seed=seed)


def _particles(ph):
    """The macromolecules of a phantom (its templates' classes; fiducials and vesicles left out)."""
    return [p for p in ph.particles if p.cls in ph.templates]


def _particle_mask(ph):
    """1 on the macromolecules, 0 elsewhere (membrane, vesicles, fiducials, background)."""
    labels = [i + 1 for i, n in enumerate(ph.class_names) if n in ph.templates]
    return np.isin(np.asarray(ph.class_mask), labels).astype(np.int64)


def _microscope(rng):
    """Microscope parameters of one measured tomogram (drawn; the simulators do not know them)."""
    return {"defocus": float(rng.uniform(30, 50)), "b_factor": float(rng.uniform(20, 40)),
            "amplitude_contrast": float(rng.uniform(0.05, 0.10))}


def _pool(scores):
    tp, fp, fn = (sum(s[k] for s in scores) for k in ("tp", "fp", "fn"))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _tm(recons, phantoms, tolerance):
    """Template matching F1 (class ignored), counts pooled over the tomograms, best of the two
    contrast polarities (one polarity for all tomograms of a modality)."""
    best = 0.0
    for sign in (1.0, -1.0):
        scores = []
        for recon, ph in zip(recons, phantoms):
            truth = _particles(ph)
            found = locate_particles(sign * recon, ph.templates, threshold=0.2, max_particles=2 * len(truth))
            scores.append(f1_score(found, truth, tolerance=tolerance, match_class=False))
        best = max(best, _pool(scores))
    return best


def replicate(args, seed: int, weights) -> tuple[list[dict], dict]:
    """One replicate: new phantoms, microscope parameters, noise and U-Net seeds."""
    shape = tuple(args.shape)
    angles = tilt_angles(-60, 60, args.tilt_step)
    base = 1000 * seed
    train = [_phantom(shape, base + i) for i in range(args.train)]
    tests = [_phantom(shape, base + 100 + i) for i in range(args.test)]
    calib = _phantom(shape, base + 200)
    rng = np.random.default_rng(base + 300)
    mic_calib = _microscope(rng)
    mic_tests = [_microscope(rng) for _ in tests]

    def proj(ph):
        return np.asarray(project(np.asarray(ph.volume, dtype=np.float32), angles), dtype=np.float32)

    def rec(series):
        return np.asarray(fbp(series, angles, thickness=shape[0]), dtype=np.float32)

    def measure(clean, mic, s):
        return measured_like(clean, angles, snr=args.measured_snr, seed=s, **mic)

    clean_train = [proj(ph) for ph in train]
    clean_tests = [proj(ph) for ph in tests]
    clean_calib = proj(calib)
    style = measure(clean_calib, mic_calib, base + 201)  # the calibration tomogram's measured series
    measured_tests = [measure(c, m, base + 101 + i) for i, (c, m) in enumerate(zip(clean_tests, mic_tests))]
    measured_recs = [rec(m) for m in measured_tests]
    noise_model = NoiseModel.fit([clean_calib], [style], degree=args.degree)
    baseline_model = NoiseModel.fit([apply_ctf(clean_calib, **NOMINAL)], [style], degree=args.degree)

    def noisy(c, k):
        return noise_model.apply(c, modality="noisy", seed=base + 10 + k)

    modalities = {
        "NOISY": noisy,
        "BASELINE": lambda c, k: baseline_model.apply(apply_ctf(c, **NOMINAL), modality="noisy", seed=base + 20 + k),
    }
    for name, model in (("FAKET-random", "vgg19-random"), ("FAKET-weight-free", "weight-free"), ("FAKET-VGG19", "vgg19")):
        if model == "vgg19" and weights is None:
            continue

        def styled(c, k, model=model):
            return style_transfer(noisy(c, k), style, style_model=model, weights=weights if model == "vgg19" else None,
                                  iterations=args.iterations, batch_size=args.batch_size, device="cpu", seed=seed).styled

        modalities[name] = styled

    rows = []
    test_masks = [_particle_mask(ph) for ph in tests]
    for name, make in modalities.items():
        t0 = time.perf_counter()
        series = [make(c, k) for k, c in enumerate(clean_train)]
        stats = compare_tilt_series(series[0], measured_tests[0], seed=base + 7919)
        trained = train_unet([rec(s) for s in series], [_particle_mask(ph) for ph in train], n_classes=2, steps=args.unet_steps,
                             patch=args.patch, batch_size=4, base=args.unet_base, seed=base, device="cpu")
        inter = total = 0
        scores = []
        for recon, mask, ph in zip(measured_recs, test_masks, tests):
            pred = predict_segmentation(trained, recon, device="cpu")
            inter += int(((pred == 1) & (mask == 1)).sum())
            total += int((pred == 1).sum() + (mask == 1).sum())
            found = particles_from_labels(pred, ["particle"], min_size=args.min_size)
            scores.append(f1_score(found, _particles(ph), tolerance=args.tolerance, match_class=False))
        own = [rec(make(c, 50 + i)) for i, c in enumerate(clean_tests)]
        rows.append({"modality": name, "seed": seed, "gram": stats["gram_mean"], "spectrum": stats["spectrum_log_rmse"],
                     "std_rel": stats["std_rel_diff"], "unet_dice": 2 * inter / total if total else 1.0,
                     "unet_f1": _pool(scores), "tm_f1": _tm(own, tests, args.tolerance),
                     "seconds": time.perf_counter() - t0})
        print(f"# seed {seed}: {name} done in {rows[-1]['seconds']:.0f} s (U-Net F1 {rows[-1]['unet_f1']:.3f}, "
              f"Dice {rows[-1]['unet_dice']:.3f}, TM F1 {rows[-1]['tm_f1']:.3f})", flush=True)
    info = {"seed": seed, "tm_measured": _tm(measured_recs, tests, args.tolerance), "microscope_calibration": mic_calib,
            "microscope_tests": mic_tests, "noise_scale_tilt0": float(noise_model.parameters(len(angles))["scale"][len(angles) // 2])}
    print(f"# seed {seed}: template matching F1 on the measured test reconstructions {info['tm_measured']:.3f}", flush=True)
    return rows, info


def _fmt(values):
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f}" if v.size == 1 else f"{v.mean():.3f} +- {v.std(ddof=1):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs=3, default=[32, 64, 64])
    ap.add_argument("--tilt-step", type=float, default=10.0)
    ap.add_argument("--train", type=int, default=3, help="training phantoms")
    ap.add_argument("--test", type=int, default=2, help="measured test tomograms")
    ap.add_argument("--iterations", type=int, default=20, help="style-transfer iterations")
    ap.add_argument("--batch-size", type=int, default=13, help="style-transfer batch size")
    ap.add_argument("--unet-steps", type=int, default=200)
    ap.add_argument("--unet-base", type=int, default=4)
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--min-size", type=int, default=8, help="smallest predicted component counted as a particle (voxels)")
    ap.add_argument("--tolerance", type=float, default=3.0, help="matching distance for F1 (voxels)")
    ap.add_argument("--degree", type=int, default=2, help="degree of the noise model's tilt curves")
    ap.add_argument("--measured-snr", type=float, default=1.0, help="SNR at tilt 0 of the measured series")
    ap.add_argument("--weights", type=Path, default=None, help="VGG19 weights (default: torch hub cache when present)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="replicates")
    ap.add_argument("--quick", action="store_true", help="tiny smoke run")
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = ap.parse_args()
    if args.quick:
        args.shape, args.tilt_step, args.train, args.test, args.iterations, args.unet_steps, args.seeds = [16, 32, 32], 20.0, 1, 1, 3, 10, args.seeds[:1]
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    weights = args.weights or (default_vgg19_weights_path() if default_vgg19_weights_path().is_file() else None)
    rows, infos = [], []
    for seed in args.seeds:
        r, info = replicate(args, seed, weights)
        rows += r
        infos.append(info)
        _report(args, rows, infos, weights, time.perf_counter() - t_start)  # after every replicate


def _report(args, rows, infos, weights, seconds) -> None:
    seeds = [i["seed"] for i in infos]
    n_tilts = len(tilt_angles(-60, 60, args.tilt_step))
    print(f"# phantoms {tuple(args.shape)}, {n_tilts} tilts (-60..60 step {args.tilt_step:g}), {args.train} training and {args.test} test "
          f"tomograms, style transfer {args.iterations} it., U-Net base {args.unet_base}, {args.patch}^3 patches, {args.unet_steps} steps; "
          f"replicates {seeds}; {seconds:.0f} s so far")
    print(f"# template matching F1 on the measured test reconstructions (reference): {_fmt([i['tm_measured'] for i in infos])}")
    if weights is None:
        print(f"# FAKET-VGG19 not run: no weights file (pass --weights or put vgg19-dcbb9e9d.pth at {default_vgg19_weights_path()})")
    print(f"# mean +- standard deviation over {len(seeds)} replicates")
    print("| modality | Gram dist. to measured | log-spectrum RMSE | U-Net Dice on measured | U-Net particle F1 on measured | TM F1 on own recon. |")
    print("|---|---|---|---|---|---|")
    for name in dict.fromkeys(r["modality"] for r in rows):
        sel = [r for r in rows if r["modality"] == name]
        print(f"| {name} | " + " | ".join(_fmt([r[k] for r in sel]) for k in ("gram", "spectrum", "unet_dice", "unet_f1", "tm_f1")) + " |", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                                         "rows": rows, "replicates": infos, "seconds": seconds}, indent=1))


if __name__ == "__main__":
    main()
