"""Training: fresh samples every step, AdamW, schedules, clipping, run directories.

:func:`solve` is the entry point: it builds the problem and the network from a
:class:`pdenet.config.SolveConfig`, trains, evaluates and (optionally) writes a run
directory::

    run_dir/
      config.yaml        the fully resolved config
      metrics.csv        step, loss, learning rate, gradient norm, time (and evaluations)
      checkpoints/last.pt  the last good checkpoint (model, optimiser, scheduler, step)
      model.pt           the final model
      evaluation.json    relative errors (or the DeepBSDE error at the point)
      loss.png, solution.png  plots (with the ``plot`` extra)

Under ``torch.distributed`` (initialised by the caller or by
:func:`pdenet.distributed.solve_distributed`) the model is wrapped in
``DistributedDataParallel``, every rank draws ``batch_size / world_size`` fresh samples from
its own stream, and rank 0 writes the run directory.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pdenet.config import SolveConfig, atomic_write, load_config, make_config, save_config
from pdenet.deepbsde import DeepBSDEModel, DeepBSDESolution, deepbsde_loss
from pdenet.evaluation import evaluate
from pdenet.losses import get_loss
from pdenet.networks import SolutionNet, build_network
from pdenet.problems import KolmogorovProblem, SemilinearProblem, get_problem

__all__ = ["DivergenceError", "NeuralSolution", "SolveResult", "solve", "load_run", "evaluate_run",
           "make_scheduler"]


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss or gradient; the last good checkpoint is kept."""


class NeuralSolution:
    """A trained ``u_theta(t, x, p)`` with a batched, gradient-free ``predict``.

    Parameters
    ----------
    net : SolutionNet
        The network.
    problem : KolmogorovProblem
        The PDE it solves.
    """

    def __init__(self, net: SolutionNet, problem: KolmogorovProblem) -> None:
        self.net = net
        self.problem = problem

    def _inputs(self, t, x, p):
        ref = next(self.net.parameters())
        t = torch.as_tensor(t, dtype=ref.dtype, device=ref.device)
        x = torch.as_tensor(x, dtype=ref.dtype, device=ref.device)
        p = None if p is None else torch.as_tensor(p, dtype=ref.dtype, device=ref.device)
        if t.ndim == 0:
            t = t.expand(x.shape[0]) if x.ndim == 2 else t
        p = self.problem.check_inputs(t, x, p)
        return t, x, p

    def predict(self, t, x, p=None, *, batch_size: int = 65536) -> torch.Tensor:
        """``u(t, x, p)`` at a batch of points, shape ``(n,)`` (evaluation mode, no autograd)."""
        t, x, p = self._inputs(t, x, p)
        self.net.eval()
        with torch.no_grad():
            out = torch.cat([self.net(t[s:s + batch_size], x[s:s + batch_size], p[s:s + batch_size])
                             for s in range(0, x.shape[0], batch_size)]) if x.shape[0] else t.new_zeros(0)
        return out

    def gradient(self, t, x, p=None) -> torch.Tensor:
        """``grad_x u(t, x, p)``, shape ``(n, d)``."""
        t, x, p = self._inputs(t, x, p)
        self.net.eval()
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            u = self.net(t, x, p)
            return torch.autograd.grad(u.sum(), x)[0].detach()

    def __call__(self, t, x, p=None):
        return self.predict(t, x, p)


@dataclass
class SolveResult:
    """What :func:`solve` returns."""

    #: :class:`NeuralSolution` (Kolmogorov) or :class:`pdenet.deepbsde.DeepBSDESolution`
    solution: Any
    problem: KolmogorovProblem | SemilinearProblem
    config: SolveConfig
    metrics: list[dict[str, float]]
    evaluation: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None


