"""CNI403: pods stuck in ContainerCreating because the CNI failed to set up their sandbox."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.cni_health import cni_pod_sandbox_failed_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="CNI403",
    layer=Layer.CNI,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Pod", "Event"), require_present=True),
)
def cni_pod_sandbox_failed(model: ClusterModel) -> Iterator[Finding]:
    """Pods stuck in ContainerCreating because the CNI failed to set up their sandbox.

    What it checks:
        Pods still Pending (not running, containers waiting in
        ``ContainerCreating`` or not started) with a Warning event
        ``FailedCreatePodSandBox`` or a "failed to setup network for
        sandbox" message. Events that say the IP pool is exhausted are left
        to CNI407.

    Why it breaks traffic:
        The pod sandbox is where the CNI creates the pod's interface; when
        the CNI ADD call fails the pod never gets an IP, never becomes
        Ready, and never joins its Service's endpoints.

    Example:
        ``shop/web-7d9f`` Pending; event ``FailedCreatePodSandBox``:
        "plugin type=\\"calico\\" failed (add): error getting ClusterInformation:
        connection is unauthorized".

    Fix:
        Read the CNI error in the event: an agent not running on that node
        (CNI401), a missing /etc/cni/net.d config or /opt/cni/bin binary, the
        CNI unable to reach the API server, or a kernel module missing.

    Confirm live:
        ``kubectl describe pod -n <ns> <pod>`` (Events);
        ``kubectl get events -n <ns> --field-selector reason=FailedCreatePodSandBox``;
        ``journalctl -u kubelet | grep CNI | tail -50`` on the node.

    References:
        https://kubernetes.io/docs/tasks/debug/debug-application/debug-pods/ ;
        https://www.cni.dev/docs/spec/#add-add-container-to-network-or-apply-modifications
    """

    yield from findings_from("CNI403", model, cni_pod_sandbox_failed_faults(model))
