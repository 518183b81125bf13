"""The `mds` command: list the tools, cite them, run their demos."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mds_meta.__about__ import __version__
from mds_meta.demo import run_demos
from mds_meta.tools import TOOLS, citation, installed_version, pinned_versions, resolve_names

PROG = "mds"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `mds` command (also used for the CLI reference)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="The Mathematical Data Science tools: versions, citations, demos.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="each tool, its installed and pinned version, and its paper")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("cite", help="the citation of one or more tools")
    p.add_argument("tools", nargs="+", metavar="TOOL", help=f"one of: {', '.join(TOOLS)}")
    p.add_argument("--format", choices=["bibtex", "cff"], default="bibtex",
                   help="BibTeX (default) or the Citation File Format")
    p.set_defaults(func=_cmd_cite)

    p = sub.add_parser("demo", help="run the installed tools' demos and summarise them")
    p.add_argument("tools", nargs="*", metavar="TOOL", help="tools to run (default: all)")
    p.add_argument("--out", type=Path, default=Path("mds-demo"), help="output directory")
    p.add_argument("--verbose", action="store_true", help="show the demos' own progress output")
    p.set_defaults(func=_cmd_demo)
    return parser


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cmd_list(args: argparse.Namespace) -> int:
    pins = pinned_versions()
    rows = [["tool", "installed", "pinned", "agree", "paper"]]
    for tool in TOOLS.values():
        have, pin = installed_version(tool.dist), pins.get(tool.dist, "-")
        agree = "-" if have is None else ("yes" if have == pin else "NO")
        rows.append([tool.dist, have or "-", pin, agree, tool.paper])
    print(_table(rows))
    return 0


def _cmd_cite(args: argparse.Namespace) -> int:
    tools = resolve_names(args.tools)
    print("\n".join(citation(t, args.format).rstrip() + "\n" for t in tools), end="")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    tools = resolve_names(args.tools)
    results = run_demos(tools, args.out, quiet=not args.verbose)
    rows = [["tool", "status", "seconds", "headline", "output"]]
    for r in results:
        output = f"{len(r.files)} files in {args.out / r.tool}" if r.status == "ok" else r.message
        rows.append([r.tool, r.status, f"{r.seconds:.1f}" if r.seconds else "-", r.headline,
                     output])
    print(_table(rows))
    missing = [r for r in results if r.status == "not installed"]
    if missing:
        names = ",".join(r.tool for r in missing)
        print(f"\nnot installed: {', '.join(r.tool for r in missing)}; "
              f"install with: pip install 'mds-meta[{names}]'")
    return 1 if any(r.status == "failed" for r in results) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
