"""CNI402: a node is NotReady because its network plugin is not initialized."""

from __future__ import annotations

import re
from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import find_condition

# Kubelet's messages when the runtime reports NetworkReady=false.
_CNI_NOT_READY = re.compile(
    r"network plugin (?:is )?not (?:ready|initialized)|cni plugin not initialized|"
    r"NetworkPluginNotReady|cni config uninitialized|no networks found in /etc/cni/net\.d",
    re.IGNORECASE,
)


@register(
    id="CNI402",
    layer=Layer.CNI,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Node",), require_present=True),
)
def cni_node_network_not_ready(model: ClusterModel) -> Iterator[Finding]:
    """A node is NotReady because its network plugin is not initialized.

    What it checks:
        Nodes whose ``Ready`` condition is not True with a message saying the
        network plugin / CNI is not initialized (``NetworkPluginNotReady``,
        ``cni config uninitialized``), and nodes whose ``NetworkUnavailable``
        condition is True (set by cloud route controllers and by Calico and
        Cilium until the node's routes exist).

    Why it breaks traffic:
        The kubelet refuses to start pods without a working CNI, so the node
        is tainted ``node.kubernetes.io/not-ready`` or
        ``network-unavailable``; pods on it cannot get an IP and pods
        elsewhere cannot reach the node's pod range.

    Example:
        ``worker-3`` Ready=False, message "container runtime network not
        ready: NetworkReady=false reason:NetworkPluginNotReady message:Network
        plugin returns error: cni plugin not initialized".

    Fix:
        Make the CNI agent run on the node (see CNI401) and check that
        ``/etc/cni/net.d`` holds its conflist and ``/opt/cni/bin`` its
        binaries; the kubelet marks the node Ready once the runtime reports
        NetworkReady=true.

    Confirm live:
        ``kubectl describe node <node>`` (Conditions);
        ``journalctl -u kubelet | grep -i cni | tail -50`` on the node;
        ``ls /etc/cni/net.d`` on the node.

    References:
        https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/network-plugins/ ;
        https://kubernetes.io/docs/reference/node/node-status/#condition
    """
    for name, node in sorted(model.nodes.items()):
        ready = find_condition(node.conditions, "Ready")
        net = find_condition(node.conditions, "NetworkUnavailable")
        evidence: list[Evidence] = []
        why: list[str] = []
        if (
            ready is not None
            and not ready.is_true
            and _CNI_NOT_READY.search(f"{ready.reason} {ready.message}")
        ):
            why.append("Ready=" + ready.status + ": " + (ready.message or ready.reason))
            evidence.append(
                Evidence(
                    f"Node/{name}",
                    "status.conditions[Ready]",
                    f"{ready.status} {ready.reason}: {ready.message}".strip(),
                )
            )
        if net is not None and net.is_true:
            why.append(f"NetworkUnavailable=True ({net.reason or net.message or 'no reason'})")
            evidence.append(
                Evidence(
                    f"Node/{name}",
                    "status.conditions[NetworkUnavailable]",
                    f"True {net.reason}: {net.message}".strip(),
                )
            )
        if not why:
            continue
        yield finding(
            "CNI402",
            model,
            kind="Node",
            meta=node.meta,
            message=f"node {name} has no working pod network: " + "; ".join(why),
            evidence=evidence,
            confirm=(
                kubectl("describe", "node", name),
                kubectl(
                    "get", "pods", "-A", "-o", "wide", "--field-selector", f"spec.nodeName={name}"
                ),
                cmd("journalctl", "-u", "kubelet")
                .pipe("grep", "-i", "cni")
                .pipe("tail", "-50")
                .note("on the node"),
            ),
            fix=Fix(
                text=f"Get the CNI agent running on {name} and its config into /etc/cni/net.d; "
                "the kubelet clears the condition once the runtime reports NetworkReady=true."
            ),
        )
