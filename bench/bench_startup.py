"""Start-up time of the CLI: ``netsleuth --version``, ``--help``, ``scan --help``.

Each command runs ``--runs`` times as a fresh process; the figures are the
minimum and the median wall time, and the minimum CPU time (user + system of
the child, which a busy shared machine inflates less than wall time). Python's
own start-up (``python -c pass``) is printed for reference. With hyperfine on
the PATH, ``--hyperfine`` runs it instead.

    python bench/bench_startup.py [--runs 20] [--bin .venv/bin/netsleuth]

Goal (issue 9): ``--version`` and ``--help`` under 150 ms on the build machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (["--version"], ["--help"], ["scan", "--help"], ["trace", "--help"])


def _once(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(argv: list[str], runs: int) -> dict[str, float]:
    _once(argv)  # warm the page cache and the bytecode cache
    walls, cpus = [], []
    for _ in range(runs):
        w, c = _once(argv)
        walls.append(w)
        cpus.append(c)
    return {
        "wall_min_ms": round(min(walls) * 1000, 1),
        "wall_median_ms": round(statistics.median(walls) * 1000, 1),
        "cpu_min_ms": round(min(cpus) * 1000, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--bin", default=str(ROOT / ".venv" / "bin" / "netsleuth"))
    ap.add_argument("--hyperfine", action="store_true", help="use hyperfine when installed")
    a = ap.parse_args()
    if a.hyperfine and shutil.which("hyperfine"):
        cmds = [" ".join([a.bin, *c]) for c in COMMANDS]
        os.execvp("hyperfine", ["hyperfine", "-N", "--warmup", "3", *cmds])
    python = str(Path(a.bin).parent / "python")
    out = {"python -c pass": measure([python, "-c", "pass"], a.runs)}
    for c in COMMANDS:
        out["netsleuth " + " ".join(c)] = measure([a.bin, *c], a.runs)
    load = os.getloadavg()[0]
    print(json.dumps({"load_average_1m": round(load, 2), "runs": a.runs, "results": out}, indent=2))
    for name, r in out.items():
        print(
            f"{name:28s} wall min {r['wall_min_ms']:6.1f} ms  median {r['wall_median_ms']:6.1f} ms"
            f"  cpu min {r['cpu_min_ms']:6.1f} ms",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
