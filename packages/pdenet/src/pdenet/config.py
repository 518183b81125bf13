"""Run configuration: pydantic models, YAML in and out, unknown keys rejected."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = ["NetworkConfig", "OptimConfig", "SolveConfig", "load_config", "save_config", "atomic_write"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class NetworkConfig(_Strict):
    """Network of the solution (Kolmogorov losses) or of each time step (DeepBSDE)."""

    kind: Literal["mlp", "multilevel"] = "mlp"
    #: hidden width; default 64 for regression, d + 10 for DeepBSDE
    width: int | None = Field(default=None, gt=0)
    #: hidden layers of the MLP; default 3 for regression, 2 for DeepBSDE
    depth: int | None = Field(default=None, gt=0)
    levels: int = Field(default=3, gt=0)
    activation: Literal["relu", "gelu", "tanh", "silu", "softplus"] = "gelu"
    #: default: off for the MLP, on for the multilevel network and the DeepBSDE subnetworks
    batch_norm: bool | None = None


class OptimConfig(_Strict):
    """AdamW with a learning-rate schedule and gradient clipping."""

    lr: float = Field(default=3e-3, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)
    schedule: Literal["constant", "cosine", "exponential", "step"] = "cosine"
    #: final learning rate of the cosine and exponential schedules
    lr_final: float = Field(default=3e-6, gt=0)
    #: fractions of the run after which the step schedule multiplies by gamma
    milestones: list[float] = Field(default_factory=lambda: [0.5, 0.75])
    gamma: float = Field(default=0.1, gt=0)
    warmup_steps: int = Field(default=0, ge=0)
    #: DeepBSDE: learning rate of u(0, x0) (default 10 x lr); it must travel far, the
    #: gradient networks must not
    y0_lr: float | None = Field(default=None, gt=0)
    #: maximal gradient norm (None: no clipping)
    grad_clip: float | None = Field(default=1.0, gt=0)

    @field_validator("milestones")
    @classmethod
    def _fractions(cls, v: list[float]) -> list[float]:
        if any(not 0 < m < 1 for m in v):
            raise ValueError(f"milestones must be fractions in (0, 1), got {v}")
        return sorted(v)


class SolveConfig(_Strict):
    """Everything that defines a run of :func:`pdenet.solve`."""

    problem: str
    #: keyword arguments of the problem factory, e.g. ``{dim: 10}``
    problem_options: dict[str, Any] = Field(default_factory=dict)
    loss: Literal["feynman_kac", "bsde", "bsde_detached", "deepbsde"] = "feynman_kac"
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    steps: int = Field(default=2000, gt=0)
    batch_size: int = Field(default=1024, gt=0)
    #: time steps of the SDE path (Euler SDEs, BSDE losses, DeepBSDE)
    time_steps: int | None = Field(default=None, gt=0)
    dtype: Literal["float32", "float64"] = "float32"
    device: str = "auto"
    seed: int = 0
    #: evaluate every this many steps (0: only at the end)
    eval_every: int = Field(default=0, ge=0)
    eval_points: int = Field(default=4096, gt=1)
    #: Monte Carlo samples per point of the reference when there is no closed form
    mc_samples: int = Field(default=4096, gt=1)
    checkpoint_every: int = Field(default=500, gt=0)
    #: DeepBSDE: range of the uniform initialisation of u(0, x0)
    y0_range: tuple[float, float] = (0.0, 1.0)
    #: CPU threads for torch (None: leave torch's default)
    threads: int | None = Field(default=None, gt=0)

    @field_validator("device")
    @classmethod
    def _device(cls, v: str) -> str:
        if v not in ("auto", "cpu") and not v.startswith("cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {v!r}")
        return v

    @model_validator(mode="after")
    def _ranges(self) -> SolveConfig:
        lo, hi = self.y0_range
        if lo > hi:
            raise ValueError(f"y0_range must satisfy low <= high, got {self.y0_range}")
        return self

    def resolved_time_steps(self) -> int:
        """Time steps actually used: 20 for DeepBSDE, 4 for the BSDE losses, 32 otherwise."""
        if self.time_steps is not None:
            return self.time_steps
        return {"deepbsde": 20, "bsde": 4, "bsde_detached": 4}.get(self.loss, 32)


def _format_validation(exc: ValidationError, source: str) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(v) for v in err["loc"]) or "<root>"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{loc}: {msg} (got {err.get('input')!r})")
    return f"invalid config {source}: " + "; ".join(parts)


def make_config(data: dict[str, Any] | SolveConfig, source: str = "") -> SolveConfig:
    """Validate a dictionary into a :class:`SolveConfig`, with a readable ``ValueError``."""
    if isinstance(data, SolveConfig):
        return data
    if not isinstance(data, dict):
        raise TypeError(f"config must be a mapping, got {type(data).__name__}")
    try:
        return SolveConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(_format_validation(exc, source)) from None


def load_config(path: str | Path) -> SolveConfig:
    """Read and validate a YAML config file (unknown keys are rejected)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"config {path} is not valid YAML: {exc}") from None
    return make_config(data or {}, str(path))


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to a temporary file next to ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_config(config: SolveConfig, path: str | Path) -> None:
    """Write the fully resolved config as YAML (atomically)."""
    atomic_write(path, yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
