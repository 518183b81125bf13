"""Checkpoints in a safe format: arrays in ``.npz`` (no pickle) plus a JSON header, written atomically.

A checkpoint holds the network parameters, the optimiser state, the walkers and the step.
Arrays are stored as full (gathered) NumPy arrays under their tree paths, so a checkpoint
written on N devices restores on M devices. Restoring fills a template state (a fresh state
of the same configuration) leaf by leaf and checks names, shapes and dtypes.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

__all__ = ["save_checkpoint", "load_checkpoint", "atomic_write_text", "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "checkpoint"
FORMAT_VERSION = 1


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text to `path` through a temporary file in the same directory and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _flatten(tree: Any) -> dict[str, np.ndarray]:
    from deeperwin.parallel import to_host

    leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {jax.tree_util.keystr(path): to_host(leaf) for path, leaf in leaves}


def save_checkpoint(directory: str | Path, state: Any, meta: dict[str, Any] | None = None) -> Path:
    """Write ``state`` (any pytree of arrays) to ``directory/checkpoint.npz`` and ``.json`` atomically.

    The JSON header records the format version, the tree paths and ``meta`` (e.g. the step);
    the previous checkpoint stays intact until both new files are complete. With several
    processes (``jax.distributed``) every process must call this (arrays sharded over the
    processes are gathered collectively) and only process 0 writes.
    """
    from deeperwin.parallel import is_main_process, sync_processes

    directory = Path(directory)
    arrays = _flatten(state)
    if is_main_process():
        _write(directory, arrays, meta)
    sync_processes("deeperwin-checkpoint-written")  # every process sees the new checkpoint afterwards
    return directory / f"{CHECKPOINT_NAME}.npz"


def _write(directory: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any] | None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    names = list(arrays)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{CHECKPOINT_NAME}.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **{f"a{i}": arrays[n] for i, n in enumerate(names)})
        header = {"format_version": FORMAT_VERSION, "names": names, "meta": meta or {}}
        os.replace(tmp, directory / f"{CHECKPOINT_NAME}.npz")
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    atomic_write_text(directory / f"{CHECKPOINT_NAME}.json", json.dumps(header, indent=1))


def load_checkpoint(directory: str | Path, template: Any) -> tuple[Any, dict[str, Any]]:
    """Read a checkpoint into the structure of ``template``; returns ``(state, meta)``.

    Raises
    ------
    ValueError
        When there is no checkpoint, or it does not fit the template (other configuration).
    """
    directory = Path(directory)
    header_path, data_path = directory / f"{CHECKPOINT_NAME}.json", directory / f"{CHECKPOINT_NAME}.npz"
    if not header_path.is_file() or not data_path.is_file():
        raise ValueError(f"{str(directory)!r} holds no checkpoint ({CHECKPOINT_NAME}.json/.npz)")
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"checkpoint header {str(header_path)!r} is not valid JSON: {exc}") from None
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"checkpoint format_version={header.get('format_version')!r}: this version reads "
                         f"{FORMAT_VERSION}")
    with np.load(data_path, allow_pickle=False) as data:
        stored = {n: data[f"a{i}"] for i, n in enumerate(header["names"])}
    leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
    out = []
    for path, leaf in leaves:
        name = jax.tree_util.keystr(path)
        if name not in stored:
            raise ValueError(f"checkpoint in {str(directory)!r} lacks {name!r}: written by another configuration")
        value = stored[name]
        # shape and dtype only: the template may span the devices of several processes
        shape = tuple(leaf.shape) if hasattr(leaf, "shape") else np.shape(leaf)
        dtype = leaf.dtype if hasattr(leaf, "dtype") else np.asarray(leaf).dtype
        if value.shape != shape:
            raise ValueError(f"checkpoint entry {name!r} has shape {value.shape}, expected {shape}")
        if isinstance(leaf, (int, np.integer)) and not hasattr(leaf, "shape"):
            out.append(type(leaf)(value))
        else:
            out.append(value.astype(dtype, copy=False))
    if len(stored) != len(leaves):
        raise ValueError(f"checkpoint in {str(directory)!r} has {len(stored)} entries, expected {len(leaves)}")
    return jax.tree_util.tree_unflatten(treedef, [leaf for leaf in out]), header["meta"]
