"""CNI405: a node's podCIDR holds fewer addresses than the pods the kubelet admits."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.ipam import ipam_pod_cidr_too_small_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="CNI405",
    layer=Layer.IPAM,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Node",), require_present=True),
)
def ipam_pod_cidr_too_small(model: ClusterModel) -> Iterator[Finding]:
    """A node's podCIDR holds fewer addresses than the pods the kubelet admits.

    What it checks:
        Where pod IPs come from the node podCIDR (flannel, canal, kindnet,
        Cilium ``ipam: kubernetes``, Calico host-local ``usePodCidr``), each
        node's podCIDR size net of the addresses the IPAM plugin reserves
        (host-local: network, gateway ``.1`` and the IPv4 broadcast, so a /26
        holds 61 pods and a /24 253; Cilium: network, broadcast, its router
        ``cilium_host`` and its health endpoint, so a /26 holds 60), against
        the node's pod limit (``status.capacity.pods``; without a status the
        kubeadm ``kubelet-config`` ``maxPods``; without either the kubelet's
        default 110, said to be assumed) and the pods already holding an
        address there. Calico's own IPAM, Cilium cluster-pool and the AWS VPC
        CNI do not allocate from the node podCIDR and are not checked. The
        finding names the kube-controller-manager ``--node-cidr-mask-size``
        flag (its static pod, kubeadm-config) that cut the ranges, once for
        all the nodes it starves.

    Why it breaks traffic:
        The scheduler keeps placing pods up to maxPods, but once the range is
        used up the CNI cannot give them an address: they stay in
        ContainerCreating with "no IP addresses available in range set".

    Example:
        ``--node-cidr-mask-size=28``: podCIDR ``10.244.3.0/28`` (13 pod
        addresses) on a node with maxPods 110.

    Fix:
        Give nodes bigger ranges: kube-controller-manager
        ``--node-cidr-mask-size`` (kubeadm: ``controllerManager.extraArgs`` in
        kubeadm-config and the static pod manifest). ``spec.podCIDR`` is
        immutable, so existing nodes must be recreated (drain, delete, re-join).
        Or lower the kubelet's ``maxPods`` to what the range holds.

    Confirm live:
        ``kubectl get node <node> -o jsonpath='{.spec.podCIDR} {.status.capacity.pods}'``.

    References:
        https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/ (--node-cidr-mask-size) ;
        https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/ (maxPods)
    """

    yield from findings_from("CNI405", model, ipam_pod_cidr_too_small_faults(model))
