"""Workload-level connectivity: every allowed connection, and its diff.

Peers are a pod's top-level owner (``ClusterModel.owner``, as far as the
input shows), bare pods, the external address ranges induced by the
ipBlocks (the cidr/except boundaries split the address space into ranges
that every policy treats alike), and the ingress-controller pseudo-peer
when Ingresses exist.

This implementation asks the reference evaluator for one representative pod
per workload (pods of a workload share labels and ports; one whose IP
differs inside an ipBlock boundary would be a distinct peer and is not
split out here). It is exact for that representative and meant for
clusters of up to a few hundred workloads; the fast matrix engine the
design calls for is not written yet. Self-connections are omitted, as
netpol-analyzer does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel, WorkloadRef
from netsleuth.model.intervals import IPV4_MAX, IntervalSet, format_ip, parse_cidr
from netsleuth.model.objects import Pod
from netsleuth.policy.decision import Endpoint, IngressControllerEndpoint, IPEndpoint, PodEndpoint
from netsleuth.policy.reference import allowed_ports
from netsleuth.policy.semantics import PROTOCOLS

ALL = 65535


@dataclass(frozen=True, slots=True)
class Peer:
    kind: str  # a workload kind, "Pod", "ip_range" or "pseudo"
    namespace: str | None
    name: str

    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace or "", self.name)

    def describe(self) -> str:
        if self.kind == "ip_range":
            return self.name
        if self.kind == "pseudo":
            return self.name
        return f"{self.namespace}/{self.name}[{self.kind}]"

    def json(self) -> dict[str, str]:
        if self.kind == "ip_range":
            return {"ip_range": self.name}
        if self.kind == "pseudo":
            return {"pseudo": self.name}
        return {"namespace": self.namespace or "", "name": self.name, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class Connection:
    src: Peer
    dst: Peer
    ports: tuple[tuple[str, IntervalSet], ...]
    """Allowed destination ports per protocol (protocols with none are left out)."""

    @property
    def all(self) -> bool:
        return len(self.ports) == len(PROTOCOLS) and all(s.size() == ALL for _, s in self.ports)

    def conn_json(self) -> dict[str, object]:
        if self.all:
            return {"all": True}
        return {proto: s.describe() for proto, s in self.ports}

    def conn_text(self) -> str:
        if self.all:
            return "All Connections"
        return ",".join(f"{proto} {','.join(s.describe())}" for proto, s in self.ports)


def external_ranges(model: ClusterModel) -> list[tuple[str, str]]:
    """IPv4 ranges induced by every ipBlock cidr/except: ``(label first-last, representative address)``."""
    cuts = {0, IPV4_MAX + 1}
    for pol in model.network_policies:
        for rule in (*pol.ingress, *pol.egress):
            for peer in rule.peers:
                if peer.ip_block is None:
                    continue
                for c in (peer.ip_block.cidr, *peer.ip_block.except_):
                    v, lo, hi = parse_cidr(c)
                    if v == 4:
                        cuts.update((lo, hi + 1))
    bounds = sorted(cuts)
    out = []
    for lo, nxt in itertools.pairwise(bounds):
        hi = nxt - 1
        out.append((f"{format_ip(4, lo)}-{format_ip(4, hi)}", format_ip(4, lo if lo != 0 else 1)))
    return (
        out
        if len(out) > 1
        or any(
            p.ip_block
            for pol in model.network_policies
            for r in (*pol.ingress, *pol.egress)
            for p in r.peers
        )
        else []
    )


def _representatives(model: ClusterModel) -> dict[Peer, Pod]:
    reps: dict[Peer, Pod] = {}
    for pod in sorted(model.pods, key=lambda p: (p.namespace, p.name)):
        if pod.host_network:
            continue
        ref: WorkloadRef = model.owner(pod)
        peer = Peer(ref.kind, ref.namespace, ref.name)
        have = reps.get(peer)
        if have is None or (not have.pod_ips and pod.pod_ips):
            reps[peer] = pod
    return reps


def connectivity(
    model: ClusterModel, *, focus: str | None = None, port: tuple[str, int] | None = None
) -> list[Connection]:
    """Allowed connections, sorted. ``focus``: ``ns/name`` of a workload (either side);
    ``port``: keep connections that allow this (protocol, port)."""
    reps = _representatives(model)
    endpoints: list[tuple[Peer, Endpoint]] = [(p, PodEndpoint(pod)) for p, pod in reps.items()]
    externals: list[tuple[Peer, Endpoint]] = [
        (Peer("ip_range", None, label), IPEndpoint(ip)) for label, ip in external_ranges(model)
    ]
    if model.ingresses:
        externals.append((Peer("pseudo", None, "ingress-controller"), IngressControllerEndpoint()))
    out: list[Connection] = []

    def add(src: Peer, s: Endpoint, dst: Peer, d: Endpoint) -> None:
        if focus and focus not in (f"{src.namespace}/{src.name}", f"{dst.namespace}/{dst.name}"):
            return
        combined = allowed_ports(model, s, d)["combined"]
        ports = tuple((proto, combined[proto]) for proto in PROTOCOLS if combined.get(proto))
        if not ports:
            return
        if port is not None and not any(proto == port[0] and port[1] in s_ for proto, s_ in ports):
            return
        out.append(Connection(src, dst, ports))

    for sp, s in endpoints:
        for dp, d in endpoints:
            if sp != dp:
                add(sp, s, dp, d)
    for xp, x in externals:
        for wp, w in endpoints:
            add(xp, x, wp, w)
            if xp.kind == "ip_range":
                add(wp, w, xp, x)
    out.sort(key=lambda c: (c.src.key(), c.dst.key()))
    return out


@dataclass(frozen=True, slots=True)
class ConnDiff:
    lost: tuple[Connection, ...]
    gained: tuple[Connection, ...]
    changed: tuple[tuple[Connection, Connection], ...]


def diff(before: list[Connection], after: list[Connection]) -> ConnDiff:
    b = {(c.src, c.dst): c for c in before}
    a = {(c.src, c.dst): c for c in after}
    lost = tuple(c for k, c in b.items() if k not in a)
    gained = tuple(c for k, c in a.items() if k not in b)
    changed = tuple((b[k], a[k]) for k in b.keys() & a.keys() if b[k].ports != a[k].ports)
    return ConnDiff(
        lost=lost,
        gained=gained,
        changed=tuple(sorted(changed, key=lambda x: (x[0].src.key(), x[0].dst.key()))),
    )
