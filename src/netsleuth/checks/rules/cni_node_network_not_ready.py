"""CNI402: a node is NotReady because its network plugin is not initialized."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.cni_health import cni_node_network_not_ready_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


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

    yield from findings_from("CNI402", model, cni_node_network_not_ready_faults(model))
