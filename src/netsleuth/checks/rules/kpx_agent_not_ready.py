"""KPX605: kube-proxy has no ready pod on some nodes."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.node_agents import kube_proxy_not_ready_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="KPX605",
    layer=Layer.KUBE_PROXY,
    severity=Severity.ERROR,
    needs=Needs(kinds=("DaemonSet", "Pod", "Node"), require_present=True),
)
def kpx_agent_not_ready(model: ClusterModel) -> Iterator[Finding]:
    """kube-proxy has no ready pod on some nodes.

    What it checks:
        When the ``kube-proxy`` DaemonSet and its pods are in the input: each
        node it is meant for (its nodeSelector matches; Fargate and
        virtual-kubelet nodes excluded; a node with a taint the DaemonSet may
        not tolerate only when its ``desiredNumberScheduled`` counts it) that
        has no Ready kube-proxy pod: none scheduled, crash-looping, image pull
        failing, or running but not Ready. One finding per DaemonSet, naming
        the nodes, the pods and their state. Clusters without a kube-proxy
        DaemonSet (Cilium's kube-proxy replacement, k3s) are not checked.

    Why it breaks traffic:
        kube-proxy writes the node's Service rules that DNAT a ClusterIP or
        NodePort to an endpoint. Without it the rules are missing after a node
        restart (every Service call from that node fails) and stale after any
        endpoint change (calls go to pods that are gone). ``trace`` marks the
        kube-proxy hop of a path whose client runs on that node broken.

    Example:
        ``kube-proxy-7xk2p`` on ``worker-2`` in ``CrashLoopBackOff`` after a
        bad edit of the ``kube-proxy`` ConfigMap.

    Fix:
        Read the previous log of the pod on the node, and fix the DaemonSet or
        what it reads (the ``kube-proxy`` ConfigMap, the API server address in
        its kubeconfig, a kernel module); the DaemonSet restarts the pod.

    Confirm live:
        ``kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=<node>``;
        ``kubectl logs -n kube-system <kube-proxy-pod> --previous``.

    References:
        https://kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy/ ;
        https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/
    """

    yield from findings_from("KPX605", model, kube_proxy_not_ready_faults(model))
