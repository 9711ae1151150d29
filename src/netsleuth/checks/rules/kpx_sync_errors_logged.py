"""KPX613: kube-proxy's log shows rule syncs that failed."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.faults import faults_of
from netsleuth.facts.node_evidence_faults import kpx_sync_errors_logged_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="KPX613",
    layer=Layer.KUBE_PROXY,
    severity=Severity.WARNING,
    needs=Needs(any_kinds=("NodeArtifacts", "ContainerLog")),
)
def kpx_sync_errors_logged(model: ClusterModel) -> Iterator[Finding]:
    """kube-proxy's log shows rule syncs that failed.

    What it checks:
        kube-proxy's log on each node — a ``kube-proxy.log`` (or journald
        lines) among the node's files, or the kube-proxy pod's log in a
        ``kubectl cluster-info dump`` — for failed syncs: "Failed to execute
        iptables-restore", "Sync failed", failures to program IPVS, ipsets
        or nftables. It reports how many, the first and last time, and an
        example line.

    Why it breaks traffic:
        Each failed sync leaves the node's Service rules as they were: new
        endpoints get no traffic from that node, deleted pods keep getting
        it, new Services do not work there. The usual causes are another
        process holding the xtables lock, an iptables binary that disagrees
        with the kernel's backend (nft versus legacy), or a full conntrack
        table.

    Example:
        ``E0515 10:11:12 proxier.go:1542] "Failed to execute iptables-restore"
        err="exit status 4: Another app is currently holding the xtables
        lock"`` 4 times on ``worker-1``.

    Fix:
        Find what holds the xtables lock (``lsof /run/xtables.lock``), make
        the node's iptables backend match kube-proxy's, then restart
        kube-proxy on the node.

    Confirm live:
        ``kubectl -n kube-system logs <kube-proxy pod on the node> | grep -iE "failed|error"``;
        ``iptables-save | head -1`` on the node (the backend).

    References:
        https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/iptables/proxier.go ;
        https://kubernetes.io/docs/reference/networking/virtual-ips/
    """
    yield from findings_from("KPX613", model, faults_of(model, kpx_sync_errors_logged_faults))
