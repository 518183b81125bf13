"""Subcommands of `faket` for style transfer, simulation, evaluation and the demo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

STYLE_MODELS = ("vgg19", "vgg19-random", "weight-free")


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _transfer_options(p: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Options of the style transfer; with defaults=False they stay None (config file wins)."""

    def d(value: object) -> object:
        return value if defaults else None

    p.add_argument("--style-model", choices=STYLE_MODELS, default=d("weight-free"), help="feature model (vgg19 needs the torchvision weights file; default weight-free)")
    p.add_argument("--weights", type=Path, default=None, help="VGG19 weights file (default: torch hub cache checkpoints/vgg19-dcbb9e9d.pth)")
    p.add_argument("--iterations", type=int, default=d(100), help="Adam iterations per scale (default 100)")
    p.add_argument("--lr", type=float, default=d(0.15), help="Adam learning rate (default 0.15)")
    p.add_argument("--ema-decay", type=float, default=d(0.99), help="decay of the moving average of the iterates (default 0.99)")
    p.add_argument("--content-weight", type=float, default=d(0.1), help="weight of the content loss (default 0.1)")
    p.add_argument("--style-weight", type=float, default=d(1.0), help="weight of the style loss (default 1)")
    p.add_argument("--min-scale", type=int, default=None, help="multi-scale: smallest long side, doubled up to the native size (default: native size only)")
    p.add_argument("--batch-size", type=int, default=d(4), help="tilts optimised together (default 4)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N or a comma-separated list (default: every GPU present, else cpu)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the style-transfer side of the CLI to the `faket` subcommand parser `sub`."""
    st = sub.add_parser("style", help="neural style transfer of a tilt series, tilt by tilt, from a style tilt series")
    st.add_argument("content", type=Path, help="content tilt series (MRC stack, e.g. the NOISY projections)")
    st.add_argument("style", type=Path, help="style tilt series (MRC stack with as many tilts, paired by index)")
    st.add_argument("output", type=Path, help="styled tilt series to write (MRC)")
    _transfer_options(st, defaults=True)
    st.add_argument("--seed", type=int, default=0, help="seed of random weights or filters (default 0)")
    st.add_argument("--trace", type=Path, default=None, help="write the settings and losses as JSON here")
    st.add_argument("--overwrite", action="store_true", help="replace existing output files")
    st.add_argument("--quiet", action="store_true", help="no progress output")
    st.set_defaults(func=_cmd_style)

    sim = sub.add_parser("simulate", help="volume or phantom + style tilt series -> styled tilt series and reconstruction (run directory)")
    sim.add_argument("--config", type=Path, default=None, help="YAML configuration (faket.simulate.SimulateConfig; options below override it)")
    src = sim.add_mutually_exclusive_group()
    src.add_argument("--volume", type=Path, default=None, help="volume to project (MRC, z y x)")
    src.add_argument("--phantom", action="store_true", help="make a phantom with particles instead of reading a volume")
    sim.add_argument("--phantom-shape", type=int, nargs=3, metavar=("Z", "Y", "X"), default=None, help="phantom shape (default 32 64 64)")
    sim.add_argument("--phantom-seed", type=int, default=None, help="phantom seed (default 0)")
    sim.add_argument("--phantom-particles", type=int, default=None, help="particles in the phantom (default 8)")
    sim.add_argument("--phantom-radius", type=int, default=None, help="particle radius in voxels (default 5)")
    sim.add_argument("--style", type=Path, default=None, help="style tilt series (MRC stack, one tilt per angle)")
    sim.add_argument("--angles", type=Path, default=None, help="tilt angles (.tlt file; default: --tilt-range)")
    sim.add_argument("--tilt-range", type=float, nargs=3, metavar=("START", "STOP", "STEP"), default=None, help="angles in degrees (default -60 60 2: 61 tilts)")
    sim.add_argument("--noise-model", type=Path, default=None, help="fitted noise model for the NOISY projections (default: Gaussian noise at --snr)")
    sim.add_argument("--snr", type=float, default=None, help="signal-to-noise ratio of the Gaussian noise (default 0.5)")
    sim.add_argument("--reconstruction", choices=("fbp", "sirt"), default=None, help="reconstruction method (default fbp)")
    _transfer_options(sim, defaults=False)
    sim.add_argument("--seed", type=int, default=None, help="seed of noise, random weights and filters (default 0)")
    sim.add_argument("--save-intermediate", action="store_true", default=None, help="also write projections.mrc and noisy.mrc")
    sim.add_argument("--no-previews", action="store_true", help="no preview PNGs")
    sim.add_argument("--out", type=Path, required=True, help="run directory")
    sim.add_argument("--overwrite", action="store_true", help="replace the files of an existing run directory")
    sim.add_argument("--quiet", action="store_true", help="no progress output")
    sim.set_defaults(func=_cmd_simulate)

    ev = sub.add_parser("evaluate", help="compare a simulated tilt series with a measured one; score particle localisation")
    ev.add_argument("simulated", type=Path, help="simulated tilt series (MRC stack)")
    ev.add_argument("measured", type=Path, help="measured (or reference) tilt series with as many tilts")
    ev.add_argument("--style-model", choices=STYLE_MODELS, default="weight-free", help="model of the Gram statistics (default weight-free)")
    ev.add_argument("--weights", type=Path, default=None, help="VGG19 weights file (with --style-model vgg19)")
    ev.add_argument("--reconstruction", type=Path, default=None, help="reconstruction (MRC) to locate particles in by template matching")
    ev.add_argument("--particles", type=Path, default=None, help="true particle list (with --reconstruction)")
    ev.add_argument("--template", action="append", default=[], metavar="CLASS=FILE", help="template MRC of a class (repeat per class)")
    ev.add_argument("--threshold", type=float, default=0.3, help="NCC threshold of a detection (default 0.3)")
    ev.add_argument("--tolerance", type=float, default=3.0, help="matching distance in voxels for F1 (default 3)")
    ev.add_argument("--out", type=Path, default=None, help="write the metrics as JSON here")
    ev.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    ev.set_defaults(func=_cmd_evaluate)

    demo = sub.add_parser("demo", help="run the small headline example and write its outputs")
    demo.add_argument("--out", type=Path, default=Path("faket-demo"), help="output directory")
    demo.add_argument("--quiet", action="store_true", help="no progress output")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.set_defaults(func=_cmd_demo)


def _cmd_style(args: argparse.Namespace) -> int:
    from faket.mrc import read_mrc, write_mrc
    from faket.transfer import style_transfer, write_trace

    for path in [args.output] + ([args.trace] if args.trace else []):
        if path.exists() and not args.overwrite:
            raise FileExistsError(f"{str(path)!r} exists; pass --overwrite to replace it")
    content = read_mrc(args.content)
    style = read_mrc(args.style)
    result = style_transfer(
        content.data,
        style.data,
        style_model=args.style_model,
        weights=args.weights,
        iterations=args.iterations,
        lr=args.lr,
        ema_decay=args.ema_decay,
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        scales=args.min_scale,
        batch_size=args.batch_size,
        device=args.device,
        seed=args.seed,
        progress=_progress(args),
    )
    write_mrc(args.output, result.styled, voxel_size=content.voxel_size, overwrite=args.overwrite)
    if args.trace:
        write_trace(args.trace, result)
    last = result.trace[-1] if result.trace else {}
    print(f"styled {result.styled.shape[0]} tilts with {result.config['style_model']} -> {args.output}" + (f" (final loss {last['loss']:.4g})" if last else ""))
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from faket.simulate import load_config, simulate

    overrides: dict[str, object] = {
        "volume": str(args.volume) if args.volume else None,
        "style": str(args.style) if args.style else None,
        "angles": str(args.angles) if args.angles else None,
        "tilt_range": tuple(args.tilt_range) if args.tilt_range else None,
        "noise_model": str(args.noise_model) if args.noise_model else None,
        "snr": args.snr,
        "reconstruction": args.reconstruction,
        "seed": args.seed,
        "save_intermediate": args.save_intermediate,
        "previews": False if args.no_previews else None,
        "transfer": {
            "style_model": args.style_model,
            "weights": str(args.weights) if args.weights else None,
            "iterations": args.iterations,
            "lr": args.lr,
            "ema_decay": args.ema_decay,
            "content_weight": args.content_weight,
            "style_weight": args.style_weight,
            "scales": args.min_scale,
            "batch_size": args.batch_size,
            "device": args.device,
            "seed": args.seed,
        },
    }
    if args.phantom or args.phantom_shape or args.phantom_seed is not None or args.phantom_particles is not None or args.phantom_radius is not None:
        overrides["phantom"] = {
            "shape": tuple(args.phantom_shape) if args.phantom_shape else None,
            "seed": args.phantom_seed,
            "n_particles": args.phantom_particles,
            "particle_radius": args.phantom_radius,
        }
    config = load_config(args.config, **overrides)
    summary = simulate(config, args.out, overwrite=args.overwrite, progress=_progress(args))
    m = summary["metrics"]
    print(
        f"wrote {len(summary['files'])} files to {summary['out_dir']} in {summary['seconds']:.1f} s; Gram distance to the style "
        f"{m['noisy_vs_style']['gram_mean']:.3f} (NOISY) -> {m['gram_mean']:.3f} (styled)"
    )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from faket.evaluate import compare_tilt_series, f1_score, locate_particles
    from faket.mrc import read_mrc
    from faket.style import make_style_model

    if args.out is not None and args.out.exists() and not args.overwrite:
        raise FileExistsError(f"--out: {str(args.out)!r} exists; pass --overwrite to replace it")
    model = make_style_model(args.style_model, weights=args.weights) if args.weights else args.style_model
    metrics = compare_tilt_series(read_mrc(args.simulated).data, read_mrc(args.measured).data, style_model=model)
    summary = {k: v for k, v in metrics.items() if not isinstance(v, list)}
    if args.reconstruction is not None:
        from faket.tilts import read_particle_list

        if args.particles is None or not args.template:
            raise ValueError("--reconstruction needs --particles and at least one --template CLASS=FILE")
        templates = {}
        for item in args.template:
            if "=" not in item:
                raise ValueError(f"--template: {item!r} is not accepted; accepted: CLASS=FILE")
            cls, file = item.split("=", 1)
            templates[cls] = read_mrc(file).data
        found = locate_particles(read_mrc(args.reconstruction).data, templates, threshold=args.threshold)
        summary["localisation"] = f1_score(found, read_particle_list(args.particles), tolerance=args.tolerance)
    if args.out is not None:
        from faket.transfer import atomic_write_text

        atomic_write_text(args.out, json.dumps(metrics | summary, indent=1))
    print(json.dumps(summary, indent=1))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from faket.demo import run_demo

    summary = run_demo(args.out, quiet=args.quiet, seed=args.seed)
    print(summary["headline"])
    for path in summary["files"]:
        print(f"  wrote {path}")
    return 0
