"""Exposure: what can reach each workload, from the loaded objects and from what the rules admit.

Two sections, both per workload (hostNetwork workloads included, marked):

**Actual exposure** — computed from the workload matrix
(:mod:`netsleuth.policy.connlist`), i.e. from the objects in the input:

- **from other namespaces**: the workloads of other namespaces that may
  open a connection to it, and the union of the ports they may use;
- **from outside the cluster**: the ports open to addresses outside the
  cluster, i.e. ``0.0.0.0/0`` minus the cluster's own ranges (node
  podCIDRs, node addresses, pod IPs and Service ClusterIPs in the input).
  Every address range the policies induce that holds such an address
  counts. The answer carries the ranges that get in.
- **protection**: whether a NetworkPolicy isolates its pods in each
  direction *and* its rules leave something out (a policy whose rule is
  ``ingress: [{}]`` isolates and admits everything: not protected).
  hostNetwork pods are never protected: policies do not select them.

**Potential exposure** — what the workload's NetworkPolicies admit,
described by selector rather than by the loaded objects that happen to
match (as netpol-analyzer's exposure analysis does): ``namespaceSelector:
{}`` is "any pod in any namespace" whether the input holds one namespace
or fifty, so adding an unrelated namespace changes the first section and
not this one. Per direction, each admitted peer with its ports:

- ``any peer`` — the direction is not isolated, or a rule has no
  ``from``/``to`` (every pod and every address);
- ``pods with app=x in namespace a`` — a ``podSelector`` alone (the policy's
  own namespace); ``any pod in namespaces with team=y`` — a
  ``namespaceSelector`` alone (``{}``: any namespace); both in one peer:
  ``pods with app=x in namespaces with team=y``;
- ``0.0.0.0/0 except 10.0.0.0/8`` — an ``ipBlock``.

Ports are the rule's, per protocol; an ingress named port is resolved on
the workload's own pods (a name they do not define admits nothing), an
egress named port resolves on whatever peer is reached and stays a name.
AdminNetworkPolicy/BaselineAdminNetworkPolicy tiers are not folded into
this section; a workload they select carries a note (``explain`` and
``connectivity`` evaluate them exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.intervals import ALL_PORTS, IPV4_MAX, IntervalSet, parse_cidr, parse_ip
from netsleuth.model.objects import IPBlock, NetworkPolicy, Pod, PolicyPeer, PolicyRule
from netsleuth.model.selectors import LabelSelector, Operator
from netsleuth.policy.connlist import Peer, WorkloadMatrix, workload_matrix
from netsleuth.policy.matrix import EXTERNAL, HOST, POD
from netsleuth.policy.reference import admin_policies_selecting, policies_selecting
from netsleuth.policy.semantics import (
    PROTOCOLS,
    Direction,
    describe_ip_block,
    ip_block_set,
    normalise_protocol,
    port_entry_set,
)

# --------------------------------------------------------------------------- potential exposure


def _selector_json(sel: LabelSelector) -> dict[str, object]:
    out: dict[str, object] = {}
    if sel.labels:
        out["matchLabels"] = dict(sel.labels)
    if sel.expressions:
        out["matchExpressions"] = [
            {"key": r.key, "operator": str(r.operator), "values": sorted(r.values)}
            if r.operator in (Operator.IN, Operator.NOT_IN)
            else {"key": r.key, "operator": str(r.operator)}
            for r in sel.expressions
        ]
    return out


def _with(sel: LabelSelector) -> str:
    return (
        sel.describe()
        if sel.invalid is not None
        else ",".join([f"{k}={v}" for k, v in sel.labels] + [r.describe() for r in sel.expressions])
    )


_NS_NAME = "kubernetes.io/metadata.name"


@dataclass(frozen=True, slots=True)
class PeerSelector:
    """A peer a rule admits, as the rule states it.

    ``kind`` ``any`` (every pod and address), ``pods`` (``namespace``: the
    policy's namespace for a podSelector alone; else ``namespaces``, a
    namespace selector; ``pods``: a pod selector or ``None`` for every pod),
    or ``ip_block``.
    """

    kind: str
    namespace: str | None = None
    namespaces: LabelSelector | None = None
    pods: LabelSelector | None = None
    ip_block: IPBlock | None = None

    @staticmethod
    def of(policy: NetworkPolicy, peer: PolicyPeer) -> PeerSelector | None:
        """``None`` for a peer that matches nothing (no field at all)."""
        if peer.ip_block is not None:
            return PeerSelector("ip_block", ip_block=peer.ip_block)
        if peer.namespace_selector is None and peer.pod_selector is None:
            return None
        pods = peer.pod_selector if peer.pod_selector and not peer.pod_selector.is_empty else None
        if peer.namespace_selector is None:
            return PeerSelector("pods", namespace=policy.namespace, pods=pods)
        return PeerSelector("pods", namespaces=peer.namespace_selector, pods=pods)

    def covers_every_pod(self) -> bool:
        return self.kind == "any" or (
            self.kind == "pods"
            and self.namespaces is not None
            and self.namespaces.is_empty
            and self.pods is None
        )

    def describe(self) -> str:
        if self.kind == "any":
            return "any peer (every pod and every address)"
        if self.kind == "ip_block":
            assert self.ip_block is not None
            return describe_ip_block(self.ip_block)
        who = "any pod" if self.pods is None else f"pods with {_with(self.pods)}"
        if self.namespace is not None:
            return f"{who} in namespace {self.namespace}"
        assert self.namespaces is not None
        ns = self.namespaces
        if ns.is_empty:
            return f"{who} in any namespace"
        if not ns.expressions and len(ns.labels) == 1 and ns.labels[0][0] == _NS_NAME:
            return f"{who} in namespace {ns.labels[0][1]}"
        return f"{who} in namespaces with {_with(ns)}"

    def json(self) -> dict[str, object]:
        if self.kind == "any":
            return {"any": True}
        if self.kind == "ip_block":
            assert self.ip_block is not None
            return {"ip_block": {"cidr": self.ip_block.cidr, "except": list(self.ip_block.except_)}}
        out: dict[str, object] = {}
        if self.namespace is not None:
            out["namespace"] = self.namespace
        else:
            assert self.namespaces is not None
            out["namespaces"] = _selector_json(self.namespaces)
        out["pods"] = _selector_json(self.pods) if self.pods is not None else {}
        return out

    def sort_key(self) -> tuple[int, str]:
        return ({"any": 0, "pods": 1, "ip_block": 2}[self.kind], self.describe())


PortSets = tuple[tuple[str, IntervalSet], ...]


@dataclass(frozen=True, slots=True)
class Admitted:
    """One admitted peer with the ports the rules give it, and the policies that do."""

    peer: PeerSelector
    ports: PortSets
    named_ports: tuple[str, ...] = ()
    """Named ports (``name/PROTO``) resolved on the peer (egress): the number is the peer's."""
    policies: tuple[str, ...] = ()

    def json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "peer": self.peer.json(),
            "description": self.peer.describe(),
            "conn": ports_json(self.ports),
            "policies": list(self.policies),
        }
        if self.named_ports:
            out["named_ports"] = list(self.named_ports)
        return out

    def ports_text(self) -> str:
        text = ports_text(self.ports) if self.ports else ""
        if self.named_ports:
            named = "named " + ", ".join(self.named_ports)
            text = f"{text}; {named}" if text else named
        return text or "nothing"


