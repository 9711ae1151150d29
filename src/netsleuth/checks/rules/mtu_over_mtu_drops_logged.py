"""MTU511: a node's kernel logged packets dropped for being larger than the MTU."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.faults import faults_of
from netsleuth.facts.node_evidence_faults import mtu_over_mtu_drops_logged_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="MTU511",
    layer=Layer.MTU,
    severity=Severity.WARNING,
    needs=Needs(any_kinds=("NodeArtifacts",)),
)
def mtu_over_mtu_drops_logged(model: ClusterModel) -> Iterator[Finding]:
    """A node's kernel logged packets dropped for being larger than the MTU.

    What it checks:
        The node's dmesg for the Open vSwitch datapath's ``dropped over-mtu
        packet: 1514 > 1450`` (OVN-Kubernetes, Antrea, OpenShift SDN): a
        packet larger than the device it was switched to. The sizes it
        names are shown.

    Why it breaks traffic:
        A packet dropped this way gets no ICMP "fragmentation needed" back:
        the sender keeps retrying the same size, so small requests work and
        large transfers hang (TLS handshakes with big certificates, file
        uploads, database result sets).

    Example:
        ``[92870.130004] ovs-system: dropped over-mtu packet: 1514 > 1450``
        on ``worker-2``: pods send 1500-byte frames into a 1450-byte tunnel.

    Fix:
        Set the pod (CNI) MTU to the underlay MTU minus the encapsulation
        overhead (Geneve and VXLAN 50 bytes over IPv4), or raise the
        underlay MTU; restart the pods so their interfaces take it.

    Confirm live:
        ``dmesg | grep over-mtu`` on the node; ``kubectl exec <pod> -- ping -M do -s 1422 <other pod IP>``.

    References:
        https://github.com/torvalds/linux/blob/master/net/openvswitch/vport.c ;
        https://docs.openshift.com/container-platform/latest/networking/changing-cluster-network-mtu.html
    """
    yield from findings_from("MTU511", model, faults_of(model, mtu_over_mtu_drops_logged_faults))
