"""Experiment configuration files (YAML, validated by pydantic; unknown keys are rejected).

Example::

    name: gap-d1-d2
    dims: [1, 2]
    sample_counts: [16, 64, 256, 1024]
    seeds: [0, 1]
    target:
      kind: teacher          # teacher | oscillatory | sines | abs | network
      count: 4               # number of teachers (teacher seeds 0..count-1)
      hidden: [32, 32, 32, 32]
      coef: 0.5
    students:
      widths: [32]
      depths: [4]
      optimizers: [adam]
      learning_rates: [0.003]
      batch_sizes: [null]    # null: full batch
      steps: 2000
    baselines: [constant, linear]
    evaluation:
      n_eval: 65536          # Monte Carlo points for L1 / L2
      linf: search           # search (attained lower bound) | bracket (certified bracket)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["EvaluationConfig", "ExperimentConfig", "StudentConfig", "TargetConfig", "load_config"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetConfig(_Strict):
    """Which functions are learned."""

    kind: Literal["teacher", "oscillatory", "sines", "abs", "network"] = "teacher"
    count: int = Field(1, ge=1, description="number of targets (teacher seeds 0..count-1)")
    hidden: list[int] = Field(default_factory=lambda: [32, 32, 32, 32])
    coef: float = Field(0.5, gt=0)
    distribution: Literal["uniform", "rademacher", "truncated_normal"] = "uniform"
    frequency: float = 1.0
    path: str | None = None
    low: float = -0.5
    high: float = 0.5

    def options(self) -> dict[str, Any]:
        """Keyword options for :func:`~uniformnn.targets.make_target`."""
        if self.kind == "teacher":
            return {"hidden": list(self.hidden), "coef": self.coef, "distribution": self.distribution}
        if self.kind == "sines":
            return {"frequency": self.frequency}
        if self.kind == "network":
            return {"path": self.path}
        return {}


class StudentConfig(_Strict):
    """Grid of student hyperparameters (every combination is trained)."""

    widths: list[int] = Field(default_factory=lambda: [32])
    depths: list[int] = Field(default_factory=lambda: [4])
    optimizers: list[Literal["adam", "sgd"]] = Field(default_factory=lambda: ["adam"])
    learning_rates: list[float] = Field(default_factory=lambda: [3e-3])
    batch_sizes: list[int | None] = Field(default_factory=lambda: [None])
    steps: int = Field(2000, ge=0)
    lr_final_factor: float = Field(0.01, gt=0)
    init_scale: Literal["pytorch", "he"] = "pytorch"

    @field_validator("widths", "depths", "learning_rates", "optimizers", "batch_sizes")
    @classmethod
    def _non_empty(cls, v: list) -> list:
        if not v:
            raise ValueError("must list at least one value")
        return v


class EvaluationConfig(_Strict):
    """How errors are measured.

    ``linf: search`` records the attained lower bound (random search plus gradient ascent,
    and the Monte Carlo points); ``linf: bracket`` certifies students with
    :func:`~uniformnn.bracket.sup_norm_bracket` (``linf_upper`` column) within
    ``bracket_time`` seconds. Grid baselines always use the search.
    """

    n_eval: int = Field(2**16, ge=1, description="Monte Carlo points for L1 and L2")
    linf: Literal["search", "bracket"] = "search"
    n_random: int = Field(2**16, ge=1, description="random points of the L-infinity search")
    n_starts: int = Field(32, ge=0)
    steps: int = Field(100, ge=0)
    bracket_rtol: float = Field(0.01, ge=0)
    bracket_time: float = Field(30.0, gt=0, description="seconds per bracket")


class ExperimentConfig(_Strict):
    """A sampling-complexity study: every combination of the grids below is one job."""

    name: str = "experiment"
    dims: list[int] = Field(default_factory=lambda: [1])
    sample_counts: list[int] = Field(default_factory=lambda: [16, 64, 256])
    seeds: list[int] = Field(default_factory=lambda: [0])
    target: TargetConfig = Field(default_factory=TargetConfig)
    students: StudentConfig | None = Field(default_factory=StudentConfig)
    baselines: list[Literal["constant", "linear"]] = Field(default_factory=list)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    device: str = "auto"

    @field_validator("dims", "sample_counts")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if not v or any(int(x) < 1 for x in v):
            raise ValueError("must be a non-empty list of positive integers")
        return v


def load_config(source: str | os.PathLike | dict[str, Any] | ExperimentConfig) -> ExperimentConfig:
    """Read and validate a configuration (a YAML path, a dict or a config object).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the YAML is malformed or does not validate (the message names every bad key).
    """
    if isinstance(source, ExperimentConfig):
        return source
    where = "config"
    if not isinstance(source, dict):
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {where!r} does not exist")
        try:
            source = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"config file {where!r}: not valid YAML ({exc})") from None
        if source is None:
            source = {}
        if not isinstance(source, dict):
            raise ValueError(f"config file {where!r}: expected a mapping at the top level")
    try:
        return ExperimentConfig.model_validate(source)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValueError(f"{where}: invalid configuration: {problems}") from None
