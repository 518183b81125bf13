"""Run configuration: YAML validated by pydantic, unknown keys rejected with the close key suggested.

A minimal configuration is ``system: He``; everything else has defaults. ``--set`` style
overrides use dotted keys (``optimization.n_steps=500``) whose values are parsed as YAML.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "SystemConfig",
    "WavefunctionSettings",
    "SamplingSettings",
    "OptimizationSettings",
    "EvaluationSettings",
    "ParallelSettings",
    "GeometrySettings",
    "RunConfig",
    "load_config",
    "parse_config",
    "apply_overrides",
    "dump_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SystemConfig(_Strict):
    """A molecule given by its nuclei (instead of a name)."""

    charges: list[float]
    positions: list[list[float]]
    units: Literal["bohr", "angstrom"] = "bohr"
    charge: int = 0
    spin: int | None = None
    name: str | None = None


class WavefunctionSettings(_Strict):
    """See :class:`deeperwin.wavefunction.WavefunctionConfig`."""

    n_determinants: int = Field(4, ge=1)
    one_electron_width: int = Field(32, ge=1)
    two_electron_width: int = Field(8, ge=1)
    n_layers: int = Field(2, ge=1)
    embedding: Literal["ferminet", "schnet"] = "ferminet"
    jastrow: bool = True


class SamplingSettings(_Strict):
    """See :class:`deeperwin.optimize.SamplingConfig`."""

    n_walkers: int = Field(512, ge=1)
    steps_per_sample: int = Field(10, ge=1)
    burn_in: int = Field(100, ge=0)
    init_step_size: float = Field(0.2, gt=0)
    target_acceptance: float = Field(0.5, gt=0, lt=1)
    one_electron_moves: bool = False
    init_width: float = Field(1.0, gt=0)


class OptimizationSettings(_Strict):
    """See :class:`deeperwin.optimize.OptimizationConfig`; ``n_steps`` optimisation steps."""

    n_steps: int = Field(2000, ge=0)
    optimizer: Literal["adam", "kfac"] = "kfac"
    learning_rate: float = Field(0.05, gt=0)
    lr_decay_steps: float = Field(1000.0, gt=0)
    clip_width: float = Field(5.0, gt=0)
    laplacian: Literal["forward", "reference"] = "forward"
    kfac_damping: float = Field(1e-3, gt=0)
    kfac_norm_constraint: float = Field(1e-3, gt=0)
    pretrain_steps: int = Field(200, ge=0)
    pretrain_learning_rate: float = Field(3e-3, gt=0)
    basis: str = "6-311G"


class EvaluationSettings(_Strict):
    """Evaluation after optimisation: ``n_steps`` sampling steps with fixed parameters."""

    n_steps: int = Field(1000, ge=16)
    ccsd_t: bool = False
    ccsd_t_basis: str = "cc-pVDZ"


class ParallelSettings(_Strict):
    """Devices and hosts (see :mod:`deeperwin.parallel`)."""

    shard_walkers: bool = True
    distributed: bool = False
    coordinator_address: str | None = None
    num_processes: int | None = Field(None, ge=1)
    process_id: int | None = Field(None, ge=0)


class GeometrySettings(_Strict):
    """A set of geometries of ``system`` trained with shared weights (see :mod:`deeperwin.shared`).

    ``kind: scan`` sets the distance between nuclei ``atoms`` to each of ``bond_lengths``;
    ``kind: explicit`` takes ``positions`` (a list of geometries, each ``n_nuclei x 3``);
    ``kind: displacement`` moves the nuclei along ``direction`` by each of ``amplitudes``.
    Lengths are in ``units``. ``scheduler`` picks the geometry of each optimisation step
    (``round_robin`` or ``variance``: largest energy variance times staleness).
    """

    kind: Literal["scan", "explicit", "displacement"]
    bond_lengths: list[float] | None = None
    atoms: tuple[int, int] = (0, 1)
    positions: list[list[list[float]]] | None = None
    direction: list[list[float]] | None = None
    amplitudes: list[float] | None = None
    normalize: bool = True
    units: Literal["bohr", "angstrom"] = "bohr"
    scheduler: Literal["round_robin", "variance"] = "round_robin"
    staleness_weight: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _needs_fields_of_kind(self) -> GeometrySettings:
        needed = {"scan": ("bond_lengths",), "explicit": ("positions",), "displacement": ("direction", "amplitudes")}
        for name in needed[self.kind]:
            value = getattr(self, name)
            if not value:
                raise ValueError(f"kind={self.kind!r} needs a non-empty {name!r}")
        return self


class RunConfig(_Strict):
    """The full configuration of a run (with ``geometries``: many geometries, shared weights)."""

    system: str | SystemConfig
    wavefunction: WavefunctionSettings = WavefunctionSettings()
    sampling: SamplingSettings = SamplingSettings()
    optimization: OptimizationSettings = OptimizationSettings()
    evaluation: EvaluationSettings = EvaluationSettings()
    parallel: ParallelSettings = ParallelSettings()
    geometries: GeometrySettings | None = None
    checkpoint_every: int = Field(100, ge=1)
    seed: int = 0
    dtype: Literal["float32", "float64"] = "float32"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at `loc` (for key suggestions)."""
    model: type[BaseModel] | None = RunConfig
    for part in loc[:-1]:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        ann = model.model_fields[part].annotation
        candidates = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = candidates[0] if candidates else None
    return model


def _one_line(exc: ValidationError) -> str:
    """One readable line for the first validation error, with a close key suggested."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("SystemConfig", "str")))
    key = ".".join(str(p) for p in loc)
    if err["type"] == "extra_forbidden":
        model = _model_at(loc)
        known = sorted(model.model_fields) if model is not None else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else (f"; known keys: {', '.join(known)}" if known else "")
        return f"config: unknown key {key!r}{hint}"
    if err["type"] == "missing":
        return f"config: required key {key!r} is missing"
    return f"config: {key}={err.get('input')!r}: {err['msg']}"


def parse_config(data: Any) -> RunConfig:
    """Validate a configuration dictionary.

    Raises
    ------
    ValueError
        One line naming the key, the value and what is accepted (unknown keys get the
        closest known key suggested).
    """
    if isinstance(data, RunConfig):
        return data
    if not isinstance(data, dict):
        raise ValueError(f"config: expected a mapping of keys to values, got {type(data).__name__}")
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(_one_line(exc)) from None


def apply_overrides(data: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a configuration dictionary."""
    data = yaml.safe_load(yaml.safe_dump(data))  # deep copy of plain data
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. optimization.n_steps=500")
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise ValueError(f"--set {item!r}: malformed key {key!r}")
        node = data
        for p in parts[:-1]:
            if not isinstance(node.get(p, {}), dict):
                raise ValueError(f"--set {item!r}: {p!r} is not a section")
            node = node.setdefault(p, {})
        node[parts[-1]] = yaml.safe_load(value)
    return data


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """Read a YAML configuration file, apply overrides and validate.

    Parameters
    ----------
    path
        YAML file.
    overrides
        ``KEY=VALUE`` strings with dotted keys.
    """
    return parse_config(apply_overrides(read_yaml_mapping(path), list(overrides)))


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping (an empty file gives ``{}``).

    Raises
    ------
    ValueError
        When the file is missing, is not valid YAML, or does not hold a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist or is not a file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"config file {str(path)!r} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"config file {str(path)!r}: expected a mapping of keys to values")
    return data


def dump_config(config: RunConfig) -> str:
    """The fully resolved configuration as YAML."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
