"""CNI423: a node's kernel logged neighbour (ARP) table overflows."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.faults import faults_of
from netsleuth.facts.node_evidence_faults import cni_neighbour_table_overflow_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="CNI423",
    layer=Layer.NODE,
    severity=Severity.WARNING,
    needs=Needs(any_kinds=("NodeArtifacts",)),
)
def cni_neighbour_table_overflow(model: ClusterModel) -> Iterator[Finding]:
    """A node's kernel logged neighbour (ARP) table overflows.

    What it checks:
        The node's dmesg for ``neighbour: arp_cache: neighbor table
        overflow!``: the kernel's neighbour table reached
        ``net.ipv4.neigh.default.gc_thresh3`` (1024 by default). The current
        thresholds from the node's sysctl output are shown with it.

    Why it breaks traffic:
        Past gc_thresh3 the kernel refuses new neighbour entries: the node
        cannot resolve the MAC of new peers (pods on its bridge, other nodes
        on flat networks), and connections to them fail until old entries
        expire. Nodes with many pods on a bridge or many peers on one L2
        segment reach the default limits.

    Example:
        ``[90111.002317] neighbour: arp_cache: neighbor table overflow!`` on
        ``worker-1``, ``gc_thresh3 = 1024``.

    Fix:
        Raise ``net.ipv4.neigh.default.gc_thresh1/2/3`` (for example 4096,
        8192, 16384) in ``/etc/sysctl.d`` on the nodes.

    Confirm live:
        ``dmesg | grep "neighbor table overflow"``; ``ip -4 neigh | wc -l``;
        ``sysctl net.ipv4.neigh.default.gc_thresh3``.

    References:
        https://www.kernel.org/doc/html/latest/networking/ip-sysctl.html ;
        https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
    """
    yield from findings_from("CNI423", model, faults_of(model, cni_neighbour_table_overflow_faults))
