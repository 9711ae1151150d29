"""Benchmark ``netsleuth scan`` on a large synthetic cluster, load included.

    python bench/bench_scan.py              # 150,000 pods
    python bench/bench_scan.py --pods 15000 --keep /tmp/cluster

When ``bench/gen_cluster.py`` exists and exposes ``write_cluster(path, pods)``
it writes the dump; otherwise this script writes its own: one JSON ``List``
per namespace (``kubectl get -o json`` shape) with namespaces, nodes,
Deployments, Running and Ready pods, Services (named targetPorts),
EndpointSlices, a default-deny and an allow policy per namespace, and a
kube-system with CoreDNS. Prints load time, scan time, the slowest checks
and the finding counts. No assertion: figures only.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

PODS_PER_DEPLOYMENT = 3
DEPLOYMENTS_PER_NAMESPACE = 50
NODES = 150


def _meta(name: str, ns: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    return m


def _namespace_items(n: int, first_pod: int) -> list[dict[str, Any]]:
    ns = f"team-{n:04d}"
    items: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": _meta(ns, labels={"kubernetes.io/metadata.name": ns}),
        }
    ]
    k = first_pod
    for d in range(DEPLOYMENTS_PER_NAMESPACE):
        app = f"svc-{d:02d}"
        labels = {"app": app}
        container = {
            "name": app,
            "image": "registry.example.com/app:1.0",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [
                {
                    "name": "NEXT",
                    "value": f"http://svc-{(d + 1) % DEPLOYMENTS_PER_NAMESPACE:02d}.{ns}:80",
                }
            ],
        }
        template = {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
        items.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": _meta(app, ns, labels),
                "spec": {
                    "replicas": PODS_PER_DEPLOYMENT,
                    "selector": {"matchLabels": labels},
                    "template": template,
                },
                "status": {"replicas": 3, "readyReplicas": 3, "availableReplicas": 3},
            }
        )
        endpoints = []
        for r in range(PODS_PER_DEPLOYMENT):
            ip = f"10.{64 + (k >> 16 & 63)}.{k >> 8 & 255}.{k & 255}"
            node = f"node-{k % NODES:03d}"
            name = f"{app}-6d4cf56db6-{r:05d}"
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        **_meta(name, ns, {**labels, "pod-template-hash": "6d4cf56db6"}),
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "ReplicaSet",
                                "name": f"{app}-6d4cf56db6",
                                "controller": True,
                                "uid": "u",
                            }
                        ],
                    },
                    "spec": {"nodeName": node, "containers": [container]},
                    "status": {
                        "phase": "Running",
                        "podIP": ip,
                        "podIPs": [{"ip": ip}],
                        "conditions": [{"type": "Ready", "status": "True"}],
                        "containerStatuses": [
                            {
                                "name": app,
                                "ready": True,
                                "restartCount": 0,
                                "state": {"running": {}},
                            }
                        ],
                    },
                }
            )
            endpoints.append(
                {
                    "addresses": [ip],
                    "conditions": {"ready": True},
                    "nodeName": node,
                    "targetRef": {"kind": "Pod", "name": name, "namespace": ns},
                }
            )
            k += 1
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": _meta(app, ns),
                "spec": {
                    "selector": labels,
                    "clusterIP": f"10.{96 + (n >> 8 & 15)}.{n & 255}.{d + 1}",
                    "ports": [
                        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
                    ],
                },
            }
        )
        items.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "addressType": "IPv4",
                "metadata": _meta(f"{app}-x1", ns, {"kubernetes.io/service-name": app}),
                "endpoints": endpoints,
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }
        )
    items.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("default-deny", ns),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        }
    )
    items.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("allow-same-ns", ns),
            "spec": {
                "podSelector": {},
                "ingress": [
                    {"from": [{"podSelector": {}}], "ports": [{"port": 8080, "protocol": "TCP"}]}
                ],
            },
        }
    )
    return items


def _system_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": _meta("kube-system", labels={"kubernetes.io/metadata.name": "kube-system"}),
        }
    ]
    for i in range(NODES):
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": _meta(f"node-{i:03d}"),
                "spec": {"podCIDR": f"10.{64 + i // 256}.{i % 256}.0/24"},
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "nodeInfo": {"kernelVersion": "6.1.0"},
                },
            }
        )
    dns = {"k8s-app": "kube-dns"}
    items.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("kube-dns", "kube-system"),
            "spec": {
                "selector": dns,
                "clusterIP": "10.96.0.10",
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                ],
            },
        }
    )
    for i in range(2):
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": _meta(f"coredns-{i}", "kube-system", dns),
                "spec": {
                    "nodeName": f"node-{i:03d}",
                    "containers": [
                        {
                            "name": "coredns",
                            "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                            "ports": [
                                {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                            ],
                            "resources": {"limits": {"memory": "512Mi"}},
                        }
                    ],
                },
                "status": {
                    "phase": "Running",
                    "podIP": f"10.64.{i}.2",
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
            }
        )
    return items


def write_cluster(path: Path, pods: int) -> int:
    path.mkdir(parents=True, exist_ok=True)
    (path / "kube-system.json").write_bytes(
        orjson.dumps({"apiVersion": "v1", "kind": "List", "items": _system_items()})
    )
    per_ns = PODS_PER_DEPLOYMENT * DEPLOYMENTS_PER_NAMESPACE
    namespaces = max(1, pods // per_ns)
    for n in range(namespaces):
        doc = {"apiVersion": "v1", "kind": "List", "items": _namespace_items(n, n * per_ns)}
        (path / f"ns-{n:04d}.json").write_bytes(orjson.dumps(doc))
    return namespaces * per_ns


def _external_generator() -> Any | None:
    gen = Path(__file__).with_name("gen_cluster.py")
    if not gen.exists():
        return None
    spec = importlib.util.spec_from_file_location("gen_cluster", gen)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "write_cluster", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=150_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the dump here and keep it")
    args = parser.parse_args(argv)

    from netsleuth.checks.base import load_all, run_checks
    from netsleuth.sources.load import load_offline

    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp) / "cluster"
        t0 = time.perf_counter()
        external = _external_generator()
        if external is not None:
            external(where, args.pods)
            source = "bench/gen_cluster.py"
        else:
            write_cluster(where, args.pods)
            source = "bench_scan's own generator"
        t_gen = time.perf_counter() - t0

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
        f"{len(model.network_policies)} policies, {len(model.nodes)} nodes ({source}, written in {t_gen:.1f} s)"
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
