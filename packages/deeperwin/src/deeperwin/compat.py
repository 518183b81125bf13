"""Reading deeperwin 1.x configuration files (``config.yml`` of deeperwin 1.1.0).

deeperwin 2 is a rewrite; its configuration (:class:`deeperwin.config.RunConfig`) is not the
1.x layout. :func:`convert_v1_config` translates the 1.x keys that have an equivalent and
refuses, listing them, the keys that have none (unless asked to drop them). Settings a 1.x
file does not give keep the 2.x defaults, which are not the 1.x defaults.

Mapped keys (1.x -> 2.x):

==========================================  ==============================================
deeperwin 1.x                               deeperwin 2
==========================================  ==============================================
``physical.name``                           ``system`` (a built-in name)
``physical.Z``, ``R``, ``n_electrons``,     ``system: {charges, positions, charge, spin}``
``n_up``                                    (bohr)
``mcmc.n_walkers_opt``                      ``sampling.n_walkers``
``mcmc.n_walkers_eval``                     only when equal to ``n_walkers_opt`` (one set)
``mcmc.n_inter_steps``                      ``sampling.steps_per_sample``
``mcmc.n_burn_in_opt``                      ``sampling.burn_in``
``mcmc.target_acceptance_rate``             ``sampling.target_acceptance``
``mcmc.proposal.name: normal``              (Gaussian all-electron moves, the 2.x default)
``optimization.n_epochs``                   ``optimization.n_steps``
``optimization.learning_rate``              ``optimization.learning_rate``
``optimization.optimizer.name``             ``optimization.optimizer`` (``kfac``, ``adam``)
``optimization.optimizer.decay_time``       ``optimization.lr_decay_steps`` (KFAC)
``optimization.schedule.decay_time``        ``optimization.lr_decay_steps`` (Adam, inverse)
``optimization.optimizer.damping``          ``optimization.kfac_damping``
``optimization.optimizer.norm_constraint``  ``optimization.kfac_norm_constraint``
``optimization.clipping.clip_by``           ``optimization.clip_width``
``evaluation.n_epochs``                     ``evaluation.n_steps``
``model.embedding.name``                    ``wavefunction.embedding`` (``fermi`` ->
                                            ``ferminet``, ``simple_schnet`` -> ``schnet``)
``model.embedding.n_hidden_one_el``         ``one_electron_width``, ``n_layers`` (equal widths)
``model.embedding.n_hidden_two_el``         ``two_electron_width`` (equal widths)
``model.embedding.embedding_dim``,          ``one_electron_width``, ``n_layers`` (SchNet)
``n_iterations``
``model.baseline.n_determinants``           ``wavefunction.n_determinants``
``model.baseline.basis_set``                ``optimization.basis``
``model.use_jastrow``                       ``wavefunction.jastrow``
``computation.float_precision``             ``dtype``
==========================================  ==============================================

``comment``, ``experiment_name``, ``physical.comment``, ``physical.E_ref``,
``computation.use_gpu`` and ``model.baseline.name: casscf`` are informational or chosen by
the JAX installation and are dropped. Everything else (backflow options, cusp corrections,
loggers, dispatch, restart/reuse, forces, other optimisers and schedules, ...) has no
equivalent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["convert_v1_config", "convert_v1_config_file"]

_DROPPED = {"comment", "experiment_name", "physical.comment", "physical.E_ref", "computation.use_gpu"}


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict):
                out.update(_flatten(v, key))  # an empty section sets nothing
            else:
                out[key] = v
    return out


def _equal_widths(key: str, value: Any, problems: list[str]) -> tuple[int, int] | None:
    """(width, count) of a list of equal layer widths; records a problem otherwise."""
    widths = value if isinstance(value, list) else [value]
    if not widths or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths):
        problems.append(f"{key}={value!r} (expected a list of positive integers)")
        return None
    if len(set(widths)) != 1:
        problems.append(f"{key}={value!r} (deeperwin 2 has one width per stream)")
        return None
    return widths[0], len(widths)


def convert_v1_config(data: dict[str, Any], *, drop_unmapped: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Translate a deeperwin 1.x configuration (parsed YAML) into a deeperwin 2 configuration.

    Parameters
    ----------
    data
        The 1.x configuration as nested dictionaries (``physical``, ``mcmc``,
        ``optimization``, ``evaluation``, ``model``, ``computation``, ...).
    drop_unmapped
        Drop the keys without a deeperwin 2 equivalent instead of refusing them.

    Returns
    -------
    tuple
        ``(config, dropped)``: the 2.x configuration (validated by
        :func:`deeperwin.config.parse_config`) as a dictionary, and the dropped keys as
        ``"key=value"`` strings (empty unless ``drop_unmapped``).

    Raises
    ------
    ValueError
        When ``data`` is not a mapping, has no ``physical`` system, or (without
        ``drop_unmapped``) has keys without an equivalent: all of them are listed.
    """
    from deeperwin.config import parse_config

    if not isinstance(data, dict):
        raise ValueError(f"data: expected a mapping (a deeperwin 1.x config), got {type(data).__name__}")
    flat = _flatten(data)
    out: dict[str, Any] = {}
    unmapped: list[str] = []
    bad: list[str] = []
    used: set[str] = set()

    def put(section: str | None, key: str, value: Any) -> None:
        if section is None:
            out[key] = value
        else:
            out.setdefault(section, {})[key] = value

    def take(key: str) -> Any:
        used.add(key)
        return flat[key]

    simple = {
        "mcmc.n_walkers_opt": ("sampling", "n_walkers"),
        "mcmc.n_inter_steps": ("sampling", "steps_per_sample"),
        "mcmc.n_burn_in_opt": ("sampling", "burn_in"),
        "mcmc.target_acceptance_rate": ("sampling", "target_acceptance"),
        "optimization.n_epochs": ("optimization", "n_steps"),
        "optimization.learning_rate": ("optimization", "learning_rate"),
        "optimization.optimizer.damping": ("optimization", "kfac_damping"),
        "optimization.optimizer.norm_constraint": ("optimization", "kfac_norm_constraint"),
        "optimization.clipping.clip_by": ("optimization", "clip_width"),
        "evaluation.n_epochs": ("evaluation", "n_steps"),
        "model.baseline.n_determinants": ("wavefunction", "n_determinants"),
        "model.baseline.basis_set": ("optimization", "basis"),
        "model.use_jastrow": ("wavefunction", "jastrow"),
        "computation.float_precision": (None, "dtype"),
    }
    for key, (section, name) in simple.items():
        if key in flat:
            put(section, name, take(key))

    # the system: a built-in name, or explicit nuclei
    phys = {k.split(".", 1)[1]: take(k) for k in list(flat) if k.startswith("physical.") and k not in _DROPPED
            and k.split(".", 1)[1] in ("name", "Z", "R", "n_electrons", "n_up")}
    if "Z" in phys or "R" in phys:
        if "Z" not in phys or "R" not in phys:
            bad.append("physical.Z and physical.R (both are needed for explicit nuclei)")
        else:
            z = phys["Z"]
            n_el = phys.get("n_electrons", sum(z) if isinstance(z, list) else None)
            system: dict[str, Any] = {"charges": z, "positions": phys["R"], "units": "bohr"}
            if isinstance(z, list) and isinstance(n_el, int):
                system["charge"] = int(sum(z)) - n_el
                if phys.get("n_up") is not None:
                    system["spin"] = 2 * int(phys["n_up"]) - n_el
            if phys.get("name") is not None:
                system["name"] = str(phys["name"])
            out["system"] = system
    elif "name" in phys and phys["name"] is not None:
        name = str(phys["name"])
        if phys.get("n_electrons") is not None or phys.get("n_up") is not None:
            from deeperwin.systems import get_system

            mol = get_system(name)
            n_el = phys.get("n_electrons", mol.n_up + mol.n_down)
            n_up = phys.get("n_up", mol.n_up)
            out["system"] = {"charges": list(mol.charges), "positions": mol.positions.tolist(), "units": "bohr",
                             "charge": int(sum(mol.charges)) - int(n_el), "spin": 2 * int(n_up) - int(n_el),
                             "name": name}
        else:
            out["system"] = name
    else:
        bad.append("physical.name or physical.Z/physical.R (the 1.x file names no system)")

    # walkers: deeperwin 2 has one walker set for optimisation and evaluation
    if "mcmc.n_walkers_eval" in flat:
        value = take("mcmc.n_walkers_eval")
        if value is not None and value != flat.get("mcmc.n_walkers_opt"):
            unmapped.append(f"mcmc.n_walkers_eval={value!r} (one walker set for all phases)")
    if "mcmc.proposal.name" in flat:
        value = take("mcmc.proposal.name")
        if value != "normal":
            unmapped.append(f"mcmc.proposal.name={value!r} (Gaussian moves only)")

    # optimiser and learning-rate schedule: lr / (1 + t / decay) as in 1.x
    optimizer = flat.get("optimization.optimizer.name", "adam" if any(
        k.startswith("optimization.optimizer.") for k in flat) else None)
    if "optimization.optimizer.name" in flat:
        take("optimization.optimizer.name")
        if optimizer in ("kfac", "adam"):
            put("optimization", "optimizer", optimizer)
        else:
            unmapped.append(f"optimization.optimizer.name={optimizer!r} (kfac or adam)")
    if "optimization.optimizer.decay_time" in flat:
        put("optimization", "lr_decay_steps", float(take("optimization.optimizer.decay_time")))
    if "optimization.schedule.name" in flat:
        value = take("optimization.schedule.name")
        if value != "inverse":
            unmapped.append(f"optimization.schedule.name={value!r} (only the inverse schedule)")
    if "optimization.schedule.decay_time" in flat:
        value = take("optimization.schedule.decay_time")
        if optimizer == "kfac":
            unmapped.append(f"optimization.schedule.decay_time={value!r} (1.x KFAC uses optimizer.decay_time)")
        else:
            put("optimization", "lr_decay_steps", float(value))

    # the network
    embedding = flat.get("model.embedding.name")
    if "model.embedding.name" in flat:
        take("model.embedding.name")
        names = {"fermi": "ferminet", "simple_schnet": "schnet"}
        if embedding in names:
            put("wavefunction", "embedding", names[embedding])
        else:
            unmapped.append(f"model.embedding.name={embedding!r} (fermi or simple_schnet)")
    if "model.embedding.n_hidden_one_el" in flat:
        w = _equal_widths("model.embedding.n_hidden_one_el", take("model.embedding.n_hidden_one_el"), bad)
        if w is not None:
            put("wavefunction", "one_electron_width", w[0])
            put("wavefunction", "n_layers", w[1])
    if "model.embedding.n_hidden_two_el" in flat:
        w = _equal_widths("model.embedding.n_hidden_two_el", take("model.embedding.n_hidden_two_el"), bad)
        if w is not None:
            put("wavefunction", "two_electron_width", w[0])
    if "model.embedding.embedding_dim" in flat and embedding == "simple_schnet":
        put("wavefunction", "one_electron_width", take("model.embedding.embedding_dim"))
    if "model.embedding.n_iterations" in flat:
        put("wavefunction", "n_layers", take("model.embedding.n_iterations"))
    if flat.get("model.baseline.name", "casscf") == "casscf" and "model.baseline.name" in flat:
        take("model.baseline.name")
    if flat.get("evaluation.calculate_energies") is True:
        take("evaluation.calculate_energies")

    dropped = []
    for key, value in flat.items():
        if key in used:
            continue
        if key in _DROPPED:
            continue
        unmapped.append(f"{key}={value!r}")
    if bad:
        raise ValueError("deeperwin 1.x config: cannot convert " + "; ".join(bad))
    if unmapped:
        if not drop_unmapped:
            raise ValueError(f"deeperwin 1.x config: {len(unmapped)} key(s) have no deeperwin 2 equivalent: "
                             + "; ".join(unmapped) + " (remove them, or drop them with drop_unmapped=True / "
                             "--drop-unmapped)")
        dropped = unmapped
    parse_config(out)  # the result must be a valid 2.x configuration
    return out, dropped


def convert_v1_config_file(path: str | Path, out: str | Path | None = None, *,
                           drop_unmapped: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Read a deeperwin 1.x ``config.yml``, convert it and (with ``out``) write the 2.x YAML.

    Parameters
    ----------
    path
        The 1.x YAML file.
    out
        Where to write the 2.x configuration (atomically); an existing file is not
        overwritten. None: write nothing.
    drop_unmapped
        See :func:`convert_v1_config`.

    Returns
    -------
    tuple
        ``(config, dropped)`` as :func:`convert_v1_config`.
    """
    from deeperwin.checkpoint import atomic_write_text
    from deeperwin.config import read_yaml_mapping

    path = Path(path)
    data = read_yaml_mapping(path)
    if out is not None and Path(out).exists():
        raise ValueError(f"out={str(out)!r} already exists; choose another file name")
    config, dropped = convert_v1_config(data, drop_unmapped=drop_unmapped)
    if out is not None:
        header = f"# converted from the deeperwin 1.x config {path.name} by deeperwin convert-config\n"
        if dropped:
            header += "# dropped (no deeperwin 2 equivalent): " + "; ".join(dropped) + "\n"
        atomic_write_text(out, header + yaml.safe_dump(config, sort_keys=False))
    return config, dropped
