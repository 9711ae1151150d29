"""MTU501: the pod MTU is larger than the underlay MTU minus the encapsulation overhead."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.mtu_faults import mtu_exceeds_overlay_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="MTU501", layer=Layer.MTU, severity=Severity.ERROR, needs=Needs(node_artifacts=("links",))
)
def mtu_exceeds_overlay(model: ClusterModel) -> Iterator[Finding]:
    """The pod MTU is larger than the underlay MTU minus the encapsulation overhead.

    What it checks:
        On each node with ``ip -d link``: the underlay MTU (the default
        route's device, else ``eth*``/``ens*``), the encapsulation (the
        node's tunnel device — ``flannel.1``, ``vxlan.calico``, ``tunl0``,
        WireGuard — else the CNI's config), and every pod MTU the node shows
        (CNI conflist ``mtu``, host-side veth MTUs, the tunnel device MTU,
        the CNI ConfigMap's ``mtu``/``veth_mtu``) against underlay MTU −
        overhead (VXLAN 50, Geneve 50 + options, IP-in-IP 20, WireGuard 60
        over IPv4 / 80 over IPv6).

    Why it breaks traffic:
        A full-size pod packet plus the tunnel headers no longer fits the
        node's link: it is dropped, often without an ICMP "fragmentation
        needed" reaching the sender. Small requests work; large responses,
        TLS handshakes with big certificates and gRPC streams hang.

    Example:
        eth0 MTU 1500, VXLAN (``flannel.1``), pod veth MTU 1500: the largest
        pod packet that fits is 1450, so 1500-byte packets vanish.

    Fix:
        Set the CNI's MTU to the effective figure (flannel: the ``mtu`` in
        the CNI conflist / let flannel derive it; Calico ``veth_mtu``;
        Cilium ``mtu``), or raise the underlay MTU (jumbo frames) on every
        node; then restart the CNI agents and recreate pods so their
        interfaces get the new MTU.

    Confirm live:
        ``kubectl exec <pod> -- ping -M do -s <effective-28> <pod-ip-on-other-node>`` succeeds and
        ``-s <pod-mtu-28>`` fails; ``ip -d link show`` on the node.

    References:
        https://docs.tigera.io/calico/latest/networking/configuring/mtu ;
        https://docs.cilium.io/en/stable/network/concepts/routing/ ;
        https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md ;
        RFC 7348 (VXLAN)
    """

    yield from findings_from("MTU501", model, mtu_exceeds_overlay_faults(model))
