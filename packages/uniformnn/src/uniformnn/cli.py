"""Command line interface `uniformnn`: thin layers over the public API."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from uniformnn.__about__ import __version__

PROG = "uniformnn"
BUILTIN_TARGETS = ("none", "oscillatory", "sines", "abs")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `uniformnn` command (also used for the CLI reference)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Uniform-norm accuracy of ReLU networks: sampling-complexity experiments "
                    "and certified sup-norm error brackets",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    br = sub.add_parser(
        "bracket", help="certified [lower, upper] of sup |MODEL - TARGET| on a box",
        description="Bracket the sup-norm error sup_x |MODEL(x) - TARGET(x)| over a box between an "
                    "attained lower bound and a certified upper bound (branch and bound with "
                    "CROWN or interval bounds). MODEL is a network saved with "
                    "uniformnn.save_network.")
    br.add_argument("model", type=Path, metavar="MODEL", help="saved network file (.pt)")
    br.add_argument("--target", default="none", metavar="TARGET",
                    help="a saved network file, 'teacher:SEED' (the paper's [d,32,32,32,32,1] teacher), "
                         "'oscillatory', 'sines', 'abs', or 'none' for sup |MODEL| (default: none)")
    br.add_argument("--box", metavar="BOX",
                    help="'[a,b]' (the same interval for every coordinate) or one interval per "
                         "coordinate joined by x, e.g. '[-0.5,0.5]x[0,0.25]'; default: the box "
                         "stored with MODEL, else [-0.5,0.5]^d")
    br.add_argument("--rtol", type=float, default=0.01, help="relative gap to reach (default 0.01)")
    br.add_argument("--atol", type=float, default=0.0, help="absolute gap to reach (default 0)")
    br.add_argument("--time-budget", type=float, default=60.0,
                    help="seconds before stopping with a valid, wider bracket (default 60)")
    br.add_argument("--method", choices=("crown", "interval"), default="crown",
                    help="bound propagation method (default crown)")
    br.add_argument("--seed", type=int, default=0, help="random seed")
    br.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    _threads_option(br)
    br.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    br.add_argument("--quiet", action="store_true", help="no progress output")
    br.set_defaults(func=_cmd_bracket)

    ex = sub.add_parser("experiment", help="run or resume a sampling-complexity experiment",
                        description="Run every job of a YAML experiment configuration that is not "
                                    "yet finished in the run directory; writes results.csv.")
    ex.add_argument("config", type=Path, metavar="CONFIG", help="experiment configuration (YAML)")
    ex.add_argument("--out", type=Path, default=None,
                    help="run directory (default: runs/<name from the config>)")
    ex.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    ex.add_argument("--shard", default=None,
                    help="I/N: run jobs I, I+N, ... only; 'auto' reads RANK/WORLD_SIZE or SLURM_*")
    ex.add_argument("--max-jobs", type=int, default=None, help="stop after this many new jobs")
    ex.add_argument("--collect", action="store_true",
                    help="only rebuild results.csv from finished jobs (after sharded runs)")
    ex.add_argument("--quiet", action="store_true", help="no progress output")
    _threads_option(ex)
    ex.set_defaults(func=_cmd_experiment)

    pl = sub.add_parser("plot", help="aggregate a results table and plot error vs m",
                        description="Aggregate (min over settings of max over targets, and "
                                    "averages) and draw log-log plots with fitted rates.")
    pl.add_argument("results", type=Path, metavar="RESULTS", help="results.csv or a run directory")
    pl.add_argument("--out", type=Path, default=None,
                    help="output directory (default: plots/ beside the results table)")
    pl.add_argument("--seed-reduce", choices=("mean", "median", "min", "max"), default="mean",
                    help="how runs that differ only in their seed are combined (default mean)")
    pl.set_defaults(func=_cmd_plot)

    demo = sub.add_parser("demo", help="run the small headline example and write its outputs")
    demo.add_argument("--out", type=Path, default=Path("uniformnn-demo"), help="output directory")
    demo.add_argument("--quiet", action="store_true", help="no progress output")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    _threads_option(demo)
    demo.set_defaults(func=_cmd_demo)
    return parser


def _threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch CPU threads (default 1: branch and bound and small-network training are "
             "many small tensor operations, which extra threads slow down on busy machines)")


def _set_threads(n: int) -> None:
    import torch

    if n < 1:
        raise ValueError(f"--threads: got {n}; expected a positive integer")
    torch.set_num_threads(n)


def _floats(text: str, name: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"{name}: got {text!r}; expected a number or comma-separated numbers") from None
    if not all(math.isfinite(v) for v in vals):
        raise ValueError(f"{name}: got {text!r}; expected finite numbers")
    return vals


def _parse_box(spec: str | None, dim: int):
    from uniformnn.box import Box

    if spec is None:
        return None
    parts = [p.strip() for p in spec.replace(" ", "").split("x")]
    lows, highs = [], []
    for part in parts:
        if not (part.startswith("[") and part.endswith("]")):
            raise ValueError(f"--box: got {spec!r}; expected intervals like [a,b] or [a,b]x[c,d]")
        vals = _floats(part[1:-1], "--box")
        if len(vals) != 2:
            raise ValueError(f"--box: interval {part!r} must have two numbers, [lower,upper]")
        lows.append(vals[0])
        highs.append(vals[1])
    if len(parts) == 1:
        lows, highs = lows * dim, highs * dim
    if len(lows) != dim:
        raise ValueError(
            f"--box: got {len(lows)} intervals but the model has input dimension {dim}"
        )
    return Box(lows, highs)


def _parse_target(spec: str, dim: int):
    from uniformnn.networks import load_network
    from uniformnn.targets import make_target

    if spec == "none":
        return None
    if spec in BUILTIN_TARGETS:
        return make_target(spec, dim)
    if spec.startswith("teacher:"):
        try:
            seed = int(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"--target: got {spec!r}; expected teacher:SEED with an integer seed") from None
        return make_target("teacher", dim, seed=seed)
    path = Path(spec)
    if not path.exists():
        raise ValueError(
            f"--target: got {spec!r}; expected a network file, teacher:SEED or one of {BUILTIN_TARGETS}"
        )
    net = load_network(path)
    if net.in_dim != dim:
        raise ValueError(
            f"--target: network {spec!r} has input dimension {net.in_dim} but MODEL has {dim}"
        )
    return net


def _cmd_bracket(args: argparse.Namespace) -> int:
    from uniformnn.bracket import sup_norm_bracket
    from uniformnn.networks import load_network

    _set_threads(args.threads)
    model = load_network(args.model)
    target = _parse_target(args.target, model.in_dim)
    box = _parse_box(args.box, model.in_dim)
    res = sup_norm_bracket(model, target, box, rtol=args.rtol, atol=args.atol,
                           time_budget=args.time_budget, method=args.method, seed=args.seed,
                           device=None if args.device == "auto" else args.device,
                           progress=not args.quiet and sys.stderr.isatty())
    print(f"sup-norm error in [{res.lower:.10g}, {res.upper:.10g}]  relative gap "
          f"{res.rel_gap:.3g}  ({res.status}, {res.n_bounded} boxes, {res.elapsed:.1f} s)")
    print(f"attained at x = [{', '.join(f'{v:.8g}' for v in res.argmax)}]")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_name(f".{args.json.name}.tmp-{os.getpid()}")
        try:
            tmp.write_text(json.dumps(res.to_dict(), indent=1), encoding="utf-8")
            os.replace(tmp, args.json)
        finally:
            if tmp.exists():
                tmp.unlink()
    return 0


def _cmd_experiment(args: argparse.Namespace) -> int:
    from uniformnn.config import load_config
    from uniformnn.experiment import collect_results, run_experiment

    _set_threads(args.threads)
    cfg = load_config(args.config)
    out = args.out if args.out is not None else Path("runs") / cfg.name
    if args.collect:
        print(f"wrote {collect_results(out)}")
        return 0
    summary = run_experiment(cfg, out, workers=args.workers, shard=args.shard,
                             max_jobs=args.max_jobs, quiet=args.quiet or not sys.stderr.isatty())
    print(f"{summary['n_run']} jobs run, {summary['n_skipped']} already done, "
          f"{summary['n_jobs']} in total; results in {summary['results']}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from uniformnn.aggregation import aggregate, write_aggregate
    from uniformnn.experiment import read_results
    from uniformnn.plotting import plot_results

    rows = read_results(args.results)
    base = args.results if args.results.is_dir() else args.results.parent
    out = args.out if args.out is not None else base / "plots"
    out.mkdir(parents=True, exist_ok=True)
    agg_path = write_aggregate(aggregate(rows, seed_reduce=args.seed_reduce), out / "aggregate.csv")
    print(f"wrote {agg_path}")
    for path in plot_results(rows, out, seed_reduce=args.seed_reduce):
        print(f"wrote {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from uniformnn.demo import run_demo

    _set_threads(args.threads)
    summary = run_demo(args.out, quiet=args.quiet or not sys.stderr.isatty(), seed=args.seed)
    print(summary["headline"])
    for path in summary["files"]:
        print(f"  wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, OSError, ImportError) as exc:
        msg = " ".join(str(exc).split())
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
