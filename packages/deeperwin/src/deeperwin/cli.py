"""Command line interface `deeperwin`: thin layers over the public API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from deeperwin.__about__ import __version__

PROG = "deeperwin"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `deeperwin` command (also used for the CLI reference)."""
    parser = argparse.ArgumentParser(prog=PROG, description="Neural-network variational Monte Carlo for the electronic Schroedinger equation, for one or many nuclear geometries with shared weights")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start a run from a YAML config (writes a new run directory)")
    run.add_argument("config", type=Path, help="YAML configuration file (e.g. 'system: He')")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value with a dotted key, e.g. optimization.n_steps=500 (repeatable)")
    run.add_argument("--out", type=Path, default=None,
                     help="run directory (default: runs/<config name>); an existing run is never overwritten")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.set_defaults(func=_cmd_run)

    restart = sub.add_parser("restart", help="continue a run exactly from its last checkpoint")
    restart.add_argument("run_dir", type=Path, help="run directory written by 'deeperwin run'")
    restart.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                         help="per-process parallel.* setting, e.g. parallel.process_id=1 on the second host "
                              "(repeatable; other keys are refused)")
    restart.add_argument("--quiet", action="store_true", help="no progress output")
    restart.set_defaults(func=_cmd_restart)

    evaluate = sub.add_parser("evaluate", help="energy of a run's wavefunction with a blocking error bar")
    evaluate.add_argument("run_dir", type=Path, help="run directory written by 'deeperwin run'")
    evaluate.add_argument("--steps", type=int, default=None, help="evaluation steps (default: from the config)")
    evaluate.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                          help="evaluation.* setting (e.g. evaluation.ccsd_t=true) or per-process parallel.* "
                               "setting, as for restart (repeatable)")
    evaluate.add_argument("--quiet", action="store_true", help="no progress output")
    evaluate.set_defaults(func=_cmd_evaluate)

    pes = sub.add_parser("pes", help="potential energy curve of a run over geometries: table, fit and plot")
    pes.add_argument("run_dir", type=Path, help="evaluated run directory of a config with 'geometries'")
    pes.set_defaults(func=_cmd_pes)

    convert = sub.add_parser("convert-config", help="translate a deeperwin 1.x config.yml into a deeperwin 2 config")
    convert.add_argument("config", type=Path, help="deeperwin 1.x YAML configuration")
    convert.add_argument("-o", "--out", type=Path, default=None,
                         help="write the 2.x configuration here (default: print it); never overwritten")
    convert.add_argument("--drop-unmapped", action="store_true",
                         help="drop 1.x keys without a 2.x equivalent (listed on stderr) instead of refusing them")
    convert.set_defaults(func=_cmd_convert)

    demo = sub.add_parser("demo", help="run the small headline example and write its outputs")
    demo.add_argument("--out", type=Path, default=Path("deeperwin-demo"), help="output directory")
    demo.add_argument("--quiet", action="store_true", help="no progress output")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _print_result(result: dict) -> None:
    from deeperwin.run import results_table

    if "stopped_at" in result:
        print(f"stopped at step {result['stopped_at']}")
        return
    if "geometries" in result:
        for g in result["geometries"]:
            print(f"{g['name'] or result['system']} [{g['hash']}]: E = {g['energy']:.5f} +- {g['error']:.5f} Ha "
                  f"(HF {g['hf_energy']:.5f}, variance {g['variance']:.4f})")
        return
    print(f"{result['system']}: E = {result['energy']:.5f} +- {result['error']:.5f} Ha "
          f"(variance {result['variance']:.4f}, acceptance {result['acceptance']:.2f})")
    print(results_table(result), end="")


def _cmd_run(args: argparse.Namespace) -> int:
    from deeperwin.config import load_config
    from deeperwin.run import run

    cfg = load_config(args.config, args.overrides)
    out = args.out if args.out is not None else Path("runs") / args.config.stem
    _print_result(run(cfg, out, quiet=args.quiet))
    print(f"  run directory: {out}")
    return 0


def _cmd_restart(args: argparse.Namespace) -> int:
    from deeperwin.run import restart

    _print_result(restart(args.run_dir, quiet=args.quiet, overrides=args.overrides))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from deeperwin.run import evaluate_run

    result = evaluate_run(args.run_dir, n_steps=args.steps, quiet=args.quiet, overrides=args.overrides)
    _print_result(result)
    if "geometries" in result:
        print(json.dumps([{k: g[k] for k in ("hash", "energy", "error")} for g in result["geometries"]]))
    else:
        print(json.dumps({k: result[k] for k in ("energy", "error")}))
    return 0


def _cmd_pes(args: argparse.Namespace) -> int:
    from deeperwin.shared_run import write_pes

    doc = write_pes(args.run_dir)
    print((args.run_dir / "pes.md").read_text(encoding="utf-8"), end="")
    for path in doc["files"]:
        print(f"  wrote {path}")
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    import yaml

    from deeperwin.compat import convert_v1_config_file

    config, dropped = convert_v1_config_file(args.config, args.out, drop_unmapped=args.drop_unmapped)
    if dropped:
        print(f"{PROG}: note: dropped {len(dropped)} key(s) without equivalent: {'; '.join(dropped)}", file=sys.stderr)
    if args.out is None:
        print(yaml.safe_dump(config, sort_keys=False), end="")
    else:
        print(f"  wrote {args.out}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from deeperwin.demo import run_demo

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
        print(f"{PROG}: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
