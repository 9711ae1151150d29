"""Node-local agents: the CNI agent and kube-proxy, one pod of a DaemonSet per node.

A node whose agent pod is missing, not Ready or crash-looping still carries traffic
on what the agent programmed before, but nothing there follows the cluster any more:

- the CNI agent wires each new pod's interface and keeps the node's routes and
  policy rules; without it new pods stay in ContainerCreating and existing ones
  lose routes to nodes and pods that changed since;
- kube-proxy writes the node's Service rules (iptables/IPVS/nftables) that DNAT a
  client's ClusterIP to an endpoint; without it they are missing after a node
  restart and stale after every endpoint change.

:func:`node_agent_gaps` is the one fact; the scan reads it (CNI401 per CNI
DaemonSet, KPX605 for kube-proxy) and the trace reads it for the nodes on its
path (CNI agent: the source's and the destination's node; kube-proxy: the
client's node, where the DNAT happens). What to change is the DaemonSet; the pod
is the evidence.

Only pods that are in the input count: when the DaemonSet is there but none of
its pods are (a manifest, or pods not listed), nothing is said per node. A node
the DaemonSet is not meant for (its nodeSelector does not match; a Fargate or
virtual-kubelet node; a node tainted ``NoSchedule``/``NoExecute`` with a key
outside ``node.kubernetes.io/`` while the DaemonSet's own count does not include
it) is not a gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from netsleuth.facts.cni_detect import cni_agent_pods, cni_daemonsets
from netsleuth.facts.faults import Fault, ref
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command, kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.objects import Node, Pod, Service, Workload

KUBE_PROXY = "kube-proxy"
EXCLUDE_FROM_LB = "node.kubernetes.io/exclude-from-external-load-balancers"


@dataclass(frozen=True, slots=True)
class AgentGap:
    """No ready agent pod of ``daemonset`` on ``node``."""

    agent: str
    """``kube-proxy``, or the CNI's name (``calico``, ``cilium``…)."""
    layer: Layer
    daemonset: Workload
    node: str
    pods: tuple[Pod, ...]
    """The DaemonSet's pods on the node (none when it has none there)."""
    states: tuple[str, ...]
    """Per pod, why it is not ready (``CrashLoopBackOff``, ``ImagePullBackOff``,
    ``Running, not Ready``…)."""

    @property
    def missing(self) -> bool:
        return not self.pods

    def describe(self) -> str:
        """``no agent pod`` or ``calico-node-x7k2p CrashLoopBackOff (12 restarts)``."""
        if self.missing:
            return "no pod scheduled there"
        return "; ".join(f"{p.name} {s}" for p, s in zip(self.pods, self.states, strict=True))

    def evidence(self) -> list[Evidence]:
        if self.missing:
            return [Evidence(f"Node/{self.node}", f"{self.daemonset.name} pod", "none scheduled")]
        return [
            Evidence(ref("Pod", p.meta), "status", f"not ready ({s})")
            for p, s in zip(self.pods, self.states, strict=True)
        ]

    def confirm(self) -> tuple[Command, ...]:
        ds = self.daemonset
        out = [
            kubectl(
                "get",
                "pods",
                "-n",
                ds.namespace,
                "-o",
                "wide",
                "--field-selector",
                f"spec.nodeName={self.node}",
            )
        ]
        if self.pods:
            p = self.pods[0]
            out.append(kubectl("logs", "-n", p.namespace, p.name, "--previous", "--tail=50"))
            out.append(kubectl("describe", "pod", "-n", p.namespace, p.name))
        else:
            out.append(kubectl("describe", "ds", "-n", ds.namespace, ds.name))
        return tuple(out)


def _working(p: Pod) -> bool:
    """The agent runs: the pod is Ready, or every container is running and ready while the
    pod's Ready condition is False for a reason outside it (the kubelet marks every pod of
    a NotReady node not Ready: that is the node's fault, CNI402, not the agent's)."""
    if p.terminating:
        return False
    if p.ready:
        return True
    statuses = [s for s in p.container_statuses if not s.is_init]
    return bool(statuses) and all(s.ready and s.state == "running" for s in statuses)


def pod_state(p: Pod) -> str:
    """Why a pod is not ready, as ``kubectl get pods`` would show it."""
    for s in p.container_statuses:
        if s.state_reason:
            return s.state_reason + (f", {s.restart_count} restarts" if s.restart_count else "")
    if p.phase == "Running":
        return "Running, not Ready"
    return p.phase or "not ready"


def _meant_for(node: Node, ds: Workload) -> bool:
    """``ds``'s nodeSelector matches the node, and the node is not virtual (Fargate,
    virtual-kubelet nodes never run DaemonSets)."""
    labels = node.meta.labels
    if (
        labels.get("eks.amazonaws.com/compute-type") == "fargate"
        or labels.get("type") == "virtual-kubelet"
    ):
        return False
    sel = ds.template.spec.node_selector if ds.template else {}
    return all(labels.get(k) == v for k, v in sel.items())


def _tainted(node: Node) -> bool:
    """A taint the DaemonSet may not tolerate (tolerations are not modelled). The
    ``node.kubernetes.io/`` condition taints are tolerated by every DaemonSet pod."""
    return any(
        t.effect in ("NoSchedule", "NoExecute") and not t.key.startswith("node.kubernetes.io/")
        for t in node.taints
    )


