"""Node evidence benchmark: a kube-proxy node with many Services, and sniffing speed.

    python bench/bench_node.py                  # 10,000 Services, ~100k iptables rules
    python bench/bench_node.py --services 20000

Generated here (deterministic): ``cluster.yaml`` with N Services, each with an
EndpointSlice of two ready endpoints, and one node whose ``iptables-save`` holds the
rules kube-proxy (iptables mode, v1.30) writes for them: a KUBE-SERVICES jump, a
KUBE-SVC chain with the masquerade mark and a 0.5 probability split, two KUBE-SEP
chains with their DNAT; every tenth Service is a NodePort (KUBE-NODEPORTS, KUBE-EXT).

Figures printed (no assertion; the issue's targets are in parentheses):

- ``parse``: ``parse_iptables_save`` of the dump;
- ``parse+match``: read the node's capture the way the loader does (sniff, parse), then
  the kube-proxy rule check (``KPX603``: every Service's rules against its
  EndpointSlices: missing/stale backends, probability splits, NodePorts) (< 2 s);
- ``sniff``: :func:`netsleuth.sources.node_sniff.sniff` over a capture of about 60 MB
  (the iptables dump, conntrack, routes, links, sysctl, dmesg concatenated under
  ``$ cmd`` headers) in MB/s (>= 50 MB/s);
- ``load``: the whole ``load_offline`` of the folder (YAML manifests included).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NETNS = ROOT / "tests" / "node_artifacts" / "data" / "netns"


def _hash(i: int, salt: str) -> str:
    import hashlib

    return hashlib.sha256(f"{salt}{i}".encode()).hexdigest()[:16].upper()


def generate(n: int, out: Path) -> tuple[Path, int]:
    """Write the cluster and the node's capture; returns the capture and its rule count."""
    import yaml

    items: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}},
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "node-a", "labels": {"kubernetes.io/hostname": "node-a"}},
            "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "192.168.0.10"}],
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        },
    ]
    chains: list[str] = [
        ":KUBE-SERVICES - [0:0]",
        ":KUBE-NODEPORTS - [0:0]",
        ":KUBE-MARK-MASQ - [0:0]",
    ]
    rules: list[str] = ["-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"]
    for i in range(n):
        name = f"svc-{i:05d}"
        cip = f"10.{96 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"
        if cip.endswith(".0") or cip.endswith(".255"):
            cip = cip  # ClusterIPs may end in .0/.255; kube-proxy does not care
        eps = [
            f"10.244.{(2 * i) // 250}.{(2 * i) % 250 + 2}",
            f"10.244.{(2 * i + 1) // 250}.{(2 * i + 1) % 250 + 2}",
        ]
        nodeport = 30000 + i // 10 if i % 10 == 0 else None
        svc: dict[str, object] = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": "bench"},
            "spec": {
                "type": "NodePort" if nodeport else "ClusterIP",
                "clusterIP": cip,
                "clusterIPs": [cip],
                "selector": {"app": name},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}
                    | ({"nodePort": nodeport} if nodeport else {})
                ],
            },
        }
        items.append(svc)
        items.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{name}-abcde",
                    "namespace": "bench",
                    "labels": {"kubernetes.io/service-name": name},
                },
                "addressType": "IPv4",
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                "endpoints": [
                    {"addresses": [ip], "conditions": {"ready": True}, "nodeName": "node-a"}
                    for ip in eps
                ],
            }
        )
        svc_chain = f"KUBE-SVC-{_hash(i, 'svc')}"
        seps = [f"KUBE-SEP-{_hash(i, f'sep{k}')}" for k in range(2)]
        chains += [f":{svc_chain} - [0:0]", *(f":{s} - [0:0]" for s in seps)]
        c = f"bench/{name}:http"
        rules.append(
            f'-A KUBE-SERVICES -d {cip}/32 -p tcp -m comment --comment "{c} cluster IP" '
            f"-m tcp --dport 80 -j {svc_chain}"
        )
        rules.append(
            f'-A {svc_chain} ! -s 10.244.0.0/16 -d {cip}/32 -p tcp -m comment --comment "{c} cluster IP" '
            f"-m tcp --dport 80 -j KUBE-MARK-MASQ"
        )
        rules.append(
            f'-A {svc_chain} -m comment --comment "{c} -> {eps[0]}:8080" -m statistic --mode random '
            f"--probability 0.50000000000 -j {seps[0]}"
        )
        rules.append(f'-A {svc_chain} -m comment --comment "{c} -> {eps[1]}:8080" -j {seps[1]}')
        for sep, ip in zip(seps, eps, strict=True):
            rules.append(f'-A {sep} -s {ip}/32 -m comment --comment "{c}" -j KUBE-MARK-MASQ')
            rules.append(
                f'-A {sep} -p tcp -m comment --comment "{c}" -m tcp -j DNAT --to-destination {ip}:8080'
            )
        if nodeport:
            ext = f"KUBE-EXT-{_hash(i, 'ext')}"
            chains.append(f":{ext} - [0:0]")
            rules.append(
                f'-A KUBE-NODEPORTS -p tcp -m comment --comment "{c}" -m tcp --dport {nodeport} -j {ext}'
            )
            rules.append(
                f'-A {ext} -m comment --comment "masquerade traffic for {c} external destinations" -j KUBE-MARK-MASQ'
            )
            rules.append(f"-A {ext} -j {svc_chain}")
    rules.append(
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be '
        'the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'
    )
    dump = (
        "# Generated by iptables-nft-save v1.8.9 (nf_tables)\n*nat\n"
        ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
        + "\n".join(chains)
        + "\n-A PREROUTING -j KUBE-SERVICES\n-A OUTPUT -j KUBE-SERVICES\n"
        + "\n".join(rules)
        + "\nCOMMIT\n# Completed\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    (out / "cluster.yaml").write_text(
        yaml.dump({"apiVersion": "v1", "kind": "List", "items": items}, Dumper=dumper)
    )
    node = out / "node-a"
    node.mkdir(exist_ok=True)
    capture = node / "capture.txt"
    capture.write_text("$ iptables-save\n" + dump)
    return capture, len(rules) + 2


