"""What the flow checks (POL309, POL310, CNI411) share: endpoints, evidence, commands.

Every command is a :class:`~netsleuth.model.commands.Command` value built
from argument lists; every name comes from the flows or the model and is
untrusted text.
"""

from __future__ import annotations

from collections.abc import Sequence

from netsleuth.flows import DropGroup, ForwardedGroup, Side
from netsleuth.flows.filters import Direction, side_filters
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command, cmd
from netsleuth.model.findings import Evidence
from netsleuth.model.objects import Pod
from netsleuth.policy import Decision, Endpoint, IPEndpoint, PodEndpoint, evaluate

L4 = ("TCP", "UDP", "SCTP")
# Labels a controller adds to every pod: never the ones to select a workload by.
_CONTROLLER_LABELS = frozenset(
    {"pod-template-hash", "controller-revision-hash", "pod-template-generation"}
)


def endpoint(side: Side | None, ips: Sequence[str]) -> Endpoint | None:
    """The engine endpoint for a side: its model pod, else its (first) address."""
    if side is None:
        return None
    if side.pod is not None:
        return PodEndpoint(side.pod)
    if side.kind in ("world", "address", "node", "reserved") and ips:
        return IPEndpoint(ips[0])
    return None


def decisions(
    model: ClusterModel, group: DropGroup | ForwardedGroup, limit: int = 3
) -> list[tuple[int, Decision]]:
    """The engine's verdict for the group's most seen ports (TCP/UDP/SCTP only)."""
    if group.protocol not in L4:
        return []
    src = endpoint(group.src, group.src_ips)
    dst = endpoint(group.dst, group.dst_ips)
    if src is None or dst is None or not isinstance(dst, PodEndpoint):
        return []
    return [(p, evaluate(model, src, dst, group.protocol, p)) for p in group.top_ports(limit)]


def ports_text(group: DropGroup | ForwardedGroup) -> str:
    ports = ", ".join(str(p) for p in group.top_ports())
    if group.ports_overflow:
        ports += f" and {group.ports_overflow} flows to other ports"
    return f"{group.protocol or 'IP'} {ports}" if ports else (group.protocol or "IP")


def when_text(group: DropGroup | ForwardedGroup) -> str:
    if group.count == 1 or group.first_text == group.last_text:
        return f"at {group.first_text}" if group.first_text else ""
    return f"from {group.first_text} to {group.last_text}"


def flow_evidence(group: DropGroup | ForwardedGroup, what: str) -> list[Evidence]:
    nodes = ", ".join(f"{n} ({c})" for n, c in group.nodes.items()) or "not given"
    ev = [
        Evidence(f"hubble:{group.origin or '?'}", what, f"{group.count} flows {when_text(group)}"),
        Evidence("hubble", "node_name", nodes),
    ]
    if group.src_ips:
        ev.append(Evidence("hubble", "IP.source", ", ".join(group.src_ips)))
    if group.dst_ips:
        ev.append(Evidence("hubble", "IP.destination", ", ".join(group.dst_ips)))
    return ev


def hubble_cmd(model: ClusterModel, group: DropGroup | ForwardedGroup, verdict: str) -> Command:
    """``hubble observe`` for the group's flows: each side by its exact workload, pod or
    Service (:func:`netsleuth.flows.filters.side_filters`, never a name prefix that selects
    ``api-gateway`` for ``api``), or by the addresses the flows showed when Hubble did
    not name the pod (a side matched only by its IP) or nothing else identifies it."""
    args = ["hubble", "observe", "--verdict", verdict]
    sides: tuple[tuple[Direction, Side | None, list[str]], ...] = (
        ("from", group.src, group.src_ips),
        ("to", group.dst, group.dst_ips),
    )
    for direction, side, ips in sides:
        exact = side_filters(model, side.key, direction) if side and not side.via_ip else []
        if exact and side is not None and side.pod is None and side.key.startswith("pod/"):
            # a pod missing from the model: its name is a prefix, its addresses narrow it
            exact += [arg for ip in ips for arg in (f"--{direction}-ip", ip)]
        if exact:
            args += exact
        elif ips:
            args += [f"--{direction}-ip", ips[0]]
    ports = group.top_ports(1)
    if ports:
        args += ["--to-port", str(ports[0])]
    if group.protocol in L4:
        args += ["--protocol", group.protocol.lower()]
    return cmd(*args)


def explain_cmd(group: DropGroup | ForwardedGroup) -> Command | None:
    src, dst = group.src, group.dst
    if src is None or dst is None or dst.pod is None:
        return None
    if src.pod is not None:
        src_text = f"{src.pod.namespace}/{src.pod.name}"
    elif group.src_ips:
        src_text = group.src_ips[0]
    else:
        return None
    ports = group.top_ports(1)
    args = ["netsleuth", "explain", src_text, f"{dst.pod.namespace}/{dst.pod.name}"]
    if ports and group.protocol in L4:
        args += ["--port", f"{group.protocol.lower()}/{ports[0]}"]
    return cmd(*args)


def selector_labels(pod: Pod) -> dict[str, str]:
    """The pod's own labels, without the ones controllers stamp on every pod."""
    return {k: v for k, v in sorted(pod.labels.items()) if k not in _CONTROLLER_LABELS}
