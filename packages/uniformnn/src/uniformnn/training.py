"""Training student ReLU networks on point samples of a target (the learning problem)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from uniformnn.networks import ReLUNetwork
from uniformnn.objective import resolve_device
from uniformnn.targets import Target, as_target

__all__ = ["OPTIMIZERS", "TrainResult", "sample_training_set", "train_student"]

OPTIMIZERS = ("adam", "sgd")


@dataclass
class TrainResult:
    """A trained student and its training log."""

    network: ReLUNetwork
    """The student (float32 parameters, on the CPU)."""

    final_loss: float
    """Mean squared error on the training set after training."""

    history: list[tuple[int, float]] = field(default_factory=list)
    """``(step, loss)`` pairs, every ``log_every`` steps."""

    seconds: float = 0.0
    """Training time."""



def sample_training_set(target: Target, m: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``m`` points uniform in the target's box and the target's values there (float64)."""
    gen = torch.Generator().manual_seed(int(seed))
    lo = torch.tensor(target.box.lower, dtype=torch.float64)
    hi = torch.tensor(target.box.upper, dtype=torch.float64)
    x = lo + torch.rand(m, target.dim, generator=gen, dtype=torch.float64) * (hi - lo)
    with torch.no_grad():
        y = target(x)
    return x, y


def train_student(
    target: Any,
    m: int,
    *,
    width: int = 32,
    depth: int = 4,
    optimizer: str = "adam",
    lr: float = 1e-3,
    lr_final_factor: float = 0.01,
    batch_size: int | None = None,
    steps: int = 2000,
    seed: int = 0,
    init_scale: str = "pytorch",
    device: str | torch.device | None = None,
    log_every: int = 50,
    dim: int | None = None,
) -> TrainResult:
    """Train a ReLU network with ``depth`` hidden layers of ``width`` on ``m`` samples.

    Parameters
    ----------
    target
        The function to learn; its box is the sampling domain.
    m
        Number of training samples (uniform random in the box, drawn with ``seed``).
    width, depth
        Hidden width and number of hidden layers.
    optimizer
        ``"adam"`` or ``"sgd"`` (with momentum 0.9).
    lr, lr_final_factor
        Initial learning rate, decayed geometrically to ``lr * lr_final_factor``.
    batch_size
        Mini-batch size; ``None`` (or ``>= m``) trains with the full batch.
    steps
        Number of optimiser steps.
    seed
        Seed of the samples, the initialisation and the mini-batches.
    init_scale
        ``"pytorch"`` (the ``nn.Linear`` default) or ``"he"`` (normal with variance 2 / fan-in,
        zero biases).
    device
        ``None``: CUDA when present, else CPU.
    """
    t = as_target(target, dim=dim, name="target")
    for name, v, lo in (("m", m, 1), ("width", width, 1), ("depth", depth, 0), ("steps", steps, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name}: got {v!r}; expected an integer >= {lo}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: got {optimizer!r}; expected one of {OPTIMIZERS}")
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr: got {lr!r}; expected a positive number")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size: got {batch_size!r}; expected a positive integer or None")
    if init_scale not in ("pytorch", "he"):
        raise ValueError(f"init_scale: got {init_scale!r}; expected 'pytorch' or 'he'")
    dev = resolve_device(device)
    t0 = time.perf_counter()
    x64, y64 = sample_training_set(t, m, seed)
    x, y = x64.float().to(dev), y64.float().to(dev)
    torch.manual_seed(int(seed))
    gen = torch.Generator().manual_seed(int(seed) + 12345)
    layers = []
    for n_in, n_out in zip([t.dim] + [width] * depth, [width] * depth + [1]):
        lin = torch.nn.Linear(n_in, n_out)
        if init_scale == "he":
            with torch.no_grad():
                lin.weight.normal_(0.0, math.sqrt(2.0 / n_in), generator=gen)
                lin.bias.zero_()
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(dev)
    opt = (torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))
    gamma = lr_final_factor ** (1.0 / max(steps, 1))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma)
    full = batch_size is None or batch_size >= m
    history: list[tuple[int, float]] = []
    for step in range(steps):
        if full:
            xb, yb = x, y
        else:
            idx = torch.randint(0, m, (batch_size,), generator=gen).to(dev)
            xb, yb = x[idx], y[idx]
        loss = torch.mean((model(xb)[:, 0] - yb) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % log_every == 0 or step == steps - 1:
            with torch.no_grad():
                full_loss = float(torch.mean((model(x)[:, 0] - y) ** 2))
            history.append((step, full_loss))
            if not math.isfinite(full_loss):
                break
    with torch.no_grad():
        final = float(torch.mean((model(x)[:, 0] - y) ** 2))
    lins = [mod for mod in model if isinstance(mod, torch.nn.Linear)]
    net = ReLUNetwork([lin.weight.detach().cpu() for lin in lins],
                      [lin.bias.detach().cpu() for lin in lins], input_box=t.box)
    return TrainResult(net, final, history, time.perf_counter() - t0)

