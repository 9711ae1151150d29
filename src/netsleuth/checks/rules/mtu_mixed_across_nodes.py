"""MTU502: node MTUs differ, so pods on one node send packets another node's path cannot carry."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.mtu_faults import mtu_mixed_across_nodes_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="MTU502", layer=Layer.MTU, severity=Severity.WARNING, needs=Needs(node_artifacts=("links",))
)
def mtu_mixed_across_nodes(model: ClusterModel) -> Iterator[Finding]:
    """Node MTUs differ, so pods on one node send packets another node's path cannot carry.

    What it checks:
        Across nodes with ``ip -d link``: pod MTUs (conflist or veth) that
        differ between nodes, reported on the nodes away from the most common
        value (configuration drift; MTU501 may also report the node if its own
        overlay cannot carry it). Then, for each node A whose pods use MTU
        p (conflist or veth) and fit A's own uplink, the nodes B whose uplink
        MTU u gives p > min(u_A, u_B) − overhead. When no pod MTU is visible,
        uplink MTUs that differ between nodes (jumbo frames on some, 1500 on
        others) are reported on the nodes above the smallest.

    Why it breaks traffic:
        CNIs that auto-detect the MTU set each node's pod MTU from its own
        uplink. Pods on a 9001-MTU node then send 8951-byte packets to pods on
        a 1500-MTU node; the encapsulated packet exceeds the smaller link and
        is dropped, so only cross-node traffic between those node groups
        breaks, and only for large payloads.

    Example:
        ``worker-1`` eth0 9001 with pod MTU 8951 (VXLAN); ``worker-3`` eth0
        1500: pod packets from worker-1 to worker-3 over 1450 bytes are lost.

    Fix:
        Give every node the same uplink MTU, or pin the CNI MTU to the
        smallest effective figure across the cluster (uplink minimum −
        overhead) instead of auto-detection.

    Confirm live:
        ``kubectl exec <pod-on-A> -- ping -M do -s <size-28> <pod-ip-on-B>``;
        ``ip link show eth0`` on both nodes.

    References:
        https://docs.tigera.io/calico/latest/networking/configuring/mtu ;
        https://docs.cilium.io/en/stable/network/concepts/routing/
    """

    yield from findings_from("MTU502", model, mtu_mixed_across_nodes_faults(model))
