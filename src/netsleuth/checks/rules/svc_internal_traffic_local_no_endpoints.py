"""SVC207: internalTrafficPolicy Local with client nodes that have no local endpoint."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.service_backends import endpoint_nodes
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl, merge_patch
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC207",
    layer=Layer.SERVICE,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Service", "Pod", "Node")),
)
def internal_traffic_local_no_endpoints(model: ClusterModel) -> Iterator[Finding]:
    """internalTrafficPolicy: Local, but pods run on nodes with no endpoint of the Service.

    What it checks: Services with `internalTrafficPolicy: Local` that have
    ready endpoints, and nodes that run (non-host-network) pods but hold no
    ready endpoint of the Service.

    Why it breaks traffic: with `Local`, kube-proxy sends in-cluster traffic
    for the ClusterIP only to endpoints on the client's own node. On a node
    without one, the traffic is dropped, so the same client works or fails
    depending on where it was scheduled. It is meant for DaemonSet-backed
    Services (one endpoint per node).

    Example:
      spec:
        internalTrafficPolicy: Local
      # 2 replicas on node-a and node-b; clients on node-c time out

    Fix: run the backend as a DaemonSet on every node that has clients, or
    set `internalTrafficPolicy: Cluster`.

    Confirm live:
      kubectl get endpointslices -n <ns> -l kubernetes.io/service-name=<svc> -o wide
      kubectl get pods -A -o wide --field-selector spec.nodeName=<node>

    References:
      https://kubernetes.io/docs/concepts/services-networking/service-traffic-policy/
    """
    for svc in model.services:
        if svc.internal_traffic_policy != "Local" or svc.type == "ExternalName":
            continue
        have = endpoint_nodes(model, svc)
        if not have:
            continue  # no endpoints at all: SVC201/SVC202 say it
        lacking = sorted(
            n
            for n in model.nodes
            if n not in have
            and any(not p.host_network and p.running for p in model.pods_by_node.get(n, ()))
        )
        if not lacking:
            continue
        shown = ", ".join(lacking[:5]) + (
            f" and {len(lacking) - 5} more" if len(lacking) > 5 else ""
        )
        yield finding(
            "SVC207",
            model,
            kind="Service",
            meta=svc.meta,
            message=f"Service {svc.namespace}/{svc.name} has internalTrafficPolicy Local but no endpoint on "
            f"{shown}: pods there cannot reach it.",
            evidence=[
                Evidence(ref("Service", svc.meta), "spec.internalTrafficPolicy", "Local"),
                Evidence(
                    ref("Service", svc.meta), "nodes with a ready endpoint", ", ".join(sorted(have))
                ),
            ],
            confirm=(
                kubectl(
                    "get",
                    "endpointslices",
                    "-n",
                    svc.namespace,
                    "-l",
                    f"kubernetes.io/service-name={svc.name}",
                    "-o",
                    "wide",
                ),
            ),
            fix=Fix(
                text="Run a backend on every node with clients (DaemonSet) or set internalTrafficPolicy: Cluster.",
                command=merge_patch(
                    "svc", svc.namespace, svc.name, {"spec": {"internalTrafficPolicy": "Cluster"}}
                ),
            ),
        )
