"""Command line interface `redistributor`: thin layers over the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from redistributor.__about__ import __version__

PROG = "redistributor"


def _param(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--param {text!r} is not NAME=VALUE (e.g. a=2)")
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--param {text!r}: VALUE must be a number") from None


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `redistributor` command (also used for the CLI reference)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Transform samples so that they follow a target distribution: colour transfer, "
                    "preprocessing, out-of-core data")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    match = sub.add_parser("match", help="match the colours of an image to a reference image (PNG, JPEG, TIFF)")
    match.add_argument("src", type=Path, help="image to change")
    match.add_argument("ref", type=Path, help="reference image")
    match.add_argument("-o", "--output", type=Path, required=True, help="output image (.png, .jpg, .tif)")
    match.add_argument("--color-space", default="rgb", choices=["rgb", "lab", "pca"],
                       help="space in which channels are matched (default: rgb)")
    match.add_argument("--ties", default="spread", choices=["spread", "midrank"],
                       help="where tied pixel values land within their jump (default: spread)")
    match.add_argument("--seed", type=int, default=0, help="seed of the tie spreading")
    match.set_defaults(func=_cmd_match)

    tr = sub.add_parser("transform", help="transform the columns of a .npy array to a target distribution")
    tr.add_argument("input", type=Path, help="input .npy array, 1-D or (n_samples, n_features)")
    tr.add_argument("-o", "--output", type=Path, required=True, help="output .npy array")
    tr.add_argument("--target", default="norm",
                    help="scipy.stats distribution name (default: norm) or a .npy file of target samples")
    tr.add_argument("--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                    help="parameter of the target distribution, repeatable (e.g. --param a=2 --param b=5)")
    tr.add_argument("--source", default="empirical", choices=["empirical", "kde", "sketch"],
                    help="how the source distribution is learned (default: empirical)")
    tr.add_argument("--tails", default=None, choices=["gpd", "exponential", "clip"],
                    help="tail model of learned distributions (default: gpd, a generalised Pareto curve "
                         "through the sqrt(n) most extreme samples, exponential beyond the sample range)")
    tr.add_argument("--ties", default="spread", choices=["spread", "midrank"], help="tie handling (default: spread)")
    tr.add_argument("--seed", type=int, default=0, help="random seed (tie spreading, sketch)")
    tr.add_argument("--inverse", action="store_true", help="apply the inverse map (needs --model)")
    tr.add_argument("--model", type=Path, default=None, help="use a redistributor saved with --save-model")
    tr.add_argument("--save-model", type=Path, default=None, help="save the fitted redistributor (.npz)")
    tr.set_defaults(func=_cmd_transform)

    demo = sub.add_parser("demo", help="run the small headline example and write its outputs")
    demo.add_argument("--out", type=Path, default=Path("redistributor-demo"), help="output directory")
    demo.add_argument("--quiet", action="store_true", help="no progress output")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _save_npy(path: Path, array) -> None:
    import numpy as np

    if path.suffix.lower() != ".npy":
        raise ValueError(f"output {str(path)!r} must end in .npy")
    from redistributor._atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def _load_npy(path: Path, name: str):
    import numpy as np

    if not path.is_file():
        raise ValueError(f"{name} {str(path)!r} is not a file")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{name} {str(path)!r} is not a .npy array: {exc}") from None


def _cmd_match(args: argparse.Namespace) -> int:
    from redistributor.images import IMAGE_SUFFIXES, match_image, read_image, write_image

    if args.output.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"output {str(args.output)!r} has suffix {args.output.suffix!r}; accepted: {', '.join(IMAGE_SUFFIXES)}")
    src = read_image(args.src)
    ref = read_image(args.ref)
    out = match_image(src, ref, color_space=args.color_space, ties=args.ties, random_state=args.seed)
    write_image(args.output, out)
    print(f"wrote {args.output} ({out.shape[1]}x{out.shape[0]}, {out.dtype}, colour space {args.color_space})")
    return 0


def _cmd_transform(args: argparse.Namespace) -> int:
    from redistributor.persistence import load, save
    from redistributor.transformer import Redistributor

    if args.output.suffix.lower() != ".npy":
        raise ValueError(f"output {str(args.output)!r} must end in .npy")
    X = _load_npy(args.input, "input")
    if X.ndim not in (1, 2):
        raise ValueError(f"input {str(args.input)!r} has shape {X.shape}; accepted are 1-D or 2-D (n_samples, n_features)")
    X2 = X.reshape(-1, 1) if X.ndim == 1 else X
    if args.model is not None:
        r = load(args.model)
    else:
        if args.inverse:
            raise ValueError("--inverse needs --model (a redistributor fitted and saved before)")
        target = args.target
        if target.lower().endswith(".npy"):
            target = _load_npy(Path(target), "--target")
        r = Redistributor(source=args.source, target=target, target_params=dict(args.param) or None,
                          tails=args.tails, ties=args.ties, random_state=args.seed).fit(X2)
    Y = r.inverse_transform(X2) if args.inverse else r.transform(X2)
    _save_npy(args.output, Y.reshape(X.shape))
    if args.save_model is not None:
        save(r, args.save_model)
    print(f"wrote {args.output} (shape {X.shape}, {'inverse ' if args.inverse else ''}map to {args.target if args.model is None else 'saved model'})")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from redistributor.demo import run_demo

    summary = run_demo(args.out, quiet=args.quiet, seed=args.seed)
    print(summary["headline"])
    for path in summary["files"]:
        print(f"  wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, OSError) as exc:
        msg = " ".join(str(exc).split())
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
