"""CNI412: a node routes to other nodes' podCIDRs, but not to one of them."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.cni_health import cni_pod_cidr_route_missing_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="CNI412",
    layer=Layer.NODE,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Node",), node_artifacts=("routes",)),
)
def cni_pod_cidr_route_missing(model: ClusterModel) -> Iterator[Finding]:
    """A node routes to other nodes' podCIDRs, but not to one of them.

    What it checks:
        The node's ``ip route`` (main table) against every other node's
        ``spec.podCIDR``. It fires only where the CNI programs a route per
        node — the node has a specific route (not the default route) to at
        least one other node's podCIDR — and none to another's, or only a
        ``blackhole``/``unreachable`` one. CNIs that route pods without
        per-node routes (the AWS VPC CNI, Cilium's eBPF host routing, cloud
        routes behind the default route) are never flagged.

    Why it breaks traffic:
        Packets from the node's pods to pods on that other node follow the
        default route to the underlay gateway, which knows nothing of pod
        addresses, and vanish: every cross-node connection between the two
        times out, while everything else works.

    Example:
        ``worker-1`` has ``10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink``
        but nothing for ``worker-2``'s ``10.244.2.0/24``: the flannel agent
        on ``worker-1`` missed the node (a failed watch, a restart mid-sync).

    Fix:
        Restart the CNI agent on the node (it re-programs every route from
        the node list); find out why it missed the node (its log).

    Confirm live:
        ``ip route get <a pod IP on the other node>`` on the node (the route
        it picks); a ping between pods of the two nodes.

    References:
        https://kubernetes.io/docs/concepts/cluster-administration/networking/ ;
        https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#vxlan
    """

    yield from findings_from("CNI412", model, cni_pod_cidr_route_missing_faults(model))
