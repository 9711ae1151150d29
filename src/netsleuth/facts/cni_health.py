"""CNI health: agent DaemonSet pods not ready on some node (CNI401), nodes whose runtime
reports no pod network (CNI402), pods whose sandbox the CNI failed to create
(CNI403). The trace reads the same faults for the nodes and pods on its path.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from netsleuth.facts.attribution import cni_agent
from netsleuth.facts.cni_detect import cni_daemonsets
from netsleuth.facts.faults import Fault, culprit_subject, ref
from netsleuth.facts.ipam_events import is_ip_allocation_failure, is_sandbox_failure
from netsleuth.facts.node_agents import node_agent_gaps
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.node_artifacts import RouteEntry
from netsleuth.model.objects import Event, Meta, Pod, find_condition

# Kubelet's messages when the runtime reports NetworkReady=false.
_CNI_NOT_READY = re.compile(
    r"network plugin (?:is )?not (?:ready|initialized)|cni plugin not initialized|"
    r"NetworkPluginNotReady|cni config uninitialized|no networks found in /etc/cni/net\.d",
    re.IGNORECASE,
)


def cni_daemonset_not_ready_faults(model: ClusterModel) -> Iterator[Fault]:
    """CNI401: The CNI agent DaemonSet is not ready on every node."""
    for cni, ds in cni_daemonsets(model):
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
        # The per-node fact the trace reads too (no ready agent pod on a node).
        gaps = [g for g in node_agent_gaps(model) if g.daemonset is ds]
        bad_nodes = [g.node for g in gaps]
        for g in gaps:
            evidence.extend(g.evidence())
        if bad_nodes:
            problems.append(
                "no ready agent on node "
                + ", ".join(f"{g.node} ({g.describe()})" if g.pods else g.node for g in gaps)
            )
        if not problems:
            continue
        selector = next(iter(ds.selector.labels), None) if ds.selector else None
        label_args = ("-l", f"{selector[0]}={selector[1]}") if selector else ()
        yield Fault(
            layer=Layer.CNI,
            severity=Severity.ERROR,
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


def cni_node_network_not_ready_faults(model: ClusterModel) -> Iterator[Fault]:
    """CNI402: A node is NotReady because its network plugin is not initialized."""
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
        yield Fault(
            layer=Layer.CNI,
            severity=Severity.ERROR,
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


def cni_pod_sandbox_failed_faults(model: ClusterModel) -> Iterator[Fault]:
    """CNI403: Pods stuck in ContainerCreating because the CNI failed to set up their sandbox."""
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
        yield Fault(
            layer=Layer.CNI,
            severity=Severity.ERROR,
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


Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _net(text: str) -> Net | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _forwards(r: RouteEntry) -> bool:
    """A route that sends packets somewhere (``blackhole``/``unreachable``/``prohibit``
    routes have neither a gateway nor a device)."""
    return r.gateway is not None or r.device is not None


def cni_pod_cidr_route_missing_faults(model: ClusterModel) -> Iterator[Fault]:
    """CNI412: A node routes to other nodes' podCIDRs, but not to one of them."""
    cidrs: dict[str, Net] = {}
    for name, node in model.nodes.items():
        net = next((n for n in (_net(c) for c in node.pod_cidrs) if n is not None), None)
        if net is not None:
            cidrs[name] = net
    for name, art in sorted(model.node_artifacts.items()):
        if not art.routes or name not in model.nodes:
            continue
        routes = [
            (net, r)
            for r in art.routes
            if r.destination != "default"
            and (r.table in (None, "main"))
            and (net := _net(r.destination)) is not None
            and net.prefixlen > 0
        ]
        others = {n: c for n, c in cidrs.items() if n != name}
        covered: dict[str, RouteEntry] = {}
        dead: dict[str, RouteEntry] = {}
        for other, cidr in others.items():
            best = max(
                (
                    (net, r)
                    for net, r in routes
                    if net.version == cidr.version and cidr.subnet_of(net)  # type: ignore[arg-type]
                ),
                key=lambda nr: nr[0].prefixlen,
                default=None,
            )
            if best is None:
                continue
            if _forwards(best[1]):
                covered[other] = best[1]
            else:
                dead[other] = best[1]
        if not covered:
            continue  # this CNI does not route per node (or the file is partial)
        node = model.nodes[name]
        for other in sorted(others):
            if other in covered:
                continue
            cidr = others[other]
            example_node, example = next(iter(sorted(covered.items())))
            how = "a blackhole/unreachable route" if other in dead else "no route"
            yield Fault(
                layer=Layer.NODE,
                severity=Severity.ERROR,
                kind="Node",
                meta=node.meta if node else Meta(name=name),
                artifacts=True,
                message=(
                    f"node {name} has {how} to node {other}'s podCIDR {cidr}: its pods cannot "
                    f"reach pods on {other} (it routes to {example_node}'s "
                    f"{others[example_node]} via {example.gateway or example.device})"
                ),
                evidence=[
                    Evidence(f"Node/{other}", "spec.podCIDR", str(cidr)),
                    Evidence(f"Node/{name}", f"ip route {cidr}", how),
                    Evidence(
                        f"Node/{name}",
                        f"ip route {example.destination}",
                        " ".join(
                            x
                            for x in (
                                f"via {example.gateway}" if example.gateway else "",
                                f"dev {example.device}" if example.device else "",
                            )
                            if x
                        ),
                    ),
                ],
                confirm=(
                    cmd("ip", "route", "get", str(next(cidr.hosts(), cidr.network_address))).note(
                        f"on {name}"
                    ),
                ),
                fix=Fix(
                    text=f"Restart the CNI agent on {name} so it re-programs its routes, and read "
                    "its log for why it missed the node."
                ),
            )
