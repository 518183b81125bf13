"""Command line interface `stftpr`: thin layers over the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from stftpr.__about__ import __version__

PROG = "stftpr"


def _add_transform_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("transform")
    g.add_argument("--n-fft", type=int, default=1024, help="number of channels M (FFT length; default 1024)")
    g.add_argument("--hop", type=int, default=256, help="hop size a in samples (default 256)")
    g.add_argument(
        "--window",
        default="hann",
        choices=["hann", "hamming", "blackman", "gauss"],
        help="analysis window (default hann)",
    )
    g.add_argument("--tfr", type=float, default=1.0, help="Gaussian time-frequency ratio: lambda = tfr*hop*n_fft (default 1)")
    g.add_argument("--win-length", type=int, default=None, help="window length (default n_fft; at most n_fft)")


def _transform(args: argparse.Namespace):
    from stftpr.transform import STFT

    window = ("gauss", args.tfr) if args.window == "gauss" else args.window
    return STFT(args.n_fft, args.hop, window, args.win_length)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `stftpr` command (also used for the CLI reference)."""
    from stftpr.algorithms import METHODS

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Phase retrieval from short-time Fourier (Gabor) transform magnitudes, with stability diagnostics",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inv = sub.add_parser(
        "invert",
        help="magnitude-only resynthesis of an audio file or a .npy magnitude array",
        description="Keep only the STFT magnitude of IN (an audio file), or read a magnitude array "
        "(.npy, shape (n_freqs, n_frames) or (channels, n_freqs, n_frames), made with the transform "
        "options given), reconstruct a signal and write it to OUT.",
    )
    inv.add_argument("input", type=Path, metavar="IN", help="audio file (wav, flac, ogg, ...) or .npy magnitude")
    inv.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="output audio file")
    _add_transform_args(inv)
    g = inv.add_argument_group("reconstruction")
    g.add_argument("--method", default="pghi+fgla", choices=METHODS, metavar="METHOD", help=f"one of {', '.join(METHODS)} (default pghi+fgla)")
    g.add_argument("--n-iter", type=int, default=100, help="iterations (default 100)")
    g.add_argument("--tol-db", type=float, default=None, help="stop at this spectral convergence in dB")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--sr", type=int, default=None, help="sampling rate of the output (required for .npy input)")
    g.add_argument("--length", type=int, default=None, help="output length in samples for .npy input")
    g.add_argument("--history", type=Path, default=None, help="write the spectral convergence per iteration to this CSV")
    g.add_argument(
        "--backend",
        default="numpy",
        choices=["numpy", "torch"],
        help="numpy (default) or torch (gla/fgla/admm, with or without pghi+; needs stftpr[torch])",
    )
    g.add_argument("--device", default=None, help="torch device, e.g. cpu or cuda (default: cuda when available)")
    g.add_argument("--quiet", action="store_true", help="no progress output")
    inv.set_defaults(func=_cmd_invert)

    dia = sub.add_parser(
        "diagnose",
        help="stability report (islands, Cheeger estimate) of a recording or magnitude",
        description="Print the stability report of phase retrieval from the STFT magnitude of IN "
        "(channels mixed to mono) and optionally save a plot and the numbers.",
    )
    dia.add_argument("input", type=Path, metavar="IN", help="audio file or .npy magnitude")
    _add_transform_args(dia)
    dia.add_argument("--threshold", type=float, default=1e-2, help="relative island threshold (default 0.01)")
    dia.add_argument("--sr", type=int, default=None, help="sampling rate for the plot axes of .npy input")
    dia.add_argument("--plot", type=Path, default=None, help="write a PNG with the spectrogram, islands and cut")
    dia.add_argument("--json", type=Path, default=None, help="write the numbers of the report as JSON")
    dia.set_defaults(func=_cmd_diagnose)

    demo = sub.add_parser("demo", help="run the small headline example and write its outputs")
    demo.add_argument("--out", type=Path, default=Path("stftpr-demo"), help="output directory")
    demo.add_argument("--quiet", action="store_true", help="no progress output")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _cmd_invert(args: argparse.Namespace) -> int:
    from stftpr.workflows import invert_file

    summary = invert_file(
        args.input,
        args.output,
        _transform(args),
        method=args.method,
        n_iter=args.n_iter,
        tol_db=args.tol_db,
        seed=args.seed,
        sample_rate=args.sr,
        length=args.length,
        history_path=args.history,
        progress=not args.quiet and sys.stderr.isatty(),
        backend=args.backend,
        device=args.device,
    )
    sc = ", ".join(f"{v:.2f}" for v in summary["spectral_convergence_db"])
    print(
        f"wrote {summary['output']} ({summary['channels']} channel(s), {summary['length']} samples at "
        f"{summary['sample_rate']} Hz): {summary['method']}, {summary['n_iter']} iterations, "
        f"spectral convergence {sc} dB, {summary['seconds']:.2f} s"
    )
    return 0


def _cmd_diagnose(args: argparse.Namespace) -> int:
    from stftpr.io import write_json
    from stftpr.workflows import diagnose_file

    report, summary = diagnose_file(args.input, _transform(args), threshold=args.threshold, sample_rate=args.sr, plot_path=args.plot)
    print(report.summary())
    if args.json is not None:
        write_json(args.json, summary)
    if args.plot is not None:
        print(f"wrote {args.plot}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from stftpr.demo import run_demo

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
