"""CNI401: the CNI agent DaemonSet is not ready on every node."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.cni_detect import cni_agent_pods, cni_daemonsets
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Node, Workload


def _eligible(node: Node, ds: Workload) -> bool:
    """Nodes a CNI DaemonSet is meant to run on: its nodeSelector matches, and the node
    is not a virtual node (Fargate, virtual-kubelet) that never runs DaemonSets."""
    labels = node.meta.labels
    if (
        labels.get("eks.amazonaws.com/compute-type") == "fargate"
        or labels.get("type") == "virtual-kubelet"
    ):
        return False
    sel = ds.template.spec.node_selector if ds.template else {}
    return all(labels.get(k) == v for k, v in sel.items())


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
        input, the eligible nodes (matching the DaemonSet's nodeSelector,
        Fargate and virtual-kubelet nodes excluded) that have no ready agent pod.

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
    for cni, ds in cni_daemonsets(model):
        pods = cni_agent_pods(model, cni)
        pods = [p for p in pods if model.owner(p).name == ds.name or not p.meta.owner_refs]
        evidence: list[Evidence] = []
        problems: list[str] = []
        if (
            ds.has_status
            and ds.desired_scheduled is not None
            and ds.number_ready is not None
            and ds.number_ready < ds.desired_scheduled
        ):
            problems.append(f"{ds.number_ready} of {ds.desired_scheduled} agent pods ready")
            evidence.append(
                Evidence(ref("DaemonSet", ds.meta), "status.numberReady", str(ds.number_ready))
            )
            evidence.append(
                Evidence(
                    ref("DaemonSet", ds.meta),
                    "status.desiredNumberScheduled",
                    str(ds.desired_scheduled),
                )
            )
        bad_nodes: list[str] = []
        if pods:
            by_node: dict[str, list[str]] = {}
            for p in pods:
                if p.node_name:
                    by_node.setdefault(p.node_name, [])
                    if p.ready and not p.terminating:
                        by_node[p.node_name].append(p.name)
            for name, node in sorted(model.nodes.items()):
                if not _eligible(node, ds):
                    continue
                if name not in by_node:
                    bad_nodes.append(name)
                    evidence.append(Evidence(f"Node/{name}", "agent pod", "none scheduled"))
                elif not by_node[name]:
                    bad_nodes.append(name)
                    for p in pods:
                        if p.node_name == name:
                            state = next(
                                (s.state_reason for s in p.container_statuses if s.state_reason),
                                p.phase,
                            )
                            evidence.append(
                                Evidence(
                                    f"Pod/{p.namespace}/{p.name}", "status", f"not ready ({state})"
                                )
                            )
            if bad_nodes:
                problems.append("no ready agent on node " + ", ".join(bad_nodes))
        if not problems:
            continue
        selector = next(iter(ds.selector.labels), None) if ds.selector else None
        label_args = ("-l", f"{selector[0]}={selector[1]}") if selector else ()
        yield finding(
            "CNI401",
            model,
            kind="DaemonSet",
            meta=ds.meta,
            message=f"{cni} agent DaemonSet {ds.namespace}/{ds.name}: "
            + "; ".join(problems)
            + " — new pods there cannot get a network interface",
            evidence=evidence,
            confirm=(
                kubectl("get", "ds", "-n", ds.namespace, ds.name),
                kubectl("get", "pods", "-n", ds.namespace, *label_args, "-o", "wide"),
                kubectl("describe", "ds", "-n", ds.namespace, ds.name),
            ),
            fix=Fix(
                text=f"Read the events and logs of the {cni} agent pod on "
                + (", ".join(bad_nodes) if bad_nodes else "the affected nodes")
                + " (kubectl logs -n "
                + ds.namespace
                + " <pod>), fix the cause, then delete the pod "
                "so the DaemonSet recreates it."
            ),
        )
