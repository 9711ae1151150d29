"""CNI405: a node's podCIDR holds fewer addresses than the pods the kubelet admits."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, culprit_subject, finding, register
from netsleuth.facts.attribution import node_mask_setting
from netsleuth.facts.cluster_cidrs import (
    Range,
    node_pod_cidrs,
    pod_addresses,
    prefix_for,
    reserved_addresses,
)
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
        IPv4 podCIDR size, net of the addresses the IPAM plugin reserves
        (network, gateway, broadcast: a /26 holds 61 pods, a /24 253),
        against the node's pod capacity (``status.capacity.pods``, the
        kubelet's ``maxPods``, 110 by default). The finding names the
        kube-controller-manager ``--node-cidr-mask-size`` flag (its static pod,
        kubeadm-config) that cut the ranges, once for all the nodes it starves.

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
    why = uses_node_pod_cidr(model)
    if why is None:
        return
    short: list[tuple[str, Range, int, int]] = []
    for node_name, r in node_pod_cidrs(model):
        node = model.nodes[node_name]
        if r.network.version != 4 or node.capacity_pods is None:
            continue
        usable = pod_addresses(r.network)
        if usable >= node.capacity_pods:
            continue
        short.append((node_name, r, usable, node.capacity_pods))
    if not short:
        return
    # Node ranges are cut by kube-controller-manager (--node-cidr-mask-size, default /24):
    # that flag is what to change, not the nodes. One finding for all the nodes it starves.
    setting = node_mask_setting(model)
    kind, meta = culprit_subject(setting.culprit)
    node_name, r, usable, max_pods = short[0]
    need = max(m for _, _, _, m in short)
    suggest = min(prefix_for(need), 24)
    nodes = ", ".join(n for n, _, _, _ in short[:6]) + (
        f" and {len(short) - 6} more" if len(short) > 6 else ""
    )
    yield finding(
        "CNI405",
        model,
        kind=kind,
        meta=meta,
        message=f"{setting.describe()} gives node(s) {nodes} a /{r.network.prefixlen} podCIDR: "
        f"{usable} pod addresses ({reserved_addresses(r.network)} reserved) but the kubelet admits "
        f"{max_pods} pods; pods beyond {usable} will fail to get an IP",
        evidence=[
            Evidence(
                setting.source,
                setting.source_field,
                setting.value or f"unset (default {setting.default})",
            ),
            *(
                Evidence(f"Node/{n}", "spec.podCIDRs", f"{rr.cidr} ({u} pod addresses)")
                for n, rr, u, _ in short[:4]
            ),
            Evidence(f"Node/{node_name}", "status.capacity.pods", str(max_pods)),
            Evidence("CNI", "ipam", why),
        ],
        confirm=(
            kubectl(
                "get",
                "nodes",
                "-o",
                "custom-columns=NAME:.metadata.name,CIDR:.spec.podCIDR,PODS:.status.capacity.pods",
            ),
            kubectl("-n", "kube-system", "get", "configmap", "kubeadm-config", "-o", "yaml")
            if setting.kubeadm
            else kubectl(
                "-n",
                "kube-system",
                "get",
                "pods",
                "-l",
                "component=kube-controller-manager",
                "-o",
                "yaml",
            ),
        ),
        fix=Fix(
            text=f"Set kube-controller-manager --node-cidr-mask-size={suggest} (the static pod manifest "
            "/etc/kubernetes/manifests/kube-controller-manager.yaml on each control-plane node"
            + (
                ", and controllerManager.extraArgs in kubeadm-config so upgrades keep it"
                if setting.kubeadm
                else ""
            )
            + f"). A node's spec.podCIDR is immutable: recreate the nodes (drain, delete the Node, "
            f"re-join) to get the new size. Or lower the kubelet's maxPods to at most {usable}."
        ),
    )
