"""CNI421: a node's local routing table claims addresses of pods or Services."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, findings_from, register
from netsleuth.facts.faults import faults_of
from netsleuth.facts.node_evidence_faults import cni_local_route_shadows_pods_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="CNI421",
    layer=Layer.NODE,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Node",), node_artifacts=("routes",)),
    config=True,
)
def cni_local_route_shadows_pods(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """A node's local routing table claims addresses of pods or Services.

    What it checks:
        The ``local`` routes of each node (``ip route show table local`` or
        ``table all``): one that covers another node's pod CIDR, a pod's IP,
        or the Service CIDR. Two kinds of local addresses are expected and
        skipped: the node's own CNI gateway inside its own pod CIDR (``cni0``
        10.244.1.1, ``flannel.1`` 10.244.1.0…) when no pod has that IP, and
        the ClusterIPs kube-proxy binds to ``kube-ipvs0`` in IPVS mode.

    Why it breaks traffic:
        The local table is consulted first: the kernel delivers anything it
        matches to the node itself. Packets from this node's pods to the
        shadowed pods or Services never reach the overlay or kube-proxy's
        DNAT; they are answered by the node (connection refused) or vanish.
        Usually a leftover address from an old CNI, a VPN or a mistyped
        ``ip addr add``.

    Example:
        ``worker-1``: ``local 10.244.3.0/24 dev lo table local scope host``
        while ``worker-3`` has podCIDR ``10.244.3.0/24``.

    Fix:
        Delete the route (``ip route del local 10.244.3.0/24 dev lo table
        local``) or the address that created it, and remove it from whatever
        configuration adds it at boot.

    Confirm live:
        ``ip route show table local`` on the node;
        ``ip route get 10.244.3.5`` (says ``local`` when shadowed).

    References:
        https://man7.org/linux/man-pages/man8/ip-route.8.html ;
        https://kubernetes.io/docs/concepts/cluster-administration/networking/
    """
    yield from findings_from(
        "CNI421", model, faults_of(model, cni_local_route_shadows_pods_faults, config.service_cidr)
    )
