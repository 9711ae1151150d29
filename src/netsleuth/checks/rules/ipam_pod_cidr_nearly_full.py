"""CNI406: the pods on a node use 90 % or more of its podCIDR."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.ipam import ipam_pod_cidr_nearly_full_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="CNI406",
    layer=Layer.IPAM,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Node", "Pod"), require_present=True),
)
def ipam_pod_cidr_nearly_full(model: ClusterModel) -> Iterator[Finding]:
    """The pods on a node use 90 % or more of its podCIDR.

    What it checks:
        Where pod IPs come from the node podCIDR (see CNI405), the pods that
        hold an address on each node (with a pod IP, not hostNetwork, not
        Succeeded or Failed) against the addresses the IPAM plugin can hand
        out (the range net of what it reserves: network, gateway and
        broadcast for host-local; network, broadcast, router and health
        addresses for Cilium ``ipam: kubernetes``); warns at 90 %, errors at
        100 %. The node's maxPods is in the evidence.

    Why it breaks traffic:
        The next pods scheduled there (a rollout's surge, a scale-up) get no
        address and stay in ContainerCreating; the scheduler does not know
        about IP ranges and keeps choosing the node.

    Example:
        ``worker-1``: 58 pods in ``10.244.1.0/26`` (61 pod addresses), 95 %.

    Fix:
        Lower maxPods so the scheduler stops before the range is full, spread
        the load to other nodes, or give nodes larger ranges.

    Confirm live:
        ``kubectl get pods -A -o wide --field-selector spec.nodeName=<node>,status.phase=Running | wc -l``;
        ``ls /var/lib/cni/networks/*/ | wc -l`` on the node (host-local leases).

    References:
        https://www.cni.dev/plugins/current/ipam/host-local/ ;
        https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/
    """

    yield from findings_from("CNI406", model, ipam_pod_cidr_nearly_full_faults(model))