@dataclass(frozen=True, slots=True)
class PotentialDirection:
    """What the policies admit in one direction."""

    isolated: bool
    admitted: tuple[Admitted, ...]
    notes: tuple[str, ...] = ()

    @property
    def admits_everything(self) -> bool:
        """Every pod and every IPv4 address on every port: the isolation protects nothing
        (``ingress: [{}]``, or ``namespaceSelector: {}`` plus ``ipBlock 0.0.0.0/0``)."""
        all_ports = [a for a in self.admitted if _is_all(a.ports)]
        if any(a.peer.kind == "any" for a in all_ports):
            return True
        pods = any(a.peer.covers_every_pod() for a in all_ports)
        v4 = IntervalSet.of(
            r
            for a in all_ports
            if a.peer.ip_block is not None
            for r in ip_block_set(a.peer.ip_block).v4
        )
        return pods and v4 == IntervalSet.single(0, IPV4_MAX)

    @property
    def protected(self) -> bool:
        return self.isolated and not self.admits_everything

    def json(self) -> dict[str, object]:
        return {
            "isolated": self.isolated,
            "admits": [a.json() for a in self.admitted],
            "notes": list(self.notes),
        }


def _is_all(ports: PortSets) -> bool:
    return len(ports) == len(PROTOCOLS) and all(s == ALL_PORTS for _, s in ports)


ANY_PEER = PeerSelector("any")
ALL_CONN: PortSets = tuple((p, ALL_PORTS) for p in PROTOCOLS)


def _rule_ports(rule: PolicyRule, pod: Pod, direction: Direction) -> tuple[PortSets, set[str]]:
    """The ports of one rule as seen from ``pod`` (the destination for ingress)."""
    if not rule.ports:
        return ALL_CONN, set()
    sets: dict[str, IntervalSet] = {}
    named: set[str] = set()
    for entry in rule.ports:
        proto = normalise_protocol(entry.protocol)
        if proto not in PROTOCOLS:
            continue
        is_name = isinstance(entry.port, str) and not entry.port.isdigit()
        if is_name and direction is Direction.EGRESS:
            named.add(f"{entry.port}/{proto}")
            continue
        es = port_entry_set(entry, pod if direction is Direction.INGRESS else None)
        if es.ports:
            sets[proto] = sets.get(proto, IntervalSet()) | es.ports
    return tuple((p, sets[p]) for p in PROTOCOLS if p in sets), named


