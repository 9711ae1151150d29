"""Benchmark ``netsleuth scan`` on a generated cluster, load included.

    python bench/bench_scan.py                  # the envelope: 150,000 pods
    python bench/bench_scan.py --preset large   # 30,000 pods

The cluster comes from ``bench/gen_cluster.py`` (cached under ``bench/out/``).
Prints load time, scan time, the slowest checks and the finding counts. Goal
(issue "Cluster scan"): under 20 s including load at the envelope. No assertion:
figures only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_trace import cluster_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="envelope")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from netsleuth.checks.base import load_all, run_checks
    from netsleuth.sources.load import load_offline

    where = cluster_file(args.preset, args.seed)
    source = where.name
    t0 = time.perf_counter()
    model = load_offline([str(where)])
    t_load = time.perf_counter() - t0

    checks = list(load_all().values())
    per_check: list[tuple[float, str, int]] = []
    findings = 0
    t0 = time.perf_counter()
    for c in checks:
        t1 = time.perf_counter()
        result = run_checks(model, [c])
        per_check.append((time.perf_counter() - t1, c.id, len(result.findings)))
        findings += len(result.findings)
    t_scan = time.perf_counter() - t0

    print(
        f"cluster: {len(model.pods)} pods, {len(model.services)} services, "
        f"{len(model.network_policies)} policies, {len(model.nodes)} nodes ({source})"
    )
    print(f"load:  {t_load:6.2f} s")
    print(f"scan:  {t_scan:6.2f} s  ({len(checks)} checks, {findings} findings)")
    print(f"total: {t_load + t_scan:6.2f} s  (goal < 20 s)")
    print("slowest checks:")
    for dt, cid, n in sorted(per_check, reverse=True)[:8]:
        print(f"  {cid:8s} {dt:6.2f} s  {n} findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
