"""Command line interface `faket`: thin layers over the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from faket.__about__ import __version__

PROG = "faket"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `faket` command (also used for the CLI reference)."""
    parser = argparse.ArgumentParser(prog=PROG, description="Fast simulation of cryo-electron tomograms: projection, noise model, neural style transfer, reconstruction")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # tomography core (files, projection, noise model, reconstruction, phantoms): this module;
    # style transfer, simulation, evaluation and the demo: faket._cli_nst
    from faket import _cli_nst

    _cli_nst.register(sub)
    return parser


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
