"""Ablation on phantoms: NOISY vs BASELINE vs FAKET (random VGG19, weight-free, ImageNet VGG19).

The protocol of the FakET paper at CPU scale. Phantoms (faket.phantom) play the
tomograms; the "measured" data are measured-like tilt series made by
faket.simulate.measured_like (CTF, coloured noise growing with the tilt, tilt-dependent
mean): a stand-in generator, not measurements.

- training phantoms: simulated in each modality, reconstructed by FBP;
  NOISY: projections + Gaussian noise; BASELINE: the measured-like generator itself (the
  generator of the test data, an upper bound); FAKET-*: NOISY styled tilt by tilt from the
  measured-like tilt series of a separate style phantom;
- test phantom: measured-like tilt series, reconstructed by FBP;
- per modality: statistics of the training tilt series against the style series (Gram
  distance with the weight-free model, log power-spectrum RMSE), a 3-D U-Net trained on the
  modality's reconstructions and tested on the measured-like test reconstruction (Dice,
  particle F1), and NCC template matching on the modality's own reconstruction of the test
  phantom (F1; the measured row is the reference: a realistic modality is as hard as it).

Usage::

    python benchmarks/bench_ablation.py                       # about 30 min on 2 loaded cores
    python benchmarks/bench_ablation.py --quick               # a smoke run (minutes)
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
from faket.phantom import make_phantom
from faket.projection import project
from faket.reconstruction import fbp
from faket.simulate import add_gaussian_noise, measured_like, tilt_angles
from faket.style import default_vgg19_weights_path
from faket.transfer import style_transfer
from faket.unet import particles_from_labels, predict_segmentation, segmentation_scores, train_unet


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


def _tm_f1(recon, phantom, tolerance):
    """Template matching F1 (class ignored; templates in one orientation), best of the two
    contrast polarities (the CTF inverts the contrast)."""
    best = 0.0
    truth = _particles(phantom)
    for sign in (1.0, -1.0):
        found = locate_particles(sign * recon, phantom.templates, threshold=0.2, max_particles=2 * len(truth))
        best = max(best, f1_score(found, truth, tolerance=tolerance, match_class=False)["f1"])
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs=3, default=[32, 64, 64])
    ap.add_argument("--tilt-step", type=float, default=10.0)
    ap.add_argument("--train", type=int, default=2, help="training phantoms")
    ap.add_argument("--iterations", type=int, default=15, help="style-transfer iterations")
    ap.add_argument("--unet-steps", type=int, default=200)
    ap.add_argument("--snr", type=float, default=2.0, help="SNR of the NOISY projections")
    ap.add_argument("--measured-snr", type=float, default=1.0, help="SNR at tilt 0 of the measured-like series")
    ap.add_argument("--weights", type=Path, default=None, help="VGG19 weights (default: torch hub cache when present)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="tiny smoke run")
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = ap.parse_args()
    if args.quick:
        args.shape, args.tilt_step, args.train, args.iterations, args.unet_steps = [16, 32, 32], 20.0, 1, 3, 10
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    shape = tuple(args.shape)
    angles = tilt_angles(-60, 60, args.tilt_step)
    seed = args.seed
    train = [_phantom(shape, seed + i) for i in range(args.train)]
    test = _phantom(shape, seed + 100)
    style_ph = _phantom(shape, seed + 200)

    def proj(ph):
        return np.asarray(project(np.asarray(ph.volume, dtype=np.float32), angles), dtype=np.float32)

    def rec(series):
        return np.asarray(fbp(series, angles, thickness=shape[0]), dtype=np.float32)

    clean_train = [proj(ph) for ph in train]
    clean_test = proj(test)
    style = measured_like(proj(style_ph), angles, snr=args.measured_snr, seed=seed + 201)
    measured_test = measured_like(clean_test, angles, snr=args.measured_snr, seed=seed + 101)
    measured_test_rec = rec(measured_test)
    weights = args.weights or (default_vgg19_weights_path() if default_vgg19_weights_path().is_file() else None)

    modalities = {
        "NOISY": lambda c, k: add_gaussian_noise(c, args.snr, seed=seed + 10 + k),
        "BASELINE": lambda c, k: measured_like(c, angles, snr=args.measured_snr, seed=seed + 20 + k),
    }
    for name, model in (("FAKET-random", "vgg19-random"), ("FAKET-weight-free", "weight-free"), ("FAKET-VGG19", "vgg19")):
        if model == "vgg19" and weights is None:
            continue

        def styled(c, k, model=model):
            noisy = add_gaussian_noise(c, args.snr, seed=seed + 10 + k)
            return style_transfer(noisy, style, style_model=model, weights=weights if model == "vgg19" else None,
                                  iterations=args.iterations, batch_size=8, device="cpu", seed=seed).styled

        modalities[name] = styled

    rows = []
    tol = 3.0
    tm_measured = _tm_f1(measured_test_rec, test, tol)
    for name, make in modalities.items():
        t0 = time.perf_counter()
        series = [make(c, k) for k, c in enumerate(clean_train)]
        stats = compare_tilt_series(series[0], style, seed=seed + 7919)  # other filters than the transfer optimised
        recons = [rec(s) for s in series]
        trained = train_unet(recons, [_particle_mask(ph) for ph in train], n_classes=2, steps=args.unet_steps,
                             patch=16, batch_size=4, base=4, seed=seed, device="cpu")
        pred = predict_segmentation(trained, measured_test_rec, device="cpu")
        dice = segmentation_scores(pred, _particle_mask(test), n_classes=2)["mean_dice"]
        found = particles_from_labels(pred, ["particle"], min_size=8)
        unet_f1 = f1_score(found, _particles(test), tolerance=tol, match_class=False)["f1"]
        own_test = make(clean_test, 50)
        tm = _tm_f1(rec(own_test), test, tol)
        rows.append({"modality": name, "gram": stats["gram_mean"], "spectrum": stats["spectrum_log_rmse"], "std_rel": stats["std_rel_diff"],
                     "unet_dice": dice, "unet_f1": unet_f1, "tm_f1": tm, "seconds": time.perf_counter() - t0})
        print(f"# {name} done in {rows[-1]['seconds']:.0f} s", flush=True)

    print(f"# phantoms {shape}, {len(angles)} tilts (-60..60 step {args.tilt_step:g}), {args.train} training phantoms, "
          f"style transfer {args.iterations} it., U-Net {args.unet_steps} steps; total {time.perf_counter() - t_start:.0f} s")
    print(f"# template matching F1 on the measured-like test reconstruction (reference): {tm_measured:.3f}")
    if weights is None:
        print(f"# FAKET-VGG19 not run: no weights file (pass --weights or put vgg19-dcbb9e9d.pth at {default_vgg19_weights_path()})")
    print("| modality | Gram dist. to style | log-spectrum RMSE | std rel. diff | U-Net Dice on measured | U-Net particle F1 on measured | TM F1 on own recon. |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['modality']} | {r['gram']:.3f} | {r['spectrum']:.3f} | {r['std_rel']:.3f} | {r['unet_dice']:.3f} | {r['unet_f1']:.3f} | {r['tm_f1']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "tm_measured": tm_measured}, indent=1))


if __name__ == "__main__":
    main()
