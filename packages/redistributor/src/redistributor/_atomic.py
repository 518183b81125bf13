"""Write a file through a temporary name in the same folder, renamed into place: never half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would, briefly, for every thread)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output_path(path: str | os.PathLike, name: str = "output") -> Path:
    """``path`` as a Path, refusing an existing directory with a clear error."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{name} {str(p)!r} is a directory; give a file name inside it")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = ".tmp", name: str = "output") -> Iterator[str]:
    """Yield a temporary file name next to ``path``; on success it is renamed to ``path``.

    The folder is created if needed.  The file gets the permissions of a newly created file
    (``0o666`` less the umask), not the private ``0o600`` of a temporary file.  On any error the
    temporary file is removed and ``path`` is left as it was.
    """
    p = check_output_path(path, name)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=suffix, dir=p.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
