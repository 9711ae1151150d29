"""CNI422: host-local IPAM on a node is leaking or out of addresses, or IP allocation failed."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.faults import faults_of
from netsleuth.facts.node_evidence_faults import cni_host_local_ipam_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="CNI422",
    layer=Layer.IPAM,
    severity=Severity.ERROR,
    needs=Needs(any_kinds=("NodeArtifacts", "ContainerLog")),
)
def cni_host_local_ipam(model: ClusterModel) -> Iterator[Finding]:
    """Host-local IPAM on a node is leaking or out of addresses, or IP allocation failed.

    What it checks:
        The host-local IPAM plugin's state on each node
        (``/var/lib/cni/networks/<net>/``: one file per allocated address,
        holding the container ID) against the pods the input has on that
        node: allocations no pod holds are leaked (reported from 5 on); 90 %
        or more of the node's pod CIDR allocated is exhaustion. And IP
        allocation failures in the logs on that node (kubelet,
        CNI agent, node files or a cluster-info dump): "no IP addresses
        available in range set", Calico "Failed to get next available IP".

    Why it breaks traffic:
        When a CNI DEL does not run (a node crash, a runtime restart) the
        address file stays and the address is never given out again. Leaks
        add up until the range is empty: new pods on the node stay in
        ContainerCreating with "failed to allocate for range", rollouts
        stall and Services lose endpoints.

    Example:
        ``worker-1``: 236 of 254 addresses allocated, 180 of them held by
        no pod; kubelet "no IP addresses available in range set:
        10.244.1.1-10.244.1.254".

    Fix:
        Remove the leaked allocation files after checking that no running
        container has those IDs (``crictl ps -a``); a node drain and reboot
        with the directory cleared also works. Then find why CNI DEL did not
        run.

    Confirm live:
        ``ls /var/lib/cni/networks/<net>/ | wc -l`` on the node;
        ``crictl pods -q | wc -l``; ``kubectl get pods -A -o wide --field-selector spec.nodeName=<node>``.

    References:
        https://www.cni.dev/plugins/current/ipam/host-local/ ;
        https://github.com/containernetworking/plugins/tree/main/plugins/ipam/host-local
    """
    yield from findings_from("CNI422", model, faults_of(model, cni_host_local_ipam_faults))
