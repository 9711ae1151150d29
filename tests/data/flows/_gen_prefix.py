"""Write tests/data/flows/prefix/: workloads whose names are prefixes of others, and their flows.

Hubble's ``--to-pod shop/api`` selects every pod whose name starts with
``api`` — the ``api-gateway`` and ``api-canary`` pods too. The cluster
(kubeadm, Cilium 1.15.6 as in ``cluster/``, written with the scenario
generator) has, in namespace ``shop`` under default-deny with DNS allowed:

- ``web`` (worker-1), allowed to call ``api-gateway:8080`` only;
- ``api`` (2 pods, ``app=api``), ``api-canary`` (1 pod, ``app=api,
  track=canary``: the canary shares the stable Deployment's ``app`` label,
  so the ``api`` Service sends it traffic) and ``api-gateway`` (1 pod,
  ``app=api-gateway``), all on worker-2.

``hubble-observe.jsonpb`` holds what ``hubble observe -o jsonpb`` (the same
``GetFlowsResponse`` lines as ``-o json``) printed:

1. web -> api-gateway:8080, forwarded (seen leaving worker-1 and delivered
   on worker-2, with the SYN-ACK reply);
2. web -> api:8080 (the first api pod), denied by web's egress policy on
   worker-1: ``POLICY_DENIED``, ``EGRESS``, the SYN retransmitted at +1 s and
   +3 s;
3. web -> an api pod created after the dump (its address is not in the
   model, and worker-1 did not know its name yet: the destination shows the
   namespace and the identity's labels ``app=api`` only), denied the same way.

    .venv/bin/python tests/data/flows/_gen_prefix.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "scenarios" / "_tools"))
sys.path.insert(0, str(HERE))

from _gen_cluster import cilium  # noqa: E402
from _gen_flows import flow, tcp, wrap  # noqa: E402
from apps import (  # noqa: E402
    allow_dns,
    allow_egress_to,
    allow_ingress_from,
    client_app,
    default_deny,
    http_app,
    svc_for,
)
from kube import Cluster  # noqa: E402
from system import base  # noqa: E402

OUT = HERE / "prefix"
IMG = "registry.example.com/shop/{}:2.3.0"
# Cilium security identities (allocated per label set) and endpoint IDs (per node)
IDENTITY = {"web": 48113, "api": 29077, "api-canary": 51962, "api-gateway": 17305}
NEW_API_IP = "10.244.2.57"


def build_cluster() -> tuple[Cluster, dict[str, list[dict[str, Any]]]]:
    c = Cluster("flows-prefix", cni="cilium")
    base(c)
    cilium(c)
    c.namespace("shop")
    pods: dict[str, list[dict[str, Any]]] = {}
    _d, _rs, pods["web"] = client_app(
        c, "web", "shop", image=IMG.format("web"), replicas=1, nodes=["worker-1"]
    )
    for name, replicas, labels in (
        ("api", 2, {"app": "api"}),
        ("api-canary", 1, {"app": "api", "track": "canary"}),
        ("api-gateway", 1, {"app": "api-gateway"}),
    ):
        _d, _rs, pods[name] = http_app(
            c,
            name,
            "shop",
            image=IMG.format(name),
            replicas=replicas,
            nodes=["worker-2"],
            labels=labels,
        )
    svc_for(c, "api", "shop", port=8080)
    svc_for(c, "api-gateway", "shop", port=8080)
    svc_for(c, "web", "shop", port=80)
    default_deny(c, "shop")
    allow_dns(c, "shop")
    allow_egress_to(
        c,
        "allow-web-to-gateway",
        "shop",
        src={"app": "web"},
        dst_ns="shop",
        dst={"app": "api-gateway"},
        port=8080,
    )
    allow_ingress_from(
        c,
        "allow-gateway-from-web",
        "shop",
        dst={"app": "api-gateway"},
        src_ns="shop",
        src={"app": "web"},
        port=8080,
    )
    return c, pods


def _labels(app: str, track: str | None = None) -> list[str]:
    out = [f"k8s:app={app}"]
    out += [
        "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop",
        "k8s:io.cilium.k8s.policy.cluster=default",
        "k8s:io.cilium.k8s.policy.serviceaccount=default",
        "k8s:io.kubernetes.pod.namespace=shop",
    ]
    if track:
        out.append(f"k8s:track={track}")
    return out


def _ep(pod: dict[str, Any], workload: str, local: bool) -> dict[str, Any]:
    meta = pod["metadata"]
    labels = meta["labels"]
    ep: dict[str, Any] = {}
    if local:
        ep["ID"] = 100 + sum(map(ord, meta["name"])) % 3000  # only on the pod's own node
    ep.update(
        {
            "identity": IDENTITY[workload],
            "cluster_name": "default",
            "namespace": "shop",
            "labels": _labels(labels["app"], labels.get("track")),
            "pod_name": meta["name"],
            "workloads": [{"name": workload, "kind": "Deployment"}],
        }
    )
    return ep


def _ip(pod: dict[str, Any]) -> str:
    return str(pod["status"]["podIP"])


def build_flows(pods: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    web, api, gw = pods["web"][0], pods["api"][0], pods["api-gateway"][0]
    out: list[dict[str, Any]] = []
    # 1. web -> api-gateway:8080, forwarded, delivered, answered
    common = {"summary": "TCP Flags: SYN"}
    out.append(
        flow(
            0.10,
            "FORWARDED",
            _ep(web, "web", True),
            _ep(gw, "api-gateway", False),
            _ip(web),
            _ip(gw),
            tcp(43210, 8080, SYN=True),
            "worker-1",
            direction="EGRESS",
            reply=False,
            event=(4, 3),
            point="TO_OVERLAY",
            **common,
        )
    )
    out.append(
        flow(
            0.1006,
            "FORWARDED",
            _ep(web, "web", False),
            _ep(gw, "api-gateway", True),
            _ip(web),
            _ip(gw),
            tcp(43210, 8080, SYN=True),
            "worker-2",
            direction="INGRESS",
            reply=False,
            event=(4, 0),
            point="TO_ENDPOINT",
            **common,
        )
    )
    out.append(
        flow(
            0.1011,
            "FORWARDED",
            _ep(gw, "api-gateway", True),
            _ep(web, "web", False),
            _ip(gw),
            _ip(web),
            tcp(8080, 43210, SYN=True, ACK=True),
            "worker-2",
            direction="INGRESS",
            reply=True,
            event=(4, 3),
            point="TO_OVERLAY",
            summary="TCP Flags: SYN, ACK",
        )
    )
    # 2. web -> api:8080, denied by web's egress policy; SYN retransmitted
    for dt in (0.0, 1.0, 3.0):
        out.append(
            flow(
                2.0 + dt,
                "DROPPED",
                _ep(web, "web", True),
                _ep(api, "api", False),
                _ip(web),
                _ip(api),
                tcp(43300, 8080, SYN=True),
                "worker-1",
                direction="EGRESS",
                reply=False,
                event=(1, 133),
                code=133,
                reason="POLICY_DENIED",
                summary="TCP Flags: SYN",
            )
        )
    # 3. web -> a new api pod, known on worker-1 only by its identity's labels
    new_api = {
        "identity": IDENTITY["api"],
        "cluster_name": "default",
        "namespace": "shop",
        "labels": _labels("api"),
    }
    out.append(
        flow(
            9.0,
            "DROPPED",
            _ep(web, "web", True),
            new_api,
            _ip(web),
            NEW_API_IP,
            tcp(43320, 8080, SYN=True),
            "worker-1",
            direction="EGRESS",
            reply=False,
            event=(1, 133),
            code=133,
            reason="POLICY_DENIED",
            summary="TCP Flags: SYN",
        )
    )
    return out


def main() -> None:
    c, pods = build_cluster()
    c.write(OUT)
    lines = [json.dumps(wrap(f), separators=(",", ":")) for f in build_flows(pods)]
    (OUT / "hubble-observe.jsonpb").write_text("\n".join(lines) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