def potential(model: ClusterModel, pods: list[Pod], direction: Direction) -> PotentialDirection:
    """What the NetworkPolicies selecting ``pods`` (one workload) admit in ``direction``.

    The union over the pods (a workload reaches what *some* of its pods reach);
    ``isolated`` only when every pod is isolated.
    """
    word = "ingress" if direction is Direction.INGRESS else "egress"
    merged: dict[PeerSelector, tuple[dict[str, IntervalSet], set[str], set[str]]] = {}
    notes: list[str] = []
    isolated = bool(pods)

    def add(peer: PeerSelector, ports: PortSets, named: set[str], policy: str | None) -> None:
        sets, names, pols = merged.setdefault(peer, ({}, set(), set()))
        for proto, iv in ports:
            sets[proto] = sets.get(proto, IntervalSet()) | iv
        names.update(named)
        if policy is not None:
            pols.add(policy)

    seen: set[tuple[object, ...]] = set()
    for pod in pods:
        key = (id(pod.labels), pod.host_network, id(pod.spec))
        if key in seen:
            continue
        seen.add(key)
        if pod.host_network:
            isolated = False
            add(ANY_PEER, ALL_CONN, set(), None)
            note = "hostNetwork: its pods use the node's network, no policy selects them"
            if note not in notes:
                notes.append(note)
            continue
        selecting = policies_selecting(model, pod, direction)
        if admin_policies_selecting(model, pod, direction):
            note = (
                f"AdminNetworkPolicy/BaselineAdminNetworkPolicy rules also apply to its {word} "
                "(not shown here; explain and connectivity evaluate them)"
            )
            if note not in notes:
                notes.append(note)
        if not selecting:
            isolated = False
            add(ANY_PEER, ALL_CONN, set(), None)
            continue
        for pol in selecting:
            ref = f"{pol.namespace}/{pol.name}"
            for rule in pol.ingress if direction is Direction.INGRESS else pol.egress:
                ports, named = _rule_ports(rule, pod, direction)
                if not ports and not named:
                    continue
                if not rule.peers:
                    add(ANY_PEER, ports, named, ref)
                    continue
                for peer in rule.peers:
                    sel = PeerSelector.of(pol, peer)
                    if sel is not None:
                        add(sel, ports, named, ref)
    admitted = tuple(
        sorted(
            (
                Admitted(
                    peer,
                    tuple((p, sets[p]) for p in PROTOCOLS if p in sets),
                    tuple(sorted(names)),
                    tuple(sorted(pols)),
                )
                for peer, (sets, names, pols) in merged.items()
            ),
            key=lambda a: a.peer.sort_key(),
        )
    )
    return PotentialDirection(isolated, admitted, tuple(notes))


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class Exposure:
    peer: Peer
    from_namespaces: tuple[Peer, ...]
    """Workloads of other namespaces that can reach it."""
    namespace_ports: tuple[tuple[str, IntervalSet], ...]
    outside_ports: tuple[tuple[str, IntervalSet], ...]
    outside_ranges: tuple[str, ...]
    ingress: PotentialDirection
    egress: PotentialDirection
    host_network: bool = False

    @property
    def ingress_protected(self) -> bool:
        return self.ingress.protected

    @property
    def egress_protected(self) -> bool:
        return self.egress.protected

    @property
    def kind(self) -> str:
        return self.peer.kind

    @property
    def namespace(self) -> str:
        return self.peer.namespace or ""

    @property
    def name(self) -> str:
        return self.peer.name

    def json(self) -> dict[str, object]:
        return {
            "workload": self.peer.json(),
            "host_network": self.host_network,
            "from_other_namespaces": {
                "workloads": [p.json() for p in self.from_namespaces],
                "conn": ports_json(self.namespace_ports),
            },
            "from_outside_cluster": {
                "conn": ports_json(self.outside_ports),
                "ip_ranges": list(self.outside_ranges),
            },
            "ingress_protected": self.ingress_protected,
            "egress_protected": self.egress_protected,
            "potential": {"ingress": self.ingress.json(), "egress": self.egress.json()},
        }


def ports_json(ports: tuple[tuple[str, IntervalSet], ...]) -> dict[str, object]:
    if _is_all(ports):
        return {"all": True}
    return {p: s.describe() for p, s in ports}


