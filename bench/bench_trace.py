"""Benchmark ``netsleuth trace`` on a generated cluster: time per trace after the load.

    python bench/bench_trace.py                 # the envelope: 150,000 pods
    python bench/bench_trace.py --preset large  # 30,000 pods

Goal (issue "Path tracer"): one trace under 100 ms after the load on the
150,000-pod cluster. The cluster comes from ``bench/gen_cluster.py``
(cached under ``bench/out/``). Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def cluster_file(preset: str, seed: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"cluster-{preset}-{seed}.json"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_cluster.py"),
                "--preset",
                preset,
                "--seed",
                str(seed),
                "-o",
                str(path),
            ],
            check=True,
        )
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="envelope")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--traces", type=int, default=50)
    args = ap.parse_args(argv)

    from netsleuth.sources.load import load_offline
    from netsleuth.trace import trace

    path = cluster_file(args.preset, args.seed)
    t0 = time.perf_counter()
    model = load_offline([str(path)])
    load_s = time.perf_counter() - t0

    rng = random.Random(args.seed)
    pods = [p for p in model.pods if p.running and p.namespace != "kube-system"]
    services = [
        s for s in model.services if s.selector and s.ports and s.namespace != "kube-system"
    ]
    queries = []
    for _ in range(args.traces):
        src = rng.choice(pods)
        svc = rng.choice(services)
        queries.append(
            (f"{src.namespace}/{src.name}", f"{svc.namespace}/{svc.name}", svc.ports[0].port)
        )
    # The first trace also pays for one-off work (check registry import, per-model caches).
    t0 = time.perf_counter()
    first = trace(model, *queries[0][:2], port=queries[0][2])
    first_s = time.perf_counter() - t0
    times = []
    verdicts: dict[str, int] = {}
    for src, dst, port in queries:
        t0 = time.perf_counter()
        res = trace(model, src, dst, port=port)
        times.append(time.perf_counter() - t0)
        verdicts[str(res.verdict)] = verdicts.get(str(res.verdict), 0) + 1
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"cluster: {len(model.pods)} pods, {len(model.services)} services, {len(model.network_policies)} policies "
        f"({path.name})"
    )
    print(f"load:          {load_s:8.2f} s")
    print(
        f"first trace:   {first_s * 1000:8.1f} ms  ({len(first.hops)} hops, verdict {first.verdict})"
    )
    print(
        f"trace median:  {statistics.median(times) * 1000:8.1f} ms over {len(times)} traces (goal < 100 ms)"
    )
    print(f"trace p95:     {p95 * 1000:8.1f} ms")
    print(f"verdicts:      {verdicts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
