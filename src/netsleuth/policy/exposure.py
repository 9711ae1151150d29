"""Exposure: what can reach each workload from outside its namespace and from outside the cluster.

Computed from the workload matrix (:mod:`netsleuth.policy.connlist`):

- **from other namespaces**: the workloads of other namespaces that may
  open a connection to it, and the union of the ports they may use;
- **from outside the cluster**: the ports open to addresses outside the
  cluster, i.e. ``0.0.0.0/0`` minus the cluster's own ranges (node
  podCIDRs, node addresses, pod IPs and Service ClusterIPs in the input).
  Every address range the ipBlocks induce that holds such an address
  counts; with no ipBlock at all, a workload is reachable from outside
  exactly when its ingress is not restricted to pods. The answer carries
  the ranges that get in.
- **protection**: whether any NetworkPolicy selects the workload's pods
  for ingress / egress (an unprotected direction allows everything).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.intervals import IPV4_MAX, IntervalSet, parse_cidr, parse_ip
from netsleuth.policy.connlist import Peer, WorkloadMatrix, workload_matrix
from netsleuth.policy.matrix import EXTERNAL, POD, PolicyMatrix, Unit
from netsleuth.policy.semantics import PROTOCOLS


@dataclass(frozen=True, slots=True)
class Exposure:
    peer: Peer
    from_namespaces: tuple[Peer, ...]
    """Workloads of other namespaces that can reach it."""
    namespace_ports: tuple[tuple[str, IntervalSet], ...]
    outside_ports: tuple[tuple[str, IntervalSet], ...]
    outside_ranges: tuple[str, ...]
    ingress_protected: bool
    egress_protected: bool

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
        }


def ports_json(ports: tuple[tuple[str, IntervalSet], ...]) -> dict[str, object]:
    if len(ports) == len(PROTOCOLS) and all(s.size() == 65535 for _, s in ports):
        return {"all": True}
    return {p: s.describe() for p, s in ports}


def ports_text(ports: tuple[tuple[str, IntervalSet], ...]) -> str:
    if not ports:
        return "nothing"
    if len(ports) == len(PROTOCOLS) and all(s.size() == 65535 for _, s in ports):
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
        first, _, last = peer.name.partition("-")
        a, b = ipaddress.ip_address(first), ipaddress.ip_address(last)
        if a.version != 4:
            out.append(i)
            continue
        if IntervalSet.single(int(a), int(b)) - inside:
            out.append(i)
    return out


def exposure(model: ClusterModel, wm: WorkloadMatrix | None = None) -> list[Exposure]:
    """One row per workload, sorted by namespace and name."""
    wm = wm if wm is not None else workload_matrix(model)
    atoms = wm.engine.atoms
    n = len(wm.peers)
    kinds = np.array(wm.kinds)
    pods = np.flatnonzero(kinds == POD)
    ns = np.array([p.namespace or "" for p in wm.peers])
    outside = _outside_units(model, wm)
    no_blocks = False  # the whole IPv4 space is a range of its own when no ipBlock exists
    ing_prot, eg_prot = _protection(model, wm)
    probe: int | None = None
    if no_blocks:
        # No ipBlock anywhere: an outside address is like any address. Ask the engine
        # once with a documentation address (RFC 5737) as an extra unit.
        probe = -1
    rows = []
    for j in pods.tolist():
        others = pods[ns[pods] != ns[j]]
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
        rows.append(
            Exposure(
                peer=wm.peers[j],
                from_namespaces=tuple(wm.peers[k] for k in others[reach].tolist()),
                namespace_ports=_ports(atoms.to_sets(mask)),
                outside_ports=_ports(atoms.to_sets(omask)),
                outside_ranges=tuple(got_in),
                ingress_protected=ing_prot[j],
                egress_protected=eg_prot[j],
            )
        )
    if probe is not None:
        rows = _outside_without_blocks(model, wm, rows)
    del n
    rows.sort(key=lambda r: r.peer.sort_key())
    return rows


def _ports(sets: dict[str, IntervalSet]) -> tuple[tuple[str, IntervalSet], ...]:
    return tuple((p, sets[p]) for p in PROTOCOLS if p in sets)


def _outside_without_blocks(
    model: ClusterModel, wm: WorkloadMatrix, rows: list[Exposure]
) -> list[Exposure]:
    """With no ipBlock, one outside address stands for all: add it as a unit and ask."""
    doc_ip = "203.0.113.10"
    units = [*wm.engine.units, Unit(("ip", "outside"), EXTERNAL, ips=(doc_ip,))]
    engine = PolicyMatrix.build(model, units)
    src = len(units) - 1
    index = {u.key: i for i, u in enumerate(units)}
    out = []
    for r in rows:
        mask = 0
        for u in wm.engine.units:
            key = u.key
            if isinstance(key, tuple) and key and key[0] == r.peer:
                mask |= engine.mask(src, index[key])
        sets = _ports(engine.atoms.to_sets(mask))
        out.append(
            Exposure(
                r.peer,
                r.from_namespaces,
                r.namespace_ports,
                sets,
                ("0.0.0.0-255.255.255.255",) if sets else (),
                r.ingress_protected,
                r.egress_protected,
            )
        )
    return out


def _protection(model: ClusterModel, wm: WorkloadMatrix) -> tuple[list[bool], list[bool]]:
    """Per peer: does any NetworkPolicy select its pods for ingress / egress."""
    ing = [False] * len(wm.peers)
    eg = [False] * len(wm.peers)
    index = {p: i for i, p in enumerate(wm.peers)}
    for u in wm.engine.units:
        if u.kind != POD:
            continue
        peer = u.key[0]  # type: ignore[index]
        i = index[peer]
        pod = u.pods[0]
        for pol in model.policies_in(pod.namespace):
            if not pol.pod_selector.matches(pod.labels):
                continue
            ing[i] = ing[i] or pol.affects_ingress
            eg[i] = eg[i] or pol.affects_egress
    return ing, eg


__all__ = ["IPV4_MAX", "Exposure", "cluster_ranges", "exposure", "ports_json", "ports_text"]