def ports_text(ports: tuple[tuple[str, IntervalSet], ...]) -> str:
    if not ports:
        return "nothing"
    if _is_all(ports):
        return "all ports"
    return "; ".join(f"{p} {','.join(s.describe())}" for p, s in ports)


def cluster_ranges(model: ClusterModel) -> IntervalSet:
    """IPv4 addresses the cluster itself uses: node podCIDRs and addresses, pod IPs, ClusterIPs."""
    ranges: list[tuple[int, int]] = []

    def add_cidr(text: str) -> None:
        try:
            v, lo, hi = parse_cidr(text)
        except ValueError:
            return
        if v == 4:
            ranges.append((lo, hi))

    def add_ip(text: str) -> None:
        try:
            v, x = parse_ip(text)
        except ValueError:
            return
        if v == 4:
            ranges.append((x, x))

    for node in model.nodes.values():
        for c in node.pod_cidrs:
            add_cidr(c)
        for a in node.addresses:
            add_ip(a.address)
    for pod in model.pods:
        for ip in pod.pod_ips:
            add_ip(ip)
    for svc in model.services:
        for ip in (*svc.cluster_ips, svc.cluster_ip or ""):
            if ip and ip != "None":
                add_ip(ip)
    return IntervalSet.of(ranges)


def _outside_units(model: ClusterModel, wm: WorkloadMatrix) -> list[int]:
    """Peer indexes of the address ranges holding some address outside the cluster."""
    inside = cluster_ranges(model)
    out = []
    for i, peer in enumerate(wm.peers):
        if wm.kinds[i] != EXTERNAL:
            continue
        r = peer.address_range()
        assert r is not None
        version, a, b = r
        if version != 4:
            out.append(i)
            continue
        if IntervalSet.single(a, b) - inside:
            out.append(i)
    return out


def exposure(model: ClusterModel, wm: WorkloadMatrix | None = None) -> list[Exposure]:
    """One row per workload (hostNetwork ones included), sorted by namespace and name."""
    wm = wm if wm is not None else workload_matrix(model)
    atoms = wm.engine.atoms
    kinds = np.array(wm.kinds)
    pods_of: dict[Peer, list[Pod]] = {}
    for u in wm.engine.units:
        if u.kind in (POD, HOST):
            pods_of.setdefault(u.key[0], []).extend(u.pods)  # type: ignore[index]
    workloads = np.array([i for i, p in enumerate(wm.peers) if p in pods_of], dtype=np.int64)
    ns = np.array([p.namespace or "" for p in wm.peers])
    outside = _outside_units(model, wm)
    rows = []
    for j in workloads.tolist():
        peer = wm.peers[j]
        others = workloads[ns[workloads] != ns[j]]
        col = [arr[others, j] for arr in wm.chunks]
        reach = np.zeros(len(others), dtype=bool)
        for c in col:
            reach |= c != 0
        mask = 0
        for c, arr in enumerate(col):
            m = np.bitwise_or.reduce(arr[reach]) if reach.any() else 0
            mask |= int(m) << (64 * c)
        omask = 0
        got_in: list[str] = []
        for i in outside:
            m = wm.mask(i, j)
            if m:
                omask |= m
                got_in.append(wm.peers[i].name)
        pods = pods_of[peer]
        rows.append(
            Exposure(
                peer=peer,
                from_namespaces=tuple(wm.peers[k] for k in others[reach].tolist()),
                namespace_ports=_ports(atoms.to_sets(mask)),
                outside_ports=_ports(atoms.to_sets(omask)),
                outside_ranges=_merge_labels(got_in),
                ingress=potential(model, pods, Direction.INGRESS),
                egress=potential(model, pods, Direction.EGRESS),
                host_network=all(p.host_network for p in pods),
            )
        )
    del kinds
    rows.sort(key=lambda r: r.peer.sort_key())
    return rows


def _merge_labels(labels: list[str]) -> tuple[str, ...]:
    """Adjacent ranges (``first-last``, ``a.b.c.d/32``) as one."""
    out: list[tuple[int, int, int]] = []
    for text in labels:
        r = Peer("ip_range", None, text).address_range()
        assert r is not None
        if out and out[-1][0] == r[0] and out[-1][2] + 1 == r[1]:
            out[-1] = (r[0], out[-1][1], r[2])
        else:
            out.append(r)
    return tuple(Peer.for_range(*r).name for r in out)


def _ports(sets: dict[str, IntervalSet]) -> tuple[tuple[str, IntervalSet], ...]:
    return tuple((p, sets[p]) for p in PROTOCOLS if p in sets)


__all__ = [
    "IPV4_MAX",
    "Admitted",
    "Exposure",
    "PeerSelector",
    "PotentialDirection",
    "cluster_ranges",
    "exposure",
    "ports_json",
    "ports_text",
    "potential",
]
