"""Write tests/data/flows/cluster/cluster.yaml: the cluster the Hubble fixtures were observed on.

A kubeadm cluster (cp-1, worker-1, worker-2) with Cilium 1.15 as the CNI
(kube-proxy kept, ``kube-proxy-replacement: "false"``, VXLAN tunnel, Hubble
and Hubble Relay on), built with the scenario generator's helpers:

- checkout/checkout-web (worker-1) calls payments/payments-api:8080
  (worker-2); both namespaces are default-deny with DNS allowed and the
  pair allowed on TCP 8080 (the healthy-cross-node policies);
- reports/report-job (worker-1) has no policy of its own, and nothing in
  payments admits it: its calls to payments-api:8080 are denied at the
  destination's ingress.

    .venv/bin/python tests/data/flows/_gen_cluster.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scenarios" / "_tools"))

from apps import allow_dns, allow_egress_to, allow_ingress_from, client_app, default_deny  # noqa: E402
from gen import checkout_payments  # noqa: E402
from kube import T0, Cluster  # noqa: E402
from system import base  # noqa: E402

CILIUM_IMG = "quay.io/cilium/cilium:v1.15.6"


def cilium(c: Cluster) -> None:
    c.configmap(
        "cilium-config",
        "kube-system",
        {
            "cluster-name": "default",
            "cluster-pool-ipv4-cidr": "10.244.0.0/16",
            "enable-hubble": "true",
            "enable-ipv4": "true",
            "enable-policy": "default",
            "hubble-listen-address": ":4244",
            "hubble-metrics": "dns drop tcp flow port-distribution icmp httpV2",
            "hubble-metrics-server": ":9965",
            "ipam": "kubernetes",
            "kube-proxy-replacement": "false",
            "routing-mode": "tunnel",
            "tunnel-protocol": "vxlan",
            "mtu": "0",
        },
    )
    agent = c.container(
        "cilium-agent",
        CILIUM_IMG,
        env=[
            {
                "name": "K8S_NODE_NAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
            },
            {
                "name": "CILIUM_K8S_NAMESPACE",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
            },
        ],
        resources={"requests": {"cpu": "100m", "memory": "128Mi"}},
        security_context={"privileged": True},
        readiness={
            "httpGet": {"host": "127.0.0.1", "path": "/healthz", "port": 9879, "scheme": "HTTP"},
            "failureThreshold": 3,
            "periodSeconds": 30,
            "successThreshold": 1,
            "timeoutSeconds": 5,
        },
    )
    c.daemonset(
        "cilium",
        "kube-system",
        labels={"k8s-app": "cilium"},
        containers=[agent],
        pod_spec_extra={
            "hostNetwork": True,
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "priorityClassName": "system-node-critical",
            "serviceAccountName": "cilium",
            "tolerations": [{"operator": "Exists"}],
        },
    )
    cp = next(iter(c.nodes))
    for name, image, labels in (
        (
            "cilium-operator",
            "quay.io/cilium/operator-generic:v1.15.6",
            {"io.cilium/app": "operator", "name": "cilium-operator"},
        ),
        ("hubble-relay", "quay.io/cilium/hubble-relay:v1.15.6", {"k8s-app": "hubble-relay"}),
    ):
        c.deployment(
            name,
            "kube-system",
            labels=labels,
            containers=[c.container(name, image, resources={})],
            replicas=1,
            nodes=[cp],
            created=T0,
            pod_spec_extra={
                "serviceAccountName": name,
                "tolerations": [{"operator": "Exists"}],
            },
        )


def build() -> Cluster:
    c = Cluster("flows-shop", cni="cilium")
    base(c)
    cilium(c)
    checkout_payments(c, pay_nodes=["worker-2"], chk_nodes=["worker-1"], chk_replicas=1)
    for ns in ("checkout", "payments"):
        default_deny(c, ns)
        allow_dns(c, ns)
    allow_egress_to(
        c,
        "allow-egress-payments",
        "checkout",
        src={"app": "checkout-web"},
        dst_ns="payments",
        dst={"app": "payments-api"},
        port=8080,
    )
    allow_ingress_from(
        c,
        "allow-from-checkout",
        "payments",
        dst={"app": "payments-api"},
        src_ns="checkout",
        src={"app": "checkout-web"},
        port=8080,
    )
    c.namespace("reports")
    client_app(
        c,
        "report-job",
        "reports",
        image="registry.example.com/reports/report-job:1.4.2",
        replicas=1,
        nodes=["worker-1"],
    )
    return c


if __name__ == "__main__":
    out = Path(__file__).parent / "cluster"
    out.mkdir(exist_ok=True)
    build().write(out)
    print("wrote", out)
