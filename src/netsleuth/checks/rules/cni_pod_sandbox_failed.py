"""CNI403: pods stuck in ContainerCreating because the CNI failed to set up their sandbox."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, culprit_subject, finding, register
from netsleuth.facts.attribution import cni_agent
from netsleuth.facts.ipam_events import is_ip_allocation_failure, is_sandbox_failure
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Event, Pod


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
    by_node: dict[str, list[tuple[Pod, list[Event]]]] = {}
    for pod in model.pods:
        if pod.meta.derived or pod.phase not in ("Pending", "Unknown"):
            continue
        if any(s.state == "running" for s in pod.container_statuses):
            continue
        events = [
            e for e in model.events_for("Pod", pod.namespace, pod.name) if is_sandbox_failure(e)
        ]
        if not events or any(is_ip_allocation_failure(e) for e in events):
            continue
        by_node.setdefault(pod.node_name or "?", []).append((pod, events))
    agent = cni_agent(model)
    for node, stuck in sorted(by_node.items()):
        pod, events = stuck[0]
        last = events[-1]
        total = sum(max(e.count, 1) for _, evs in stuck for e in evs)
        # What to change is the CNI on that node (its agent DaemonSet), not the pods: they
        # are retried by the kubelet once the CNI answers.
        if agent is not None:
            kind, meta = culprit_subject(agent)
        elif node in model.nodes:
            kind, meta = "Node", model.nodes[node].meta
        else:
            kind, meta = "Pod", pod.meta
        names = ", ".join(f"{p.namespace}/{p.name}" for p, _ in stuck[:3]) + (
            f" and {len(stuck) - 3} more" if len(stuck) > 3 else ""
        )
        yield finding(
            "CNI403",
            model,
            kind=kind,
            meta=meta,
            also=(pod.meta,),
            message=f"the CNI on node {node} fails to set up pod sandboxes: {len(stuck)} pod(s) cannot "
            f"start ({names}; {total}x {last.reason}: {last.message[:240]})",
            evidence=[
                *(
                    Evidence(f"Pod/{p.namespace}/{p.name}", "status.phase", p.phase)
                    for p, _ in stuck[:5]
                ),
                Evidence(f"Event/{pod.namespace}/{last.meta.name}", "message", last.message),
            ],
            confirm=(
                kubectl("describe", "pod", "-n", pod.namespace, pod.name),
                kubectl(
                    "get",
                    "events",
                    "-n",
                    pod.namespace,
                    "--field-selector",
                    f"involvedObject.name={pod.name}",
                ),
                kubectl(
                    "get",
                    "pods",
                    "-n",
                    "kube-system",
                    "-o",
                    "wide",
                    "--field-selector",
                    f"spec.nodeName={node}",
                ),
            ),
            fix=Fix(
                text=f"Fix the CNI on node {node} as the event says (agent pod running, "
                "/etc/cni/net.d config present, API reachable); the kubelet retries the sandboxes."
            ),
        )
