"""Generate a realistic cluster of any size as one JSON ``List``, deterministic per seed.

    python bench/gen_cluster.py --preset envelope -o bench/out/envelope.json
    python bench/gen_cluster.py --nodes 100 --pods 3000 --services 600 --policies 300 --seed 7 -o c.json

Objects look like ``kubectl get -o json`` output and are self-consistent:
Namespaces (with ``kubernetes.io/metadata.name`` and team/env labels), Nodes
(a /24 podCIDR each from 10.0.0.0/8, InternalIP, nodeInfo, Ready mostly),
Deployments → ReplicaSets → Pods (ownerReferences, pod-template-hash, pod IPs
inside their node's podCIDR, hostIP, conditions, container statuses with a
few CrashLoopBackOff/OOMKilled), Services (ClusterIPs in 10.96.0.0/12, named
and numeric targetPorts, some headless) with EndpointSlices (≤ 100
endpoints each, ready = pod Ready), and NetworkPolicies of realistic shapes
(default-deny, same-app allows, namespace selectors, AND-ed peers,
matchExpressions, ipBlock with except, named ports, endPort ranges, DNS
egress). kube-system holds CoreDNS, kube-proxy and calico-node.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

PRESETS = {
    "small": {"nodes": 3, "pods": 40, "services": 12, "policies": 10, "namespaces": 4},
    "medium": {"nodes": 100, "pods": 3000, "services": 600, "policies": 300, "namespaces": 40},
    "large": {"nodes": 1000, "pods": 30000, "services": 3000, "policies": 2000, "namespaces": 200},
    "envelope": {
        "nodes": 5000,
        "pods": 150000,
        "services": 10000,
        "policies": 10000,
        "namespaces": 500,
    },
}
TEAMS = ("payments", "shop", "search", "identity", "data", "ml", "platform", "growth")
UID = "00000000-0000-4000-8000-"


def _uid(n: int) -> str:
    return f"{UID}{n:012x}"


def _node(i: int, rng: random.Random) -> dict[str, Any]:
    ready = rng.random() > 0.002
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": f"node-{i:05d}",
            "uid": _uid(i),
            "labels": {
                "kubernetes.io/hostname": f"node-{i:05d}",
                "topology.kubernetes.io/zone": f"zone-{i % 3}",
            },
        },
        "spec": {
            "podCIDR": f"10.{i >> 8}.{i & 255}.0/24",
            "podCIDRs": [f"10.{i >> 8}.{i & 255}.0/24"],
        },
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": f"172.16.{i >> 8}.{i & 255}"},
                {"type": "Hostname", "address": f"node-{i:05d}"},
            ],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": "KubeletReady" if ready else "KubeletNotReady",
                }
            ],
            "capacity": {"pods": "110"},
            "allocatable": {"pods": "110"},
            "nodeInfo": {
                "kubeletVersion": "v1.30.4",
                "kubeProxyVersion": "v1.30.4",
                "kernelVersion": "6.1.0-18-amd64",
                "containerRuntimeVersion": "containerd://1.7.13",
                "osImage": "Ubuntu 22.04.4 LTS",
            },
        },
    }


def generate(
    *, nodes: int, pods: int, services: int, policies: int, namespaces: int, seed: int = 1
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    node_pods = [0] * nodes  # pods placed per node (IP = .2 + index)
    for i in range(nodes):
        yield _node(i, rng)
    ns_names = [f"{TEAMS[i % len(TEAMS)]}-{i:04d}" for i in range(namespaces)]
    for n, ns in enumerate(["kube-system", *ns_names]):
        labels = {"kubernetes.io/metadata.name": ns}
        if ns != "kube-system":
            labels |= {
                "team": TEAMS[(n - 1) % len(TEAMS)],
                "env": ("prod", "staging", "dev")[n % 3],
            }
        yield {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "uid": _uid(10_000_000 + n), "labels": labels},
            "status": {"phase": "Active"},
        }
    counter = [0]
    svc_ip = [0]

    def place(
        pod_ns: str,
        name: str,
        labels: dict[str, str],
        owner: dict[str, Any],
        container: dict[str, Any],
        ready: bool,
    ) -> tuple[dict[str, Any], str, str]:
        for _ in range(nodes):
            node = rng.randrange(nodes)
            if node_pods[node] < 250:
                break
        node_pods[node] += 1
        ip = (
            f"10.{node >> 8}.{node & 255}.{node_pods[node] + 1}"
            if node_pods[node] < 254
            else f"10.{node >> 8}.{node & 255}.254"
        )
        counter[0] += 1
        state = {"running": {"startedAt": "2026-11-01T10:00:00Z"}}
        last: dict[str, Any] = {}
        restarts = 0
        if not ready and rng.random() < 0.5:
            state = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 5m0s restarting failed container",
                }
            }
            last = {
                "terminated": {
                    "reason": rng.choice(["Error", "OOMKilled"]),
                    "exitCode": rng.choice([1, 137]),
                }
            }
            restarts = rng.randint(3, 40)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": pod_ns,
                "uid": _uid(counter[0]),
                "labels": labels,
                "ownerReferences": [owner],
            },
            "spec": {
                "nodeName": f"node-{node:05d}",
                "containers": [container],
                "dnsPolicy": "ClusterFirst",
                "serviceAccountName": "default",
            },
            "status": {
                "phase": "Running",
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "hostIP": f"172.16.{node >> 8}.{node & 255}",
                "qosClass": "Burstable",
                "conditions": [
                    {"type": "Ready", "status": "True" if ready else "False"},
                    {"type": "ContainersReady", "status": "True" if ready else "False"},
                ],
                "containerStatuses": [
                    {
                        "name": container["name"],
                        "ready": ready,
                        "restartCount": restarts,
                        "image": container["image"],
                        "state": state,
                        "lastState": last,
                    }
                ],
            },
        }
        return pod, ip, f"node-{node:05d}"

    def workload(
        ns: str,
        app: str,
        replicas: int,
        ports: list[dict[str, Any]],
        *,
        kind: str = "Deployment",
        extra_labels: dict[str, str] | None = None,
    ) -> Iterator[tuple[dict[str, Any], str, str, bool]]:
        labels = {"app": app, **(extra_labels or {})}
        h = f"{rng.getrandbits(40):010x}"[:10]
        container = {
            "name": app.split("-")[0][:20] or "app",
            "image": f"registry.example.com/{app}:1.{rng.randint(0, 9)}",
            "ports": ports,
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"memory": "512Mi"},
            },
            "readinessProbe": {
                "httpGet": {"path": "/ready", "port": ports[0]["containerPort"] if ports else 8080}
            },
        }
        if kind == "Deployment":
            yield_obj = {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": app,
                    "namespace": ns,
                    "uid": _uid(20_000_000 + counter[0]),
                    "labels": labels,
                },
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [container]},
                    },
                },
                "status": {
                    "replicas": replicas,
                    "readyReplicas": replicas,
                    "availableReplicas": replicas,
                },
            }
            yield yield_obj, "", "", True
            rs_name = f"{app}-{h}"
            rs = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": rs_name,
                    "namespace": ns,
                    "uid": _uid(30_000_000 + counter[0]),
                    "labels": {**labels, "pod-template-hash": h},
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": app,
                            "uid": yield_obj["metadata"]["uid"],
                            "controller": True,
                        }
                    ],
                },
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {**labels, "pod-template-hash": h}},
                    "template": {
                        "metadata": {"labels": {**labels, "pod-template-hash": h}},
                        "spec": {"containers": [container]},
                    },
                },
                "status": {"replicas": replicas, "readyReplicas": replicas},
            }
            yield rs, "", "", True
            owner = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": rs_name,
                "uid": rs["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
            pod_labels = {**labels, "pod-template-hash": h}
        else:
            owner = {
                "apiVersion": "apps/v1",
                "kind": kind,
                "name": app,
                "uid": _uid(40_000_000 + counter[0]),
                "controller": True,
            }
            pod_labels = dict(labels)
        for r in range(replicas):
            ready = rng.random() > 0.01
            suffix = f"{rng.getrandbits(25):05x}"[:5]
            pod, ip, node = place(ns, f"{app}-{h}-{suffix}{r}", pod_labels, owner, container, ready)
            yield pod, ip, node, ready

    def service(
        ns: str,
        app: str,
        backends: list[tuple[dict[str, Any], str, str, bool]],
        port_name: str,
        target: int | str,
        headless: bool = False,
    ) -> Iterator[dict[str, Any]]:
        svc_ip[0] += 1
        k = svc_ip[0]
        cip = "None" if headless else f"10.{96 + (k >> 16)}.{(k >> 8) & 255}.{k & 255}"
        yield {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": app,
                "namespace": ns,
                "uid": _uid(50_000_000 + k),
                "labels": {"app": app},
            },
            "spec": {
                "selector": {"app": app},
                "clusterIP": cip,
                "clusterIPs": [cip],
                "type": "ClusterIP",
                "ports": [
                    {
                        "name": port_name,
                        "port": 80 if port_name == "http" else 9090,
                        "targetPort": target,
                        "protocol": "TCP",
                    }
                ],
                "sessionAffinity": "None",
                "ipFamilies": ["IPv4"],
            },
            "status": {"loadBalancer": {}},
        }
        port_num = 8080 if port_name == "http" else 9090
        for s in range(0, max(len(backends), 1), 100):
            chunk = backends[s : s + 100]
            yield {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{app}-{s // 100:05d}",
                    "namespace": ns,
                    "labels": {
                        "kubernetes.io/service-name": app,
                        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    },
                    "ownerReferences": [
                        {"apiVersion": "v1", "kind": "Service", "name": app, "controller": True}
                    ],
                },
                "addressType": "IPv4",
                "endpoints": [
                    {
                        "addresses": [ip],
                        "conditions": {"ready": ready, "serving": ready, "terminating": False},
                        "nodeName": node,
                        "targetRef": {
                            "kind": "Pod",
                            "namespace": ns,
                            "name": pod["metadata"]["name"],
                        },
                    }
                    for pod, ip, node, ready in chunk
                ],
                "ports": [{"name": port_name, "port": port_num, "protocol": "TCP"}],
            }

    # kube-system
    dns = list(
        workload(
            "kube-system",
            "coredns",
            2,
            [
                {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
            ],
            extra_labels={"k8s-app": "kube-dns"},
        )
    )
    for obj, *_ in dns:
        yield obj
    yield {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kube-dns",
            "namespace": "kube-system",
            "labels": {"k8s-app": "kube-dns"},
        },
        "spec": {
            "selector": {"k8s-app": "kube-dns"},
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
            ],
        },
    }
    yield {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kube-dns-0",
            "namespace": "kube-system",
            "labels": {"kubernetes.io/service-name": "kube-dns"},
        },
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": [ip],
                "conditions": {"ready": r},
                "nodeName": nd,
                "targetRef": {
                    "kind": "Pod",
                    "namespace": "kube-system",
                    "name": p["metadata"]["name"],
                },
            }
            for p, ip, nd, r in dns
            if p["kind"] == "Pod"
        ],
        "ports": [
            {"name": "dns", "port": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        ],
    }
    yield {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "data": {
            "config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n"
        },
    }
    yield {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "data": {
            "Corefile": ".:53 {\n    errors\n    health\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
            "       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n    }\n    prometheus :9153\n"
            "    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n"
        },
    }
    for name in ("kube-proxy", "calico-node"):
        yield {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": "kube-system", "labels": {"k8s-app": name}},
            "spec": {
                "selector": {"matchLabels": {"k8s-app": name}},
                "template": {
                    "metadata": {"labels": {"k8s-app": name}},
                    "spec": {
                        "hostNetwork": True,
                        "containers": [{"name": name, "image": f"registry.k8s.io/{name}:v1.30.4"}],
                    },
                },
            },
            "status": {
                "desiredNumberScheduled": nodes,
                "currentNumberScheduled": nodes,
                "numberReady": nodes,
                "numberAvailable": nodes,
            },
        }
    # applications
    apps = max(1, min(services, pods // 3))
    # The pod count asked for, exactly: the first apps take one replica more.
    per_app, extra = divmod(max(apps, pods - 2), apps)
    ns_apps: dict[str, list[str]] = {}
    for a in range(apps):
        ns = ns_names[a % namespaces]
        app = f"svc-{a:05d}"
        ns_apps.setdefault(ns, []).append(app)
        named = rng.random() < 0.5
        ports = [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
        ]
        backends = []
        for obj, ip, node, ready in workload(ns, app, per_app + (a < extra), ports):
            yield obj
            if obj["kind"] == "Pod":
                backends.append((obj, ip, node, ready))
        yield from service(
            ns, app, backends, "http", "http" if named else 8080, headless=rng.random() < 0.02
        )
    # policies
    shapes = (
        "deny-ingress",
        "deny-egress-dns",
        "same-app",
        "from-ns",
        "and-peer",
        "expr",
        "ipblock",
        "range",
    )
    for p in range(policies):
        ns = ns_names[p % namespaces]
        apps_here = ns_apps.get(ns) or ["svc-00000"]
        app = apps_here[p % len(apps_here)]
        shape = shapes[p % len(shapes)]
        name = f"{shape}-{p:05d}"
        spec: dict[str, Any]
        if shape == "deny-ingress":
            spec = {"podSelector": {}, "policyTypes": ["Ingress"]}
        elif shape == "deny-egress-dns":
            spec = {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    },
                    {"to": [{"podSelector": {}}]},
                ],
            }
        elif shape == "same-app":
            spec = {
                "podSelector": {"matchLabels": {"app": app}},
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": {"app": rng.choice(apps_here)}}}],
                        "ports": [{"port": "http"}],
                    }
                ],
            }
        elif shape == "from-ns":
            spec = {
                "podSelector": {"matchLabels": {"app": app}},
                "ingress": [
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": {"team": rng.choice(TEAMS)}}}
                        ],
                        "ports": [{"port": 8080, "protocol": "TCP"}],
                    }
                ],
            }
        elif shape == "and-peer":
            spec = {
                "podSelector": {"matchLabels": {"app": app}},
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {"matchLabels": {"env": "prod"}},
                                "podSelector": {
                                    "matchLabels": {"app": f"svc-{rng.randrange(apps):05d}"}
                                },
                            }
                        ]
                    }
                ],
            }
        elif shape == "expr":
            spec = {
                "podSelector": {
                    "matchExpressions": [
                        {"key": "app", "operator": "In", "values": [app, rng.choice(apps_here)]}
                    ]
                },
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchExpressions": [
                                        {"key": "env", "operator": "NotIn", "values": ["dev"]},
                                        {"key": "team", "operator": "Exists"},
                                    ]
                                }
                            }
                        ]
                    }
                ],
            }
        elif shape == "ipblock":
            spec = {
                "podSelector": {"matchLabels": {"app": app}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "ipBlock": {
                                    "cidr": "10.0.0.0/8",
                                    "except": [f"10.{rng.randrange(20)}.0.0/16"],
                                }
                            }
                        ]
                    }
                ],
                "egress": [
                    {
                        "to": [
                            {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}
                        ],
                        "ports": [{"port": 443, "protocol": "TCP"}],
                    }
                ],
            }
        else:
            spec = {
                "podSelector": {"matchLabels": {"app": app}},
                "ingress": [
                    {
                        "ports": [
                            {"port": 8000, "endPort": 8100, "protocol": "TCP"},
                            {"port": "metrics"},
                        ]
                    }
                ],
            }
        yield {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns, "uid": _uid(60_000_000 + p)},
            "spec": spec,
        }


def write_cluster(path: Path, **params: Any) -> None:
    """Stream the List to ``path`` without holding every object at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(b'{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n')
        first = True
        for obj in generate(**params):
            if not first:
                out.write(b",\n")
            out.write(orjson.dumps(obj))
            first = False
        out.write(b"\n]}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS))
    for k in ("nodes", "pods", "services", "policies", "namespaces"):
        ap.add_argument(f"--{k}", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--yaml", action="store_true", help="multi-document YAML instead of a JSON List"
    )
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args(argv)
    params = dict(PRESETS[a.preset or "small"])
    for k in params:
        if getattr(a, k) is not None:
            params[k] = getattr(a, k)
    if a.yaml:
        import yaml

        with open(a.output, "w") as out:
            yaml.dump_all(
                generate(seed=a.seed, **params),
                out,
                Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
            )
    else:
        write_cluster(Path(a.output), seed=a.seed, **params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
