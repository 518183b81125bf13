"""Atomic file writing shared by the file readers and writers of faket."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def check_output_path(path: str | os.PathLike, *, overwrite: bool, name: str = "path") -> Path:
    """Return ``path`` as a Path after checking it may be written.

    Raises
    ------
    FileExistsError
        If the file exists and ``overwrite`` is false.
    IsADirectoryError
        If ``path`` is a directory.
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{name}={str(p)!r} is a directory; expected a file name")
    if p.exists() and not overwrite:
        raise FileExistsError(f"{name}={str(p)!r} exists; pass overwrite=True (CLI: --overwrite) to replace it")
    return p


def atomic_write(path: str | os.PathLike, writer: Callable[[Path], None], *, suffix: str = "") -> Path:
    """Call ``writer(tmp)`` on a temporary file next to ``path``, then rename it to ``path``.

    Nothing is left behind when ``writer`` raises.
    """
    p = Path(path)
    directory = p.parent if str(p.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {str(directory)!r} of output file {str(p)!r} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=suffix + ".tmp", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return p


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def all_or_nothing(paths: list[Path]) -> Iterator[None]:
    """Remove every path in ``paths`` that was created inside the block when the block raises."""
    existed = {p: p.exists() for p in paths}
    try:
        yield
    except BaseException:
        for p in paths:
            if not existed[p] and p.exists() and p.is_file():
                with contextlib.suppress(OSError):
                    p.unlink()
        raise
