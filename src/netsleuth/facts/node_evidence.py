"""Facts from node evidence that more than one analysis reads: timed log events per node
and per component, whose network namespace a capture shows, kube-ipvs0's addresses.

Log events come from two places and are merged here: the node's own files
(``dmesg``, ``kube-proxy.log`` in its folder) and the container logs of a
``kubectl cluster-info dump`` (a kube-proxy pod's log belongs to the node
the pod runs on).
"""

from __future__ import annotations

from collections.abc import Iterable

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.logs import EventKind, LogEvent
from netsleuth.model.node_artifacts import NodeArtifacts


def events_on_node(model: ClusterModel, node: str, kinds: Iterable[EventKind]) -> list[LogEvent]:
    """Events of ``kinds`` in ``node``'s files and in the logs of the pods it runs."""
    wanted = set(kinds)
    out: list[LogEvent] = []
    art = model.node_artifacts.get(node)
    if art is not None:
        out.extend(e for e in art.events if e.kind in wanted)
    for log in model.container_logs:
        pod = model.pod(log.namespace, log.pod)
        if pod is None or pod.node_name != node:
            continue
        out.extend(e for e in log.events if e.kind in wanted)
    return out


def nodes_with_events(model: ClusterModel, kinds: Iterable[EventKind]) -> dict[str, list[LogEvent]]:
    """``node -> events`` for every node that has events of ``kinds``."""
    wanted = set(kinds)
    names = set(model.node_artifacts)
    for log in model.container_logs:
        if any(e.kind in wanted for e in log.events):
            pod = model.pod(log.namespace, log.pod)
            if pod is not None and pod.node_name:
                names.add(pod.node_name)
    out: dict[str, list[LogEvent]] = {}
    for name in sorted(names):
        evs = events_on_node(model, name, wanted)
        if evs:
            out[name] = evs
    return out


def component_events(
    model: ClusterModel, source: str, kinds: Iterable[EventKind]
) -> list[LogEvent]:
    """Events of ``kinds`` from every log of one component (``coredns-log``…), wherever
    it was found (node files or container logs)."""
    wanted = set(kinds)
    out = [
        e
        for art in model.node_artifacts.values()
        for e in art.events
        if e.source == source and e.kind in wanted
    ]
    out.extend(
        e
        for log in model.container_logs
        for e in log.events
        if e.source == source and e.kind in wanted
    )
    return out


def describe(ev: LogEvent) -> str:
    """``4× "<example>" (first E0515 10:11:12.345678, last …; file:line)``."""
    times = ""
    if ev.first_time:
        times = f"first {ev.first_time}"
        if ev.count > 1 and ev.last_time and ev.last_time != ev.first_time:
            times += f", last {ev.last_time}"
        times += "; "
    where = ev.file if not ev.pod else f"{ev.pod} {ev.container or ''} log".strip()
    return f"{ev.count}× {ev.example[:160]!r} ({times}{where}:{ev.line})"


def where_seen(ev: LogEvent) -> str:
    """The object an event came from, for evidence: the pod, or the node's file."""
    if ev.pod:
        return f"Pod/{ev.pod}"
    return f"Node/{ev.node}" if ev.node else ev.file


def capture_netns(model: ClusterModel, art: NodeArtifacts) -> str | None:
    """``node`` or ``pod``: whose network namespace a node's captures show.

    The Node's InternalIP among the captured addresses means the node's namespace;
    addresses that are all pod IPs (inside a pod CIDR, or a pod's IP) mean
    ``kubectl exec`` into a pod. Without addresses the interfaces decide
    (:attr:`NodeArtifacts.netns`).
    """
    if art.addresses:
        mine = {a.address for a in art.addresses if a.interface != "lo"}
        node = model.nodes.get(art.node)
        if node is not None and node.internal_ip and node.internal_ip in mine:
            return "node"
        pod_ips = {ip for ip in mine if ip in model.pods_by_ip}
        if (
            mine
            and pod_ips == mine
            and not any(p.host_network for ip in pod_ips for p in model.pods_by_ip[ip])
        ):
            return "pod"
    return art.netns


def kube_ipvs0_addresses(art: NodeArtifacts) -> set[str] | None:
    """The addresses kube-proxy bound to ``kube-ipvs0``: from ``ip addr``, or from the
    local routing table (``local 10.96.0.10 dev kube-ipvs0``); ``None`` when neither was
    captured."""
    if art.addresses is not None and any(link.name == "kube-ipvs0" for link in art.links or ()):
        return {a.address for a in art.addresses if a.interface == "kube-ipvs0"}
    local = [r for r in art.routes or () if r.table == "local" and r.type == "local"]
    if local:
        return {r.destination.split("/")[0] for r in local if r.device == "kube-ipvs0"}
    return None
