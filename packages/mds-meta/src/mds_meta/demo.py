"""Run the installed tools' demos (`mds demo`), each in its own process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from mds_meta.tools import Tool, installed_version

__all__ = ["DemoResult", "run_demos"]

# Runs `<tool>.demo.run_demo(out, quiet=...)` and writes its summary as JSON.
_RUNNER = """
import json, sys
from importlib import import_module
summary = import_module(sys.argv[1] + ".demo").run_demo(sys.argv[2], quiet=sys.argv[3] == "1")
with open(sys.argv[4], "w", encoding="utf-8") as fh:
    json.dump({"headline": str(summary["headline"]),
               "files": [str(f) for f in summary["files"]]}, fh)
"""


@dataclass
class DemoResult:
    """What one tool's demo did."""

    tool: str
    status: str
    """``ok``, ``failed`` or ``not installed``."""
    seconds: float = 0.0
    headline: str = ""
    files: list[str] = field(default_factory=list)
    message: str = ""


def run_demos(tools: list[Tool], out_dir: str | Path, *, quiet: bool = True) -> list[DemoResult]:
    """Run the demo of each installed tool in `tools`, writing under ``out_dir/<tool>``.

    A tool that is not installed is reported with the command that installs it; a demo
    that fails is reported with the last line of its error output, and the others still run.
    """
    out = Path(out_dir)
    results = []
    for tool in tools:
        if installed_version(tool.dist) is None:
            results.append(DemoResult(tool.dist, "not installed", message=tool.install))
            continue
        target = out / tool.dist
        target.mkdir(parents=True, exist_ok=True)
        summary_file = target / ".mds-demo-summary.json"
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _RUNNER, tool.module, str(target), "1" if quiet else "0",
             str(summary_file)],
            stderr=subprocess.PIPE, text=True,
        )
        seconds = time.perf_counter() - start
        if proc.returncode != 0 or not summary_file.exists():
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            results.append(DemoResult(tool.dist, "failed", seconds,
                                      message=lines[-1] if lines else f"exit {proc.returncode}"))
            continue
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        summary_file.unlink()
        results.append(DemoResult(tool.dist, "ok", seconds, summary["headline"], summary["files"]))
    return results
