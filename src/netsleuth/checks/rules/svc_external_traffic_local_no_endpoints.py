"""SVC208: externalTrafficPolicy Local with nodes that have no local endpoint."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.service_backends import endpoint_nodes
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC208",
    layer=Layer.SERVICE,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Service", "Pod", "Node")),
)
def external_traffic_local_no_endpoints(model: ClusterModel) -> Iterator[Finding]:
    """externalTrafficPolicy: Local on a NodePort/LoadBalancer Service, with nodes lacking endpoints.

    What it checks: NodePort and LoadBalancer Services with
    `externalTrafficPolicy: Local` that have ready endpoints on some nodes
    but not on others. Warning for NodePort Services (clients pick the
    node); info for LoadBalancer Services, whose load balancer health-checks
    `healthCheckNodePort` and stops sending to nodes without an endpoint.

    Why it breaks traffic: with `Local`, a node forwards external traffic
    only to endpoints on itself (to keep the client IP). A NodePort hit on a
    node without one is dropped. Behind a load balancer the health check
    removes those nodes, but traffic concentrates on the few nodes that
    have endpoints, and during rollouts the health check lags and drops
    connections.

    Example:
      spec:
        type: NodePort
        externalTrafficPolicy: Local
      # pods on node-a only; curl node-b:30080 times out

    Fix: use `externalTrafficPolicy: Cluster` unless you need the client IP;
    otherwise run endpoints on every node that receives traffic (DaemonSet,
    or topology spread) and target only those nodes.

    Confirm live:
      kubectl get svc <svc> -n <ns> -o jsonpath='{.spec.externalTrafficPolicy} {.spec.healthCheckNodePort}'
      kubectl get endpointslices -n <ns> -l kubernetes.io/service-name=<svc> -o wide

    References:
      https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip
      https://kubernetes.io/docs/reference/networking/virtual-ips/#external-traffic-policy
    """
    for svc in model.services:
        if svc.external_traffic_policy != "Local" or svc.type not in ("NodePort", "LoadBalancer"):
            continue
        have = endpoint_nodes(model, svc)
        if not have:
            continue
        lacking = sorted(
            n for n, node in model.nodes.items() if n not in have and not node.unschedulable
        )
        if not lacking:
            continue
        shown = ", ".join(lacking[:5]) + (
            f" and {len(lacking) - 5} more" if len(lacking) > 5 else ""
        )
        lb = svc.type == "LoadBalancer"
        consequence = (
            (
                "the load balancer's health check must keep traffic off them, and load concentrates on "
                f"{len(have)} node(s)"
            )
            if lb
            else "NodePort traffic arriving there is dropped"
        )
        yield finding(
            "SVC208",
            model,
            kind="Service",
            meta=svc.meta,
            severity=Severity.INFO if lb else Severity.WARNING,
            message=f"{svc.type} Service {svc.namespace}/{svc.name} has externalTrafficPolicy Local and no "
            f"endpoint on {shown}: {consequence}.",
            evidence=[
                Evidence(ref("Service", svc.meta), "spec.externalTrafficPolicy", "Local"),
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
                text="Use externalTrafficPolicy: Cluster unless the client IP is needed, or run endpoints on "
                "every node that receives traffic."
            ),
        )
