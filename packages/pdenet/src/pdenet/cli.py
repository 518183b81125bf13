"""Command line interface `pdenet`: thin layers over the public API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pdenet.__about__ import __version__

PROG = "pdenet"
LOSS_CHOICES = ("feynman_kac", "bsde", "bsde_detached", "deepbsde")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `pdenet` command (also used for the CLI reference)."""
    parser = argparse.ArgumentParser(prog=PROG, description="Neural solvers for high-dimensional Kolmogorov and semilinear PDEs, checked against closed forms and Monte Carlo")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lst = sub.add_parser("list", help="list the built-in problems and losses")
    lst.set_defaults(func=_cmd_list)

    sol = sub.add_parser("solve", help="train a network for a problem and write a run directory")
    sol.add_argument("problem", help="built-in problem name (see `pdenet list`)")
    sol.add_argument("--config", type=Path, help="YAML config; command-line options override it")
    sol.add_argument("--out", type=Path, default=None, help="run directory (default runs/PROBLEM)")
    sol.add_argument("--dim", type=int, help="space dimension of the problem")
    sol.add_argument("--steps", type=int, help="training steps")
    sol.add_argument("--batch-size", type=int, help="samples per step (total over processes)")
    sol.add_argument("--loss", help=f"one of {', '.join(LOSS_CHOICES)}")
    sol.add_argument("--lr", type=float, help="learning rate")
    sol.add_argument("--network", help="mlp or multilevel")
    sol.add_argument("--width", type=int, help="hidden width")
    sol.add_argument("--time-steps", type=int, help="time steps of the SDE path / BSDE")
    sol.add_argument("--device", help="auto, cpu or cuda[:N]")
    sol.add_argument("--seed", type=int, help="random seed")
    sol.add_argument("--threads", type=int, help="torch CPU threads")
    sol.add_argument("--processes", type=int, default=1,
                     help="data-parallel processes (torch.distributed, gloo on CPU)")
    sol.add_argument("--quiet", action="store_true", help="no progress bar")
    sol.set_defaults(func=_cmd_solve)

    ev = sub.add_parser("evaluate", help="evaluate a finished run on fresh points")
    ev.add_argument("run_dir", type=Path, help="run directory written by `pdenet solve`")
    ev.add_argument("--points", type=int, help="number of evaluation points")
    ev.add_argument("--mc-samples", type=int, help="Monte Carlo samples per point (no closed form)")
    ev.add_argument("--seed", type=int, help="seed of the evaluation points")
    ev.set_defaults(func=_cmd_evaluate)

    demo = sub.add_parser("demo", help="run the small headline example and write its outputs")
    demo.add_argument("--out", type=Path, default=Path("pdenet-demo"), help="output directory")
    demo.add_argument("--quiet", action="store_true", help="no progress output")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _cmd_list(args: argparse.Namespace) -> int:
    from pdenet.losses import LOSSES
    from pdenet.problems import list_problems

    print("problems:")
    for info in list_problems():
        print(f"  {info.name:<20} {info.kind:<11} {info.summary}")
    print("losses:")
    for name, text in LOSSES.items():
        print(f"  {name:<20} {text}")
    return 0


def _positive(name: str, value):
    if value is not None and value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _cmd_solve(args: argparse.Namespace) -> int:
    from pdenet.config import load_config, make_config
    from pdenet.problems import get_problem, list_problems

    known = [info.name for info in list_problems()]
    if args.problem not in known:
        raise ValueError(f"unknown problem {args.problem!r}; known problems: {', '.join(known)}")
    if args.loss is not None and args.loss not in LOSS_CHOICES:
        raise ValueError(f"--loss must be one of {', '.join(LOSS_CHOICES)}, got {args.loss!r}")
    for name in ("dim", "steps", "batch_size", "lr", "width", "time_steps", "threads", "processes"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    data = load_config(args.config).model_dump() if args.config else {}
    data["problem"] = args.problem
    kind = next(i.kind for i in list_problems() if i.name == args.problem)
    data.setdefault("loss", "deepbsde" if kind == "semilinear" else "feynman_kac")
    if args.dim is not None:
        data.setdefault("problem_options", {})["dim"] = args.dim
    for key, value in (("steps", args.steps), ("batch_size", args.batch_size), ("loss", args.loss),
                       ("time_steps", args.time_steps), ("device", args.device), ("seed", args.seed),
                       ("threads", args.threads)):
        if value is not None:
            data[key] = value
    if args.lr is not None:
        data.setdefault("optim", {})["lr"] = args.lr
    if args.network is not None:
        data.setdefault("network", {})["kind"] = args.network
    if args.width is not None:
        data.setdefault("network", {})["width"] = args.width
    config = make_config(data, "from the command line")
    get_problem(config.problem, **config.problem_options)  # validate the problem options early
    out = args.out or Path("runs") / args.problem
    if args.processes > 1:
        from pdenet.distributed import solve_distributed

        _, evaluation = solve_distributed(config, out, world_size=args.processes)
    else:
        from pdenet.training import solve

        evaluation = solve(config, out, quiet=args.quiet).evaluation
    print(_summary(args.problem, evaluation))
    print(f"  run directory: {out}")
    return 0


def _summary(name: str, ev: dict) -> str:
    if "rel_l1" in ev:
        return (f"{name}: relative L1 {ev['rel_l1']:.3e}, L2 {ev['rel_l2']:.3e}, "
                f"Linf {ev['rel_linf']:.3e} on {ev['n_points']} points ({ev['reference']} reference)")
    half = ev.get("reference_half_width")
    ref = f"{ev['reference']:.6f}" + (f" +- {half:.1e}" if half else "")
    return f"{name}: u(0, x0) = {ev['value']:.6f}, reference {ref}, relative error {ev['rel_error']:.3e}"


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from pdenet.training import evaluate_run

    for name in ("points", "mc_samples"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    ev = evaluate_run(args.run_dir, n_points=args.points, mc_samples=args.mc_samples, seed=args.seed)
    print(_summary(args.run_dir.name, ev))
    print(json.dumps(ev))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from pdenet.demo import run_demo

    summary = run_demo(args.out, quiet=args.quiet, seed=args.seed)
    print(summary["headline"])
    for path in summary["files"]:
        print(f"  wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (2 for bad input)."""
    from pdenet.training import DivergenceError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, OSError, DivergenceError) as exc:
        msg = " ".join(str(exc).split())
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
