"""Benchmark ``netsleuth flows``: stream N Hubble flows through the reader and the analysis.

    python bench/bench_flows.py                  # 1,000,000 flows
    python bench/bench_flows.py --flows 200000
    python bench/bench_flows.py --cli            # and the whole command, start to exit

Goal (issue 16): 1,000,000 flows in under 20 s, in constant memory. The
flows (``hubble observe -o json`` GetFlowsResponse lines, ~1.3 KB each) are
generated from the fixtures in ``tests/data/flows/`` — the same pods, all
verdicts and drop reasons, replies (23 % of the lines), retries, 0.5 % drops
— with rotating source ports and times, written as Hubble writes them
(compact JSON), and cached under ``bench/out/``. The run is the library path
of the command (read, resolve, group, check forwarded flows against the
policy engine, then the flow checks); peak RSS is measured in a child
process so the generation does not count. ``--cli`` also runs
``netsleuth flows FILE -f CLUSTER -o json`` (start-up, model load, output)
and prints its wall and CPU time. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DATA = ROOT / "tests" / "data" / "flows"


def flows_file(n: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"hubble-{n}.jsonl"
    if path.exists():
        return path
    base = [
        json.loads(line)
        for line in (DATA / "hubble-observe.json").read_text().splitlines()
        if line.startswith('{"flow"')
    ]
    forwarded = [b for b in base if b["flow"]["verdict"] != "DROPPED"]
    dropped = [b for b in base if b["flow"]["verdict"] == "DROPPED"]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as out:
        for i in range(n):
            rec = (
                dropped[i // 200 % len(dropped)] if i % 200 == 0 else forwarded[i % len(forwarded)]
            )
            f = rec["flow"]
            proto = next(iter(f["l4"]))
            l4 = dict(f["l4"][proto])
            if not f.get("is_reply"):
                l4["source_port"] = 32768 + i % 28000
            sec = i // 20_000
            stamp = f"2026-11-20T{9 + sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}.{i % 20_000 * 50:09d}Z"
            g = dict(f, time=stamp, l4={proto: l4})
            rec = {"flow": g, "node_name": f["node_name"], "time": stamp}
            out.write(json.dumps(rec, separators=(",", ":")))
            out.write("\n")
    tmp.rename(path)
    return path


CHILD = """
import sys, time, resource
t0 = time.perf_counter()
from netsleuth.checks.base import ScanConfig, load_all, run_checks
from netsleuth.flows import summarize
from netsleuth.sources.hubble import read_flows
from netsleuth.sources.load import load_offline
model = load_offline([sys.argv[2]])
t1 = time.perf_counter()
c1 = time.process_time()
s = summarize(model, read_flows([sys.argv[1]], brief=True))  # as `netsleuth flows` does
t2 = time.perf_counter()
cpu = time.process_time() - c1
checks = [c for c in load_all().values() if c.needs.observed == "flows"]
r = run_checks(model, checks, ScanConfig(flows=s))
t3 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{s.counts.total} {t1-t0:.2f} {t2-t1:.2f} {t3-t2:.3f} {rss:.0f} {len(r.findings)} {s.counts.dropped} {cpu:.2f}")
"""


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=1_000_000)
    ap.add_argument("--cli", action="store_true", help="also time the whole command")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    path = flows_file(args.flows)
    gen = time.perf_counter() - t
    size = path.stat().st_size / 1e6
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(DATA / "cluster")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    total, load, stream, checks, rss, findings, dropped, cpu = out
    rate = int(total) / float(stream)
    print(
        f"flows file: {path.name}, {size:.0f} MB ({'cached' if gen < 1 else f'generated in {gen:.0f} s'})"
    )
    print(f"model load: {load} s")
    print(
        f"stream + analysis: {stream} s wall, {cpu} s CPU for {int(total):,} flows "
        f"({rate:,.0f} flows/s), {int(dropped):,} dropped"
    )
    print(f"flow checks: {checks} s, {findings} findings")
    print(f"peak RSS: {rss} MB")
    if args.cli:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        cluster = str(DATA / "cluster")
        subprocess.run(
            [sys.executable, "-m", "netsleuth", "flows", str(path), "-f", cluster, "-o", "json"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(
            f"netsleuth flows (whole command): {wall:.2f} s wall, {cpu:.2f} s CPU, "
            f"peak RSS {after.ru_maxrss / 1024:.0f} MB"
        )
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
