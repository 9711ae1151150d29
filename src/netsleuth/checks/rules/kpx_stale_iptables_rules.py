"""KPX603: a node's iptables rules for a Service do not match its ready endpoints."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.kube_proxy_faults import kpx_stale_iptables_rules_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="KPX603",
    layer=Layer.KUBE_PROXY,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "EndpointSlice"), node_artifacts=("iptables",)),
)
def kpx_stale_iptables_rules(model: ClusterModel) -> Iterator[Finding]:
    """A node's iptables rules for a Service do not match its ready endpoints.

    What it checks:
        On nodes whose ``iptables-save`` shows kube-proxy in iptables mode,
        for every ClusterIP port: the ``KUBE-SERVICES`` jump to its
        ``KUBE-SVC-*`` chain exists when the Service has ready endpoints, the
        ``KUBE-SEP-*`` DNAT targets equal the ready endpoints
        (``ip:targetPort`` from the EndpointSlices), the random split gives
        each endpoint its equal share (kube-proxy writes probability 1/(n-i)
        on rule i and none on the last, so no connection falls through), no
        DNAT target is malformed (``--to-destination :0``), no ``REJECT … has
        no endpoints`` rule remains for a Service that has them, no chain
        remains for a ClusterIP no Service holds (or the old ClusterIP of a
        Service that was deleted and created again), and each NodePort has
        its ``KUBE-NODEPORTS`` rule and no rule remains for a node port the
        Service no longer has. A filtered dump (``iptables-save | grep``)
        is only read for what it shows. Services with
        ``internalTrafficPolicy: Local`` or topology-aware routing are skipped
        (per-node endpoint sets). Failed syncs in kube-proxy's log on that
        node (node files or a cluster-info dump) are added as evidence.

    Why it breaks traffic:
        kube-proxy's rules are what a ClusterIP connection actually follows.
        A missing chain sends ClusterIP traffic nowhere, a stale endpoint
        gets a share of new connections that time out or hit another pod
        that reused the IP, an uneven split overloads one pod, a split that
        falls through or a malformed DNAT loses that share of connections,
        and a leftover REJECT refuses every connection. It means kube-proxy
        on that node stopped syncing (crash, lost API watch, iptables lock
        contention).

    Example:
        ``shop/web`` has ready endpoints ``10.244.1.5:8080`` and
        ``10.244.2.7:8080``; ``worker-2``'s ``KUBE-SVC-XYZ`` still DNATs to
        ``10.244.1.4:8080`` (a deleted pod) and lacks ``10.244.2.7``.

    Fix:
        Restart kube-proxy on the node and read its log for the sync error;
        if it keeps failing, look for another process holding the xtables
        lock or a full conntrack/iptables.

    Confirm live:
        ``iptables-save -t nat | grep KUBE-SVC-XYZ`` on the node;
        ``kubectl get endpointslices -n shop -l kubernetes.io/service-name=web -o wide``;
        ``kubectl -n kube-system logs <kube-proxy-pod-on-node> | tail``.

    References:
        https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-iptables ;
        https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/iptables/proxier.go
    """

    yield from findings_from("KPX603", model, kpx_stale_iptables_rules_faults(model))