def sniff_corpus(dump: str, target_mb: float) -> str:
    """About ``target_mb`` MB of captures concatenated under ``$ cmd`` headers."""
    parts = [dump]
    for name in (
        "conntrack-S.txt",
        "ip-route-all.txt",
        "ip-d-link.txt",
        "sysctl.txt",
        "ip-addr.txt",
    ):
        parts.append((NETNS / name).read_text())
    dmesg = (ROOT / "tests" / "node_artifacts" / "data" / "documented" / "dmesg.txt").read_text()
    parts.append("$ dmesg\n" + dmesg)
    block = "".join(p if p.endswith("\n") else p + "\n" for p in parts)
    reps = max(1, int(target_mb * 1e6 / len(block)))
    return block * reps


def best(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench_node")
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--sniff-mb", type=float, default=60.0)
    args, _ = ap.parse_known_args(argv)

    from netsleuth.facts.kube_proxy_faults import kpx_stale_iptables_rules_faults
    from netsleuth.sources.load import load_offline
    from netsleuth.sources.node_artifacts import parse_iptables_save
    from netsleuth.sources.node_bundle import read_node_bundle
    from netsleuth.sources.node_sniff import sniff

    with tempfile.TemporaryDirectory(prefix="netsleuth-bench-node-") as tmp:
        capture, nrules = generate(args.services, Path(tmp))
        text = capture.read_text()
        dump = text.split("\n", 1)[1]
        t_parse = best(lambda: parse_iptables_save(dump))
        t0 = time.perf_counter()
        model = load_offline([tmp])
        t_load = time.perf_counter() - t0
        assert "node-a" in model.node_artifacts, [p.describe() for p in model.problems][:5]
        t_read = best(lambda: read_node_bundle(capture.parent))
        faults: list[object] = []
        t_match = best(
            lambda: faults.__setitem__(slice(None), list(kpx_stale_iptables_rules_faults(model)))
        )
        corpus = sniff_corpus(text, args.sniff_mb)
        mb = len(corpus.encode()) / 1e6
        t_sniff = best(lambda: sniff(corpus), runs=2)
    print(f"services {args.services:,}, iptables rules {nrules:,}, dump {len(dump) / 1e6:.1f} MB")
    print(f"parse iptables-save        {t_parse:7.3f} s")
    print(f"read capture (sniff+parse) {t_read:7.3f} s")
    print(f"match KPX603 vs slices     {t_match:7.3f} s   ({len(faults)} faults; expected 0)")
    print(f"parse+match                {t_read + t_match:7.3f} s   (target < 2 s)")
    print(
        f"sniff {mb:.0f} MB               {t_sniff:7.3f} s = {mb / t_sniff:.0f} MB/s   (target >= 50 MB/s)"
    )
    print(f"load_offline (all)         {t_load:7.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
