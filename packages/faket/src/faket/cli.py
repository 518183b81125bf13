"""Command line interface `faket`: thin layers over the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from faket.__about__ import __version__

PROG = "faket"
_CHUNK = 64  # planes per progress step


def _progress(args: argparse.Namespace, total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="plane", disable=bool(getattr(args, "quiet", False)) or not sys.stderr.isatty(), file=sys.stderr)


def _add_common(p: argparse.ArgumentParser, *, device: bool = True) -> None:
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--permissive", action="store_true", help="read MRC files that break the format (with a warning)")
    if device:
        p.add_argument("--device", default=None, help="torch device, e.g. cpu or cuda (default: cuda when available)")


def _add_angles(p: argparse.ArgumentParser, required: bool) -> None:
    g = p.add_mutually_exclusive_group(required=required)
    g.add_argument("--angles", type=Path, metavar="FILE", help="tilt angles: IMOD .tlt file or SHREC alignment_simulated.txt")
    g.add_argument("--tilt-range", type=float, nargs=3, metavar=("MIN", "MAX", "STEP"), help="tilt angles MIN, MIN+STEP, ..., MAX in degrees")


def _angles(args: argparse.Namespace, fallback: Path | None = None):
    import numpy as np

    from faket.tilts import check_angles, read_angles

    if args.angles is not None:
        return read_angles(args.angles)
    if args.tilt_range is not None:
        lo, hi, step = args.tilt_range
        if step <= 0 or hi < lo:
            raise ValueError(f"--tilt-range {lo:g} {hi:g} {step:g}: expected MIN <= MAX and STEP > 0")
        return check_angles(np.arange(lo, hi + step / 2, step), name="--tilt-range")
    if fallback is not None and fallback.is_file():
        return read_angles(fallback)
    raise ValueError(f"no tilt angles: pass --angles FILE or --tilt-range MIN MAX STEP (no {fallback} found)")


def _check_outputs(paths: list[Path], overwrite: bool) -> None:
    for p in paths:
        if p.is_dir():
            raise IsADirectoryError(f"output {str(p)!r} is a directory; expected a file name")
        if p.exists() and not overwrite:
            raise FileExistsError(f"output {str(p)!r} exists; pass --overwrite to replace it")
        if not p.parent.is_dir() and str(p.parent):
            raise FileNotFoundError(f"directory {str(p.parent)!r} of output {str(p)!r} does not exist")


def _read3d(path: Path, args: argparse.Namespace, what: str):
    import numpy as np

    from faket.mrc import read_mrc

    m = read_mrc(path, mmap=True, permissive=args.permissive)  # one copy, straight to float32
    if m.data.ndim != 3:
        raise ValueError(f"{path}: expected a 3-D {what}, got shape {m.data.shape}")
    return m, np.array(m.data, dtype=np.float32)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `faket` command (also used for the CLI reference)."""
    parser = argparse.ArgumentParser(prog=PROG, description="Fast simulation of cryo-electron tomograms: projection, noise model, neural style transfer, reconstruction")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ph = sub.add_parser(
        "phantom",
        help="write a synthetic sample: volume, class mask, particle list, templates",
        description="Generate a synthetic cryo-ET sample (ice slab, membrane, vesicles, particles of several "
        "classes at random non-overlapping poses, gold fiducials) and write volume.mrc, class_mask.mrc, "
        "particle_locations.txt, classes.json and templates/ into OUT_DIR.",
    )
    ph.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="output directory (created if needed)")
    ph.add_argument("--shape", type=int, nargs=3, default=[64, 128, 128], metavar=("Z", "Y", "X"), help="volume shape (default 64 128 128)")
    ph.add_argument("--n-particles", type=int, default=20, help="number of particles (default 20)")
    ph.add_argument("--classes", nargs="+", default=None, metavar="CLASS", help="particle classes (default: all shapes)")
    ph.add_argument("--n-vesicles", type=int, default=2, help="number of vesicles (default 2)")
    ph.add_argument("--n-fiducials", type=int, default=4, help="number of gold fiducials (default 4)")
    ph.add_argument("--no-membrane", action="store_true", help="leave out the membrane sheet")
    ph.add_argument("--particle-radius", type=int, default=6, help="particle radius in voxels (default 6)")
    ph.add_argument("--voxel-size", type=float, default=10.0, help="voxel size in Angstrom (default 10)")
    ph.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ph.add_argument("--overwrite", action="store_true", help="replace existing output files")
    ph.add_argument("--quiet", action="store_true", help="no output but errors")
    ph.set_defaults(func=_cmd_phantom)

    pr = sub.add_parser(
        "project",
        help="tilt series (line integrals) of an MRC volume",
        description="Project the MRC volume IN at the tilt angles and write the tilt series to OUT (MRC "
        "image stack, voxel size kept) and the angles to OUT with suffix .tlt.",
    )
    pr.add_argument("input", type=Path, metavar="IN", help="volume (MRC, z y x)")
    pr.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="tilt series (MRC)")
    _add_angles(pr, required=True)
    pr.add_argument("--axis", choices=["y", "x"], default="y", help="tilt axis (default y, as IMOD)")
    pr.add_argument("--detector-width", type=int, default=None, help="detector pixels across the tilt axis (default: volume size)")
    pr.add_argument("--micrograph-contrast", action="store_true", help="invert so that dense matter is dark")
    _add_common(pr)
    pr.set_defaults(func=_cmd_project)

    no = sub.add_parser("noise", help="fit or apply the tilt-dependent noise model", description="Noise model of measured tilt series.")
    nsub = no.add_subparsers(dest="noise_command", required=True, metavar="ACTION")
    nf = nsub.add_parser(
        "fit",
        help="fit a noise model to clean/measured tilt-series pairs",
        description="Estimate the per-tilt scale, offset, noise level, mean and spread from pairs of clean "
        "projections and measured tilt series (same geometry), smooth them over the tilt index by a "
        "polynomial, aggregate all pairs and write the model as JSON.",
    )
    nf.add_argument("--clean", type=Path, nargs="+", required=True, metavar="MRC", help="clean tilt series")
    nf.add_argument("--measured", type=Path, nargs="+", required=True, metavar="MRC", help="measured tilt series, in the order of --clean")
    nf.add_argument("-o", "--output", type=Path, required=True, metavar="JSON", help="noise model file")
    nf.add_argument("--degree", type=int, default=3, help="degree of the smoothing polynomial (default 3)")
    _add_common(nf, device=False)
    nf.set_defaults(func=_cmd_noise_fit)
    na = nsub.add_parser(
        "apply",
        help="simulate a measured tilt series from clean projections",
        description="Apply a noise model to the clean tilt series IN and write the result to OUT.",
    )
    na.add_argument("input", type=Path, metavar="IN", help="clean tilt series (MRC)")
    na.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="noisy tilt series (MRC)")
    na.add_argument("--model", type=Path, required=True, metavar="JSON", help="noise model from 'faket noise fit'")
    na.add_argument("--modality", choices=["noisy", "baseline"], default="noisy", help="tilt-dependent (noisy, default) or tilt-independent (baseline)")
    na.add_argument("--moment-matching", action="store_true", help="match each tilt's mean and spread to the model")
    na.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _add_common(na, device=False)
    na.set_defaults(func=_cmd_noise_apply)

    rc = sub.add_parser(
        "reconstruct",
        help="filtered back-projection or SIRT of a tilt series",
        description="Reconstruct the tilt series IN (tilt axis along y) and write the volume to OUT. The "
        "angles default to IN with suffix .tlt.",
    )
    rc.add_argument("input", type=Path, metavar="IN", help="tilt series (MRC)")
    rc.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="volume (MRC)")
    _add_angles(rc, required=False)
    rc.add_argument("--axis", choices=["y", "x"], default="y", help="tilt axis (default y, as IMOD)")
    rc.add_argument("--method", choices=["fbp", "sirt"], default="fbp", help="weighted back-projection (default) or SIRT")
    rc.add_argument("--filter", default="ramp", choices=["ramp", "shepp-logan", "cosine", "hamming", "hann", "shrec", "none"], help="FBP filter (default ramp)")
    rc.add_argument("--thickness", type=int, default=None, help="slices along z (default: detector width)")
    rc.add_argument("--z-offset", type=float, default=0.0, help="centre of the slab along z in voxels (default 0)")
    rc.add_argument("--iterations", type=int, default=30, help="SIRT iterations (default 30)")
    _add_common(rc)
    rc.set_defaults(func=_cmd_reconstruct)

    # style transfer, simulation, evaluation and the demo: faket._cli_nst
    from faket import _cli_nst

    _cli_nst.register(sub)
    return parser


