"""CNI401: the CNI agent DaemonSet is not ready on every node."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.cni_health import cni_daemonset_not_ready_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="CNI401",
    layer=Layer.CNI,
    severity=Severity.ERROR,
    needs=Needs(kinds=("DaemonSet",), require_present=True),
)
def cni_daemonset_not_ready(model: ClusterModel) -> Iterator[Finding]:
    """The CNI agent DaemonSet is not ready on every node.

    What it checks:
        For each CNI agent DaemonSet (aws-node, cilium, calico-node,
        kube-flannel-ds, weave-net, canal, antrea-agent): ``numberReady``
        below ``desiredNumberScheduled``, and, when the agent pods are in the
        input, the nodes it is meant for (matching the DaemonSet's
        nodeSelector; Fargate and virtual-kubelet nodes excluded; a node with
        a taint the DaemonSet may not tolerate only when its
        ``desiredNumberScheduled`` counts it) that have no ready agent pod,
        with each pod's state (CrashLoopBackOff, ImagePullBackOff, not Ready).
        A pod whose containers run and are ready on a NotReady node is not
        blamed (the kubelet marks every pod there not Ready: CNI402). The
        same per-node fact makes ``trace``'s cni hop broken for a path whose
        source or destination runs on that node.

    Why it breaks traffic:
        The agent wires every new pod's interface, programs routes and
        enforces policy on its node. On a node without a ready agent new pods
        stay in ContainerCreating, and pods already there may lose routes to
        other nodes or policy enforcement.

    Example:
        ``cilium`` desires 3, 2 ready; node ``worker-2`` has
        ``cilium-x7k2p`` in CrashLoopBackOff.

    Fix:
        Read the agent pod's events and logs on the affected node (image
        pull, RBAC, a missing kernel module, an IPAM error), fix the cause,
        and delete the pod so the DaemonSet recreates it.

    Confirm live:
        ``kubectl get ds -n kube-system cilium``;
        ``kubectl get pods -n kube-system -l k8s-app=cilium -o wide``;
        ``kubectl logs -n kube-system <agent-pod> --tail=50``.

    References:
        https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/ ;
        https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/network-plugins/
    """

    yield from findings_from("CNI401", model, cni_daemonset_not_ready_faults(model))