def make_scheduler(optimizer: torch.optim.Optimizer, config: SolveConfig) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning-rate schedule of ``config.optim`` as a ``LambdaLR``."""
    opt = config.optim
    steps = config.steps
    ratio = min(opt.lr_final / opt.lr, 1.0)

    def factor(k: int) -> float:
        if opt.warmup_steps and k < opt.warmup_steps:
            return (k + 1) / opt.warmup_steps
        frac = min(k / max(steps - 1, 1), 1.0)
        if opt.schedule == "constant":
            return 1.0
        if opt.schedule == "cosine":
            return ratio + (1 - ratio) * 0.5 * (1 + math.cos(math.pi * frac))
        if opt.schedule == "exponential":
            return ratio**frac
        return opt.gamma ** sum(frac >= m for m in opt.milestones)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return torch.device(name)


def _build_problem(config: SolveConfig, problem):
    if problem is None:
        problem = get_problem(config.problem, **config.problem_options)
    elif not isinstance(problem, KolmogorovProblem | SemilinearProblem):
        raise TypeError(f"problem must be a KolmogorovProblem or SemilinearProblem, got {type(problem).__name__}")
    if isinstance(problem, SemilinearProblem) and config.loss != "deepbsde":
        raise ValueError(f"problem {problem.name!r} is semilinear: loss must be 'deepbsde', got {config.loss!r}")
    if isinstance(problem, KolmogorovProblem) and config.loss == "deepbsde":
        raise ValueError(f"problem {problem.name!r} is a linear Kolmogorov problem: loss must be "
                         "'feynman_kac', 'bsde' or 'bsde_detached', got 'deepbsde'")
    return problem


def _build_model(config: SolveConfig, problem, dtype, device) -> nn.Module:
    net = config.network
    gen = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    if isinstance(problem, SemilinearProblem):
        if net.kind != "mlp":
            raise ValueError(f"DeepBSDE uses MLP gradient networks; network.kind must be 'mlp', got {net.kind!r}")
        model = DeepBSDEModel(problem.dim, config.resolved_time_steps(), width=net.width or problem.dim + 10,
                              depth=net.depth or 2, activation=net.activation,
                              batch_norm=True if net.batch_norm is None else net.batch_norm,
                              y0_range=config.y0_range, generator=gen)
    else:
        body = build_network(net.kind, problem.input_dim, width=net.width or 64, depth=net.depth or 3,
                             levels=net.levels, activation=net.activation, batch_norm=net.batch_norm)
        low, high = problem.input_bounds()
        model = SolutionNet(body, low, high)
    return model.to(device=device, dtype=dtype)


def _dist_info() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _write_metrics(path: Path, rows: list[dict[str, Any]]) -> None:
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, buf.getvalue())


def _save_torch(path: Path, obj: Any) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write(path, buf.getvalue())


def _evaluate(solution, problem, config: SolveConfig, mc_samples: int | None = None) -> dict[str, Any]:
    if isinstance(problem, SemilinearProblem):
        return solution.evaluate(seed=config.seed)
    return evaluate(solution, problem, n_points=config.eval_points, seed=config.seed + 12345,
                    mc_samples=mc_samples or config.mc_samples)


def solve(config: SolveConfig | dict[str, Any], run_dir: str | Path | None = None, *,
          problem: KolmogorovProblem | SemilinearProblem | None = None, quiet: bool = False,
          evaluate_at_end: bool = True) -> SolveResult:
    """Train a network for a built-in or user-defined problem.

    Parameters
    ----------
    config : SolveConfig or dict
        The run configuration (a dict is validated; unknown keys are rejected).
    run_dir : str or Path, optional
        Where to write config, metrics, checkpoints, model, evaluation and plots.
    problem : KolmogorovProblem or SemilinearProblem, optional
        A user-defined problem; default: the built-in ``config.problem``.
    quiet : bool
        No progress bar (it is also off when stderr is not a terminal).
    evaluate_at_end : bool
        Evaluate the trained solution (relative errors on fresh points, or the DeepBSDE error).

    Returns
    -------
    SolveResult
        The solution, metrics and evaluation.

    Raises
    ------
    DivergenceError
        When the loss or the gradient becomes non-finite; ``checkpoints/last.pt`` keeps the
        last good state.
    """
    config = make_config(config)
    if config.threads:
        torch.set_num_threads(config.threads)
    problem = _build_problem(config, problem)
    device = _device(config.device)
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    rank, world = _dist_info()
    if config.batch_size % world:
        raise ValueError(f"batch_size={config.batch_size} must be divisible by the world size {world}")
    local_batch = config.batch_size // world
    model = _build_model(config, problem, dtype, device)
    train_model: nn.Module = model
    if world > 1 and not isinstance(problem, SemilinearProblem):
        train_model = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    if isinstance(model, DeepBSDEModel):
        others = [q for name, q in model.named_parameters() if name != "y0"]
        groups = [{"params": [model.y0], "lr": config.optim.y0_lr or 10 * config.optim.lr, "weight_decay": 0.0},
                  {"params": others}]
    else:
        groups = [{"params": list(model.parameters())}]
    optimizer = torch.optim.AdamW(groups, lr=config.optim.lr, weight_decay=config.optim.weight_decay, foreach=True)
    scheduler = make_scheduler(optimizer, config)
    gen = torch.Generator(device=device).manual_seed(config.seed * 7919 + 104729 * (rank + 1))
    n_steps = config.resolved_time_steps()
    semilinear = isinstance(problem, SemilinearProblem)
    loss_fn = None if semilinear else get_loss(config.loss, n_steps)
    writer = rank == 0 and run_dir is not None
    run_path = Path(run_dir) if run_dir is not None else None
    if writer:
        run_path.mkdir(parents=True, exist_ok=True)
        (run_path / "checkpoints").mkdir(exist_ok=True)
        save_config(config, run_path / "config.yaml")
        info = {"problem": problem.config(), "world_size": world, "device": str(device),
                "torch": torch.__version__, "custom_problem": config.problem != problem.name}
        atomic_write(run_path / "run_info.json", json.dumps(info, indent=2))

    def checkpoint(step: int) -> None:
        if writer:
            _save_torch(run_path / "checkpoints" / "last.pt",
                        {"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                         "scheduler": scheduler.state_dict(), "config": config.model_dump(mode="json")})

    from tqdm.auto import tqdm

    show = not quiet and rank == 0 and sys.stderr.isatty()
    bar = tqdm(total=config.steps, disable=not show, desc=f"{problem.name}/{config.loss}", leave=False)
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    last_good = None
    for step in range(1, config.steps + 1):
        train_model.train()
        if semilinear:
            loss = deepbsde_loss(model, problem, local_batch, generator=gen, dtype=dtype, device=device)
        else:
            t, x, p = problem.sample_inputs(local_batch, generator=gen, dtype=dtype, device=device)
            loss = loss_fn(train_model, problem, t, x, p, gen)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if semilinear and world > 1:  # plain all-reduce of the gradients (no DDP wrapper)
            for q in model.parameters():
                if q.grad is not None:
                    torch.distributed.all_reduce(q.grad)
                    q.grad /= world
        clip = config.optim.grad_clip if config.optim.grad_clip is not None else float("inf")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip))
        loss_value = float(loss.detach())
        if world > 1:
            lt = torch.tensor([loss_value], dtype=torch.float64, device=device)
            torch.distributed.all_reduce(lt)
            loss_value = float(lt) / world
        if not (math.isfinite(loss_value) and math.isfinite(grad_norm)):
            bar.close()
            if writer:
                _write_metrics(run_path / "metrics.csv", rows)
            where = (f"; the last good checkpoint (step {last_good}) is kept at "
                     f"{run_path / 'checkpoints' / 'last.pt'}") if (writer and last_good) else ""
            raise DivergenceError(
                f"training diverged at step {step}: loss={loss_value}, gradient norm={grad_norm}{where}; "
                f"try a smaller optim.lr (now {config.optim.lr}) or gradient clipping")
        optimizer.step()
        scheduler.step()
        row = {"step": step, "loss": loss_value, "lr": optimizer.param_groups[0]["lr"],
               "grad_norm": grad_norm, "time": time.perf_counter() - start}
        if semilinear:
            row["y0"] = float(model.y0.detach())
        if config.eval_every and step % config.eval_every == 0 and step < config.steps and rank == 0:
            sol = DeepBSDESolution(model, problem) if semilinear else NeuralSolution(model, problem)
            if semilinear:
                row["y0"] = sol.value
            else:
                ev = evaluate(sol, problem, n_points=min(config.eval_points, 1024), seed=config.seed + 999,
                              mc_samples=min(config.mc_samples, 1024))
                row.update({f"eval_{k}": ev[k] for k in ("rel_l1", "rel_l2", "rel_linf")})
        rows.append(row)
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss_value:.3e}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            checkpoint(step)
            last_good = step
    bar.close()
    solution = DeepBSDESolution(model, problem) if semilinear else NeuralSolution(model, problem)
    evaluation: dict[str, Any] = {}
    if evaluate_at_end and rank == 0:
        evaluation = _evaluate(solution, problem, config)
        evaluation["train_time_s"] = rows[-1]["time"]
        evaluation["steps"] = config.steps
    if writer:
        _write_metrics(run_path / "metrics.csv", rows)
        _save_torch(run_path / "model.pt", {"model": model.state_dict(), "config": config.model_dump(mode="json")})
        if evaluation:
            atomic_write(run_path / "evaluation.json", json.dumps(evaluation, indent=2))
        try:
            from pdenet.plotting import plot_run

            plot_run(run_path, rows, solution, problem)
        except ImportError:
            pass
    if world > 1:
        torch.distributed.barrier()
    return SolveResult(solution, problem, config, rows, evaluation, run_path)


def load_run(run_dir: str | Path, *, problem: KolmogorovProblem | SemilinearProblem | None = None):
    """Load the trained solution of a run directory.

    Parameters
    ----------
    run_dir : str or Path
        A directory written by :func:`solve`.
    problem : optional
        Required when the run used a user-defined problem.

    Returns
    -------
    solution, problem, config
    """
    run_path = Path(run_dir)
    if not (run_path / "config.yaml").is_file():
        raise ValueError(f"run_dir {str(run_path)!r} is not a pdenet run directory (no config.yaml)")
    if not (run_path / "model.pt").is_file():
        raise ValueError(f"run_dir {str(run_path)!r} has no model.pt (training did not finish)")
    config = load_config(run_path / "config.yaml")
    info_path = run_path / "run_info.json"
    if problem is None and info_path.is_file() and json.loads(info_path.read_text())["custom_problem"]:
        raise ValueError(f"run {str(run_path)!r} used a user-defined problem; pass it as problem=")
    problem = _build_problem(config, problem)
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    model = _build_model(config, problem, dtype, torch.device("cpu"))
    state = torch.load(run_path / "model.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    model.eval()
    solution = DeepBSDESolution(model, problem) if isinstance(problem, SemilinearProblem) else NeuralSolution(model, problem)
    return solution, problem, config


def evaluate_run(run_dir: str | Path, *, n_points: int | None = None, mc_samples: int | None = None,
                 seed: int | None = None) -> dict[str, Any]:
    """Evaluate a finished run on fresh points and write ``evaluation.json`` (atomically).

    Parameters
    ----------
    run_dir : str or Path
        A directory written by :func:`solve`.
    n_points, mc_samples, seed : int, optional
        Override the run's evaluation settings.
    """
    solution, problem, config = load_run(run_dir)
    updates = {}
    if n_points is not None:
        updates["eval_points"] = n_points
    if seed is not None:
        updates["seed"] = seed
    if updates:
        config = make_config({**config.model_dump(), **updates})
    result = _evaluate(solution, problem, config, mc_samples)
    atomic_write(Path(run_dir) / "evaluation.json", json.dumps(result, indent=2))
    return result