def _cmd_phantom(args: argparse.Namespace) -> int:
    from faket._io import all_or_nothing
    from faket.phantom import make_phantom

    d = args.out_dir
    names = ["volume.mrc", "class_mask.mrc", "particle_locations.txt", "classes.json"]
    if d.is_dir():
        _check_outputs([d / n for n in names], args.overwrite)
    ph = make_phantom(
        tuple(args.shape),
        n_particles=args.n_particles,
        classes=args.classes,
        n_vesicles=args.n_vesicles,
        n_fiducials=args.n_fiducials,
        membrane=not args.no_membrane,
        particle_radius=args.particle_radius,
        voxel_size=args.voxel_size,
        seed=args.seed,
    )
    targets = [d / n for n in names] + [d / "templates" / f"{c}.mrc" for c in ph.templates]
    with all_or_nothing(targets):
        files = ph.save(d, overwrite=args.overwrite)
    if not args.quiet:
        print(f"phantom {tuple(args.shape)}: {len(ph.particles)} objects, classes {', '.join(ph.class_names)}")
        for p in files.values():
            print(f"  wrote {p}")
    return 0


def _cmd_project(args: argparse.Namespace) -> int:
    import numpy as np

    from faket._io import all_or_nothing
    from faket.mrc import write_mrc
    from faket.projection import project
    from faket.tilts import write_tlt

    tlt = args.output.with_suffix(".tlt")
    _check_outputs([args.output, tlt], args.overwrite)
    angles = _angles(args)
    m, vol = _read3d(args.input, args, "volume")
    if not np.any(vol):
        raise ValueError(f"{args.input}: the volume is empty (all zeros)")
    planes = vol.shape[1] if args.axis == "y" else vol.shape[2]
    parts = []
    with _progress(args, planes, "project") as bar:
        for j in range(0, planes, _CHUNK):
            sl = (slice(None), slice(j, j + _CHUNK)) if args.axis == "y" else (slice(None), slice(None), slice(j, j + _CHUNK))
            parts.append(project(vol[sl], angles, axis=args.axis, detector_width=args.detector_width, device=args.device))
            bar.update(min(_CHUNK, planes - j))
    series = np.concatenate(parts, axis=1 if args.axis == "y" else 2)
    if args.micrograph_contrast:
        series = -series
    with all_or_nothing([args.output, tlt]):
        write_mrc(args.output, series, voxel_size=m.voxel_size, overwrite=args.overwrite, stack=True, labels=["faket project"])
        write_tlt(tlt, angles, overwrite=args.overwrite)
    if not args.quiet:
        print(f"projected {args.input} ({vol.shape[0]}x{vol.shape[1]}x{vol.shape[2]}) at {angles.size} tilts -> {args.output}, {tlt}")
    return 0


