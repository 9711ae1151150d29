"""Benchmark the lab: ``lab up`` for 3 nodes x 10 pods, conformance on it, ``lab down``.

    sudo python bench/bench_lab.py                 # 3 nodes x 10 pods (the goal: up < 20 s)
    sudo python bench/bench_lab.py --nodes 5 --pods-per-node 20

Needs root, iproute2, iptables and dnsmasq; prints "skipped" otherwise. The
cluster comes from ``bench/gen_cluster.py`` (Deployments, Services with
EndpointSlices, NetworkPolicies of realistic shapes), cached under
``bench/out/``. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def cluster_file(nodes: int, pods: int, seed: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"lab-{nodes}x{pods}-{seed}.json"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_cluster.py"),
                "--nodes", str(nodes),
                "--pods", str(nodes * (pods + 4)),  # kube-system and a few not running
                "--services", str(max(3, nodes * pods // 4)),
                "--policies", str(max(2, nodes * pods // 3)),
                "--namespaces", "3",
                "--seed", str(seed),
                "-o", str(path),
            ],
            check=True,
        )  # fmt: skip
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--pods-per-node", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=0.5, help="conformance connect timeout")
    args = ap.parse_args(argv or [])
    missing = [t for t in ("ip", "iptables-restore", "dnsmasq") if shutil.which(t) is None]
    if os.geteuid() != 0 or missing:
        print("skipped: needs root and " + ", ".join(missing or ["root"]))
        return 0
    sys.path.insert(0, str(HERE.parent / "src"))
    from netsleuth.lab import build
    from netsleuth.probe.in_lab import conformance_in_lab
    from netsleuth.sources.load import load_offline

    path = cluster_file(args.nodes, args.pods_per_node, args.seed)
    t = time.perf_counter()
    model = load_offline([str(path)])
    load_s = time.perf_counter() - t
    name = "bench" + secrets.token_hex(3)
    t = time.perf_counter()
    state = build.up(model, name, paths=[str(path)], max_pods=args.pods_per_node)
    up_s = time.perf_counter() - t
    try:
        plan = state.plan
        assert plan is not None
        t = time.perf_counter()
        rep = conformance_in_lab(model, name, timeout=args.timeout)
        conf_s = time.perf_counter() - t
    finally:
        t = time.perf_counter()
        build.down(name)
        down_s = time.perf_counter() - t
    print(f"cluster: {path.name}: {len(model.nodes)} nodes, {len(model.pods)} pods in the model")
    print(f"lab: {len(plan.nodes)} nodes, {len(plan.pods)} pods, {len(state.netns)} namespaces")
    print(f"load {load_s:.2f} s")
    print(
        f"lab up {up_s:.2f} s (goal < 20 s): "
        + ", ".join(f"{k} {v:.2f}" for k, v in state.timings.items())
    )
    print(
        f"conformance {conf_s:.2f} s: {rep.pairs} probes, {rep.agree} agree, {len(rep.disagree)} disagree"
    )
    print(f"lab down {down_s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
