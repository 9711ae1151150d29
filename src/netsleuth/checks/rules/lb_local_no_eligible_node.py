"""ING812: externalTrafficPolicy Local with no endpoint on any node the load balancer uses."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.service_backends import endpoint_nodes
from netsleuth.model.cluster import ClusterModel, SourceKind
from netsleuth.model.commands import kubectl, merge_patch
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity

EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"


@register(
    id="ING812",
    layer=Layer.LOADBALANCER,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "Node")),
)
def lb_local_no_eligible_node(model: ClusterModel) -> Iterator[Finding]:
    """A LoadBalancer Service with externalTrafficPolicy Local has no endpoint on any node the load balancer may use.

    What it checks: LoadBalancer Services with ``externalTrafficPolicy:
    Local`` and ready endpoints, where every node holding an endpoint is
    one the load balancer does not send to: labelled
    ``node.kubernetes.io/exclude-from-external-load-balancers`` (kubeadm
    puts it on control-plane nodes) or not Ready. ``Local`` with some
    eligible nodes holding endpoints is the normal client-IP-preserving
    set-up (the health check node port steers the load balancer) and is
    not reported.

    Why it breaks traffic: with ``Local`` a node only forwards to endpoints
    on itself, and the cloud controller leaves excluded nodes out of the
    load balancer. If every endpoint sits on excluded nodes, every node in
    the pool fails the health check: the load balancer has no healthy
    backend and connections time out, while the pods are fine.

    Example:
      externalTrafficPolicy: Local
      # ingress-nginx pods pinned to the control plane (nodeSelector), which has
      # node.kubernetes.io/exclude-from-external-load-balancers

    Fix: run endpoints on nodes the load balancer uses (change the pods'
    placement), or set ``externalTrafficPolicy: Cluster`` (the client IP is
    then SNATed).

    Confirm live:
      kubectl get nodes -L node.kubernetes.io/exclude-from-external-load-balancers
      kubectl get endpointslices -n <ns> -l kubernetes.io/service-name=<svc> -o wide

    References:
      https://kubernetes.io/docs/reference/labels-annotations-taints/#node-kubernetes-io-exclude-from-external-load-balancers
      https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip
    """
    live = model.source.kind == SourceKind.LIVE
    for svc in model.services:
        if svc.type != "LoadBalancer" or svc.external_traffic_policy != "Local":
            continue
        if not live and not svc.cluster_ip:
            continue  # an unapplied manifest: no endpoints, no nodes to judge
        have = endpoint_nodes(model, svc)
        if not have:
            continue  # no ready endpoint at all: SVC201/SVC202 say why
        eligible = {
            n
            for n, node in model.nodes.items()
            if EXCLUDE_LABEL not in node.meta.labels and node.ready is not False
        }
        if have & eligible or (not eligible and not model.nodes):
            continue
        why = {
            n: (
                f"labelled {EXCLUDE_LABEL}"
                if n in model.nodes and EXCLUDE_LABEL in model.nodes[n].meta.labels
                else "not Ready"
                if n in model.nodes
                else "not in the input"
            )
            for n in sorted(have)
        }
        if any(v == "not in the input" for v in why.values()):
            continue
        yield finding(
            "ING812",
            model,
            kind="Service",
            meta=svc.meta,
            message=f"LoadBalancer Service {svc.namespace}/{svc.name} has externalTrafficPolicy Local and its "
            f"ready endpoints run only on nodes the load balancer does not use ("
            + "; ".join(f"{n}: {w}" for n, w in why.items())
            + "): every node in the pool fails the health check, connections time out.",
            evidence=[
                Evidence(ref("Service", svc.meta), "spec.externalTrafficPolicy", "Local"),
                *(
                    Evidence(f"Node/{n}", "metadata.labels / Ready", w)
                    for n, w in list(why.items())[:4]
                ),
                Evidence(
                    ref("Service", svc.meta),
                    "eligible nodes",
                    ", ".join(sorted(eligible)[:6]) or "none",
                ),
            ],
            confirm=(
                kubectl("get", "nodes", "-L", EXCLUDE_LABEL),
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
                text="Schedule the pods on nodes the load balancer uses, or set externalTrafficPolicy: "
                "Cluster (the client IP is then SNATed).",
                command=merge_patch(
                    "svc", svc.namespace, svc.name, {"spec": {"externalTrafficPolicy": "Cluster"}}
                ),
            ),
        )