def _cmd_noise_fit(args: argparse.Namespace) -> int:
    from faket.noise import NoiseModel

    if len(args.clean) != len(args.measured):
        raise ValueError(f"--clean has {len(args.clean)} files but --measured has {len(args.measured)}; give them in pairs")
    _check_outputs([args.output], args.overwrite)
    cleans, measureds = [], []
    for c, m in zip(args.clean, args.measured, strict=True):
        cleans.append(_read3d(c, args, "tilt series")[1])
        measureds.append(_read3d(m, args, "tilt series")[1])
    model = NoiseModel.fit(cleans, measureds, degree=args.degree)
    model.save(args.output, overwrite=args.overwrite)
    if not args.quiet:
        print(f"noise model of degree {args.degree} from {len(cleans)} pair(s) -> {args.output}")
    return 0


def _cmd_noise_apply(args: argparse.Namespace) -> int:
    from faket.mrc import write_mrc
    from faket.noise import NoiseModel

    _check_outputs([args.output], args.overwrite)
    model = NoiseModel.load(args.model)
    m, series = _read3d(args.input, args, "tilt series")
    out = model.apply(series, modality=args.modality, seed=args.seed, moment_matching=args.moment_matching)
    write_mrc(args.output, out, voxel_size=m.voxel_size, header=m.header, overwrite=args.overwrite, stack=True)
    if not args.quiet:
        print(f"{args.modality} tilt series ({series.shape[0]} tilts) -> {args.output}")
    return 0


def _cmd_reconstruct(args: argparse.Namespace) -> int:
    import numpy as np

    from faket.mrc import write_mrc
    from faket.projection import check_tilt_series
    from faket.reconstruction import fbp, sirt

    _check_outputs([args.output], args.overwrite)
    angles = _angles(args, fallback=args.input.with_suffix(".tlt"))
    m, series = _read3d(args.input, args, "tilt series")
    check_tilt_series(series, angles.size, name=str(args.input))
    kw = dict(thickness=args.thickness, z_offset=args.z_offset, device=args.device, axis=args.axis)
    along = 1 if args.axis == "y" else 2  # the axis of independent planes
    planes = series.shape[along]
    if args.method == "fbp":
        parts = []
        with _progress(args, planes, "fbp") as bar:
            for j in range(0, planes, _CHUNK):
                sl = [slice(None)] * 3
                sl[along] = slice(j, j + _CHUNK)
                parts.append(fbp(series[tuple(sl)], angles, filter=args.filter, **kw))
                bar.update(min(_CHUNK, planes - j))
        vol = np.concatenate(parts, axis=along)
    else:
        from tqdm import tqdm

        with tqdm(total=args.iterations, desc="sirt", unit="it", disable=args.quiet or not sys.stderr.isatty(), file=sys.stderr) as bar:
            vol = sirt(series, angles, iterations=args.iterations, callback=lambda i: bar.update(1), **kw)
    write_mrc(args.output, vol, voxel_size=m.voxel_size, overwrite=args.overwrite, labels=[f"faket reconstruct {args.method}"])
    if not args.quiet:
        print(f"reconstructed {vol.shape[0]}x{vol.shape[1]}x{vol.shape[2]} ({args.method}) -> {args.output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
