"""KPX604: a node's IPVS virtual server for a Service does not match its ready endpoints."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.kube_proxy_faults import kpx_stale_ipvs_rules_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="KPX604",
    layer=Layer.KUBE_PROXY,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "EndpointSlice"), node_artifacts=("ipvs",)),
)
def kpx_stale_ipvs_rules(model: ClusterModel) -> Iterator[Finding]:
    """A node's IPVS virtual server for a Service does not match its ready endpoints.

    What it checks:
        On nodes in IPVS mode (``ipvsadm -Ln``), for every ClusterIP port:
        the virtual server exists, and its real servers with weight > 0
        equal the ready endpoints from the EndpointSlices (weight-0 real
        servers are terminating endpoints kube-proxy drains on purpose).
        Services with ``internalTrafficPolicy: Local`` or topology-aware routing
        are skipped (per-node endpoint sets).

    Why it breaks traffic:
        IPVS forwards ClusterIP connections to exactly these real servers: a
        missing virtual server leaves the ClusterIP unanswered on that node,
        a stale real server takes a share of connections that fail, and a
        missing one gets no traffic from that node.

    Example:
        ``TCP 10.96.40.2:80 rr -> 10.244.1.4:8080`` on ``worker-1`` while
        the only ready endpoint is ``10.244.2.9:8080``.

    Fix:
        Restart kube-proxy on the node and read its log for the failed sync.

    Confirm live:
        ``ipvsadm -Ln -t 10.96.40.2:80`` on the node;
        ``kubectl get endpointslices -n <ns> -l kubernetes.io/service-name=<svc> -o wide``.

    References:
        https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-ipvs ;
        https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/ipvs/README.md
    """

    yield from findings_from("KPX604", model, kpx_stale_ipvs_rules_faults(model))
