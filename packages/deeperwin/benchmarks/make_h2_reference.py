"""Compute the shipped H2 reference curve: pyscf FCI in a large basis over bond lengths.

    python benchmarks/make_h2_reference.py --basis aug-cc-pV5Z --out src/deeperwin/data/h2_fci_av5z.json

FCI is :func:`deeperwin.baseline.fci`, which for two electrons uses the direct
two-electron solver (agrees with pyscf's FCI solver to 1e-11 hartree where both run;
pyscf's own solver needs too much memory in aug-cc-pV5Z). FCI is exact within the basis; aug-cc-pV5Z leaves a basis-set error of
a few hundredths of a millihartree at 1.4 bohr (checked against Kolos & Wolniewicz in
tests/test_pes.py). The grid is 1.0 to 3.0 bohr in steps of 0.2 plus 0.025 steps from
1.30 to 1.50 bohr around the minimum (for fitting). Finished points are appended to
``<out>.partial.jsonl`` and reused when the same command is run again (resume). The JSON records the command, the
pyscf version and the time taken; it is written to a temporary name and renamed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def bond_length_grid() -> np.ndarray:
    """The bond lengths (bohr) of the shipped curve."""
    coarse = np.arange(1.0, 3.0 + 1e-9, 0.2)
    fine = np.arange(1.30, 1.50 + 1e-9, 0.025)
    return np.unique(np.round(np.concatenate([coarse, fine]), 4))


def _point(args: tuple[float, str, int]) -> tuple[float, float, float, float]:
    """HF and FCI energy at one bond length (run in a worker process)."""
    r, basis, threads = args
    from pyscf import lib

    from deeperwin.baseline import fci, hartree_fock
    from deeperwin.systems import Molecule

    t = time.perf_counter()
    with lib.with_omp_threads(threads):
        mol = Molecule.from_nuclei(["H", "H"], [[0, 0, 0], [float(r), 0, 0]], name="H2")
        e_hf = hartree_fock(mol, basis).energy
        e_fci = fci(mol, basis)
    return float(r), e_hf, e_fci, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--basis", default="aug-cc-pV5Z", help="pyscf basis name")
    parser.add_argument("--out", type=Path, default=Path("src/deeperwin/data/h2_fci_av5z.json"))
    parser.add_argument("--threads", type=int, default=1, help="pyscf OpenMP threads per worker")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (bond lengths in parallel)")
    args = parser.parse_args(argv)

    import multiprocessing

    import pyscf

    grid = bond_length_grid()
    start = time.perf_counter()
    results = {}
    partial = args.out.with_name(args.out.name + ".partial.jsonl")
    if partial.exists():
        for line in partial.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["basis"] == args.basis and rec["pyscf_version"] == pyscf.__version__:
                results[rec["r"]] = (rec["hf"], rec["fci"])
    jobs = [(float(r), args.basis, args.threads) for r in grid if float(r) not in results]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool, partial.open("a", encoding="utf-8") as log:
        for r, hf, e, dt in pool.imap_unordered(_point, jobs):
            results[r] = (hf, e)
            log.write(json.dumps({"r": r, "hf": hf, "fci": e, "basis": args.basis, "pyscf_version": pyscf.__version__}) + "\n")
            log.flush()
            print(f"R = {r:.4f} bohr  HF {hf:.8f}  FCI {e:.8f}  ({dt:.1f} s)", flush=True)
    e_hf = [results[float(r)][0] for r in grid]
    e_fci = [results[float(r)][1] for r in grid]
    data = {
        "description": f"H2 ground state (singlet), clamped nuclei, non-relativistic: pyscf FCI and RHF in {args.basis}",
        "system": "H2",
        "method": "FCI",
        "basis": args.basis,
        "units": {"bond_length": "bohr", "energy": "hartree"},
        "command": f"python benchmarks/make_h2_reference.py --basis {args.basis} --out {args.out.as_posix()} --workers {args.workers}",
        "pyscf_version": pyscf.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "created_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wall_time_s": round(time.perf_counter() - start, 1),
        "bond_lengths": [float(r) for r in grid],
        "energies": [float(e) for e in e_fci],
        "hf_energies": [float(e) for e in e_hf],
    }
    fd, tmp = tempfile.mkstemp(prefix=args.out.name, suffix=".tmp", dir=args.out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.write("\n")
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600
        os.replace(tmp, args.out)
        partial.unlink()
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {args.out} ({len(grid)} bond lengths, {data['wall_time_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
