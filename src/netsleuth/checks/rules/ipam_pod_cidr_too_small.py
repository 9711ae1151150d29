"""CNI405: a node's podCIDR holds fewer addresses than the pods the kubelet admits."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.cluster_cidrs import node_pod_cidrs, usable_addresses
from netsleuth.facts.cni_detect import uses_node_pod_cidr
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="CNI405",
    layer=Layer.IPAM,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Node",), require_present=True),
)
def ipam_pod_cidr_too_small(model: ClusterModel) -> Iterator[Finding]:
    """A node's podCIDR holds fewer addresses than the pods the kubelet admits.

    What it checks:
        Where pod IPs come from the node podCIDR (flannel, canal, Cilium
        ``ipam: kubernetes``, Calico host-local ``usePodCidr``), each node's
        IPv4 podCIDR size (minus network and broadcast: a /26 holds 62)
        against the node's pod capacity (``status.capacity.pods``, the
        kubelet's ``maxPods``, 110 by default).

    Why it breaks traffic:
        The scheduler keeps placing pods up to maxPods, but once the range is
        used up the CNI cannot give them an address: they stay in
        ContainerCreating with "no IP addresses available in range set".

    Example:
        podCIDR ``10.244.3.0/28`` (14 addresses) on a node with maxPods 110.

    Fix:
        Lower the kubelet's ``maxPods`` to what the range holds, or give
        nodes bigger ranges (kube-controller-manager
        ``--node-cidr-mask-size``, kubeadm ``networking`` settings; existing
        nodes keep their range until re-registered).

    Confirm live:
        ``kubectl get node <node> -o jsonpath='{.spec.podCIDR} {.status.capacity.pods}'``.

    References:
        https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/ (--node-cidr-mask-size) ;
        https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/ (maxPods)
    """
    why = uses_node_pod_cidr(model)
    if why is None:
        return
    for node_name, r in node_pod_cidrs(model):
        node = model.nodes[node_name]
        if r.network.version != 4 or node.capacity_pods is None:
            continue
        usable = usable_addresses(r.network.prefixlen)
        if usable >= node.capacity_pods:
            continue
        yield finding(
            "CNI405",
            model,
            kind="Node",
            meta=node.meta,
            message=f"node {node_name} podCIDR {r.cidr} holds {usable} pod addresses but the kubelet admits "
            f"{node.capacity_pods} pods: pods beyond {usable} will fail to get an IP",
            evidence=[
                Evidence(f"Node/{node_name}", "spec.podCIDRs", r.cidr),
                Evidence(f"Node/{node_name}", "status.capacity.pods", str(node.capacity_pods)),
                Evidence("CNI", "ipam", why),
            ],
            confirm=(
                kubectl(
                    "get",
                    "node",
                    node_name,
                    "-o",
                    "jsonpath={.spec.podCIDR} {.status.capacity.pods}",
                ),
            ),
            fix=Fix(
                text=f"Set the kubelet's maxPods on {node_name} to at most {usable}, or allocate larger "
                "node ranges (--node-cidr-mask-size) and re-register the node."
            ),
        )