def _agents(model: ClusterModel) -> Iterator[tuple[str, Layer, Workload, list[Pod]]]:
    for cni, ds in cni_daemonsets(model):
        pods = [
            p
            for p in cni_agent_pods(model, cni)
            if model.owner(p).name == ds.name or not p.meta.owner_refs
        ]
        yield cni, Layer.CNI, ds, pods
    for ds in model.workloads:
        if ds.kind != "DaemonSet" or ds.name != KUBE_PROXY:
            continue
        pods = [
            p
            for p in model.pods_by_namespace.get(ds.namespace, ())
            if not p.meta.derived
            and (
                (model.owner(p).kind == "DaemonSet" and model.owner(p).name == ds.name)
                or (not p.meta.owner_refs and p.labels.get("k8s-app") == KUBE_PROXY)
            )
        ]
        yield KUBE_PROXY, Layer.KUBE_PROXY, ds, pods


def _gaps(model: ClusterModel) -> tuple[AgentGap, ...]:
    out: list[AgentGap] = []
    for agent, layer, ds, pods in _agents(model):
        if not pods:
            continue  # the DaemonSet's pods are not in the input: nothing per node
        by_node: dict[str, list[Pod]] = {}
        for p in pods:
            if p.node_name:
                by_node.setdefault(p.node_name, []).append(p)
        meant = [n for n in model.nodes.values() if _meant_for(n, ds)]
        # The DaemonSet's own count says whether tainted nodes are meant to have a pod.
        covers_all = ds.desired_scheduled is not None and ds.desired_scheduled >= len(meant)
        names = sorted({n.name for n in meant} | (by_node.keys() & model.nodes.keys()))
        for name in names:
            here = by_node.get(name, [])
            if not here and _tainted(model.nodes[name]) and not covers_all:
                continue
            if any(_working(p) for p in here):
                continue
            live = [p for p in here if not p.terminating] or here
            out.append(
                AgentGap(
                    agent=agent,
                    layer=layer,
                    daemonset=ds,
                    node=name,
                    pods=tuple(live),
                    states=tuple(pod_state(p) for p in live),
                )
            )
    return tuple(out)


def node_agent_gaps(model: ClusterModel) -> tuple[AgentGap, ...]:
    """Every (agent DaemonSet, node) with no ready agent pod, once per model."""
    return model.memoised("facts:node_agent_gaps", lambda: _gaps(model))


def gaps_on(model: ClusterModel, nodes: Iterable[str], agent: str | None = None) -> list[AgentGap]:
    """The gaps on ``nodes``; only kube-proxy's with ``agent="kube-proxy"``, only the CNI
    agents' with ``agent="cni"``."""
    wanted = set(nodes)
    return [
        g
        for g in node_agent_gaps(model)
        if g.node in wanted
        and (
            agent is None
            or (agent == "cni" and g.layer is Layer.CNI)
            or (agent != "cni" and g.agent == agent)
        )
    ]


def entry_nodes(model: ClusterModel, svc: Service) -> tuple[str, ...]:
    """The nodes where traffic from outside can enter a NodePort/LoadBalancer Service (the
    client's or the load balancer's choice, so any of them): every node not NotReady; for a
    LoadBalancer not those labelled :data:`EXCLUDE_FROM_LB`; with externalTrafficPolicy
    Local only those with a ready endpoint (the others drop it, and the load balancer's
    health check takes them out). Empty when the input holds no Node."""
    from netsleuth.facts.service_backends import endpoint_nodes

    nodes = [n for n, node in sorted(model.nodes.items()) if node.ready is not False]
    if svc.type == "LoadBalancer":
        nodes = [n for n in nodes if EXCLUDE_FROM_LB not in model.nodes[n].meta.labels]
    if svc.external_traffic_policy == "Local":
        have = endpoint_nodes(model, svc)
        nodes = [n for n in nodes if n in have]
    return tuple(nodes)


def kube_proxy_not_ready_faults(model: ClusterModel) -> Iterator[Fault]:
    """KPX605: kube-proxy has no ready pod on some nodes."""
    gaps = [g for g in node_agent_gaps(model) if g.agent == KUBE_PROXY]
    by_ds: dict[tuple[str, str], list[AgentGap]] = {}
    for g in gaps:
        by_ds.setdefault((g.daemonset.namespace, g.daemonset.name), []).append(g)
    for group in by_ds.values():
        ds = group[0].daemonset
        nodes = [g.node for g in group]
        yield Fault(
            layer=Layer.KUBE_PROXY,
            severity=Severity.ERROR,
            kind="DaemonSet",
            meta=ds.meta,
            also=tuple(p.meta for g in group for p in g.pods),
            message=f"kube-proxy DaemonSet {ds.namespace}/{ds.name} has no ready pod on node(s) "
            + ", ".join(f"{g.node} ({g.describe()})" for g in group)
            + ": Service rules there are not kept in sync with the endpoints (missing after a "
            "node restart, stale after every change)",
            evidence=[e for g in group for e in g.evidence()],
            confirm=group[0].confirm(),
            fix=kube_proxy_fix(ds, nodes),
        )


def kube_proxy_fix(ds: Workload, nodes: list[str]) -> Fix:
    return Fix(
        text=f"Read the previous logs of the kube-proxy pod on {', '.join(nodes)} and fix the cause "
        f"in DaemonSet {ds.namespace}/{ds.name} or what it reads (ConfigMap "
        f"{ds.namespace}/kube-proxy, the API server address, a kernel module); the DaemonSet "
        "restarts the pod."
    )


def cni_agent_fix(gap: AgentGap) -> Fix:
    ds = gap.daemonset
    return Fix(
        text=f"Read the events and logs of the {gap.agent} agent pod on {gap.node} and fix the cause "
        f"in DaemonSet {ds.namespace}/{ds.name} or what it needs (image, RBAC, a kernel module, "
        "its datastore or IPAM); the DaemonSet restarts the pod."
    )


__all__ = [
    "KUBE_PROXY",
    "AgentGap",
    "cni_agent_fix",
    "gaps_on",
    "kube_proxy_fix",
    "kube_proxy_not_ready_faults",
    "node_agent_gaps",
    "pod_state",
]
