"""The fast NetworkPolicy engine: every (source, destination, port) verdict at once.

This is the second, independent implementation of the semantics the
reference evaluator (:mod:`netsleuth.policy.reference`) defines for one
pair; differential tests hold the two equal. It shares only the pure
primitives of :mod:`netsleuth.policy.semantics` (named-port resolution,
``ipBlock`` → address set), never the way facts are combined.

How it works
============

**Label classes.** Pods are grouped by what selectors can see: namespace,
pod labels projected on the keys any pod selector mentions, the container
ports whose names any policy mentions, and whether the pod uses
``hostNetwork``. Every selector is evaluated once per label class, with
NumPy over per-key value-code arrays (``matchExpressions`` included).

**IP cells.** Every ``ipBlock`` ``cidr``/``except`` bound splits the address
space; the pieces ("cells") are what ``ipBlock`` peers can tell apart. A pod
sits in the cells of its addresses (``ipBlock`` matches pod IPs too, as the
upstream e2e suite expects); each cell is also an external peer
("address range").

**Units.** The caller groups endpoints into units (a workload, a pod, an
address range, the ingress-controller pseudo-peer); a unit has one label
class and a set of cells. For each rule the engine computes one boolean
peer vector over units: ``selector peers(label class) OR ipBlock(any of the
unit's cells)``.

**Port atoms.** Per protocol, the bounds of every port entry (numbers,
``endPort`` ranges, and every number a used named port resolves to on some
pod) cut 1..65535 into atoms; a port set is a bitmask of atoms. Named ports
resolve per *destination* (the selected pod for ingress, the peer for
egress).

**Combining.** For a source unit ``s`` and destination unit ``d``::

    egress(s, d)  = ALL if s is not egress-isolated
                    else OR over egress rules r selecting s: peer_r(d) ? ports_r(d) : 0
    ingress(s, d) = ALL if d is not ingress-isolated
                    else OR over ingress rules r selecting d: peer_r(s) ? ports_r(d) : 0
    allowed(s, d) = egress(s, d) AND ingress(s, d)

``egress`` depends on the source only through the set of egress policies
selecting it (its *egress profile*), ``ingress`` on the destination only
through its ingress profile and named ports. So the engine builds one row
per egress profile and one column per ingress profile, then gathers the
``units x units`` matrix in row blocks: ``O(profiles x units)`` vector work
plus one gather per cell of the result.

Because the egress part depends on the destination's cells and the
ingress part on the source's cells, a unit holding several cells gets
exactly the union over its pods' pairs: ``OR_{k1,k2} E(k2) AND I(k1) =
(OR_k2 E) AND (OR_k1 I)``. A workload whose pods straddle an ``ipBlock``
bound is therefore reported with every connection *some* of its pods have.

**AdminNetworkPolicy/BaselineAdminNetworkPolicy** are not folded into the
matrix: when any exist, pairs whose source is an ANP/BANP egress subject or
whose destination is an ingress subject are answered by the reference
evaluator (one representative pod per distinct cell set of the unit). The
rest of the matrix is exact. This keeps ANP clusters correct but slow in
proportion to how many pods the admin policies select.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import socket
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.intervals import IPV4_MAX, IPV6_MAX, PORT_MAX, PORT_MIN, IntervalSet, IPSet
from netsleuth.model.objects import NetworkPolicy, Pod, PolicyPeer, PolicyPort, PolicyRule
from netsleuth.model.selectors import LabelSelector, Operator
from netsleuth.policy.semantics import (
    PROTOCOLS,
    cidr_set,
    ip_block_set,
    normalise_protocol,
    resolve_named_port,
)

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
MaskArray = npt.NDArray[np.unsignedinteger]

POD, HOST, EXTERNAL, PSEUDO = "pod", "host", "external", "pseudo"
"""Unit kinds: a pod group, hostNetwork pods, an address range, the ingress-controller pseudo-peer."""

_BLOCK_ROWS = 256


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Unit:
    """A group of endpoints the matrix treats as one row/column.

    ``pods`` must share one label class (see :meth:`PolicyMatrix.label_key`);
    ``ips`` are extra addresses (an address range's representative). ``kind``
    is one of ``pod``, ``host``, ``external``, ``pseudo``.
    """

    key: Hashable
    kind: str
    pods: tuple[Pod, ...] = ()
    ips: tuple[str, ...] = ()
    label: tuple[object, ...] | None = None  # label_key of the pods, when the caller has it


def _parse_ip(text: str) -> tuple[int, int] | None:
    """``(version, value)``; ``None`` for a malformed address. IPv4 on a fast path."""
    try:
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except OSError:
        pass
    try:
        return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text.strip()), "big")
    except OSError:
        return None


def parse_v4_many(texts: list[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """IPv4 addresses as integers, and which texts were IPv4 (the rest: IPv6 or bad)."""
    n = len(texts)
    try:
        packed = b"".join(map(functools.partial(socket.inet_pton, socket.AF_INET), texts))
        return np.frombuffer(packed, dtype=">u4").astype(np.int64), np.ones(n, dtype=bool)
    except OSError:
        pass
    values = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    for i, t in enumerate(texts):
        try:
            values[i] = int.from_bytes(socket.inet_pton(socket.AF_INET, t), "big")
            ok[i] = True
        except OSError:
            continue
    return values, ok


def pod_ips(pod: Pod) -> tuple[str, ...]:
    """The addresses a pod uses on the wire (a hostNetwork pod without podIPs: its host IP)."""
    if pod.pod_ips:
        return pod.pod_ips
    if pod.host_network and pod.host_ip:
        return (pod.host_ip,)
    return ()


# --------------------------------------------------------------------------- port atoms


@dataclass(frozen=True, slots=True)
class PortAtoms:
    """Per protocol, the sorted starts of the atoms cutting 1..65535."""

    starts: Mapping[str, tuple[int, ...]]
    offset: Mapping[str, int]
    count: int

    @staticmethod
    def build(cuts: Mapping[str, set[int]]) -> PortAtoms:
        starts: dict[str, tuple[int, ...]] = {}
        offset: dict[str, int] = {}
        n = 0
        for proto in PROTOCOLS:
            pts = sorted({PORT_MIN} | {c for c in cuts.get(proto, ()) if PORT_MIN < c <= PORT_MAX})
            starts[proto] = tuple(pts)
            offset[proto] = n
            n += len(pts)
        return PortAtoms(starts, offset, n)

    def atom(self, proto: str, port: int) -> int:
        s = self.starts[proto]
        return self.offset[proto] + bisect.bisect_right(s, port) - 1

    def mask(self, proto: str, lo: int, hi: int) -> int:
        """Bitmask of the atoms covering ``lo..hi`` (bounds must be atom bounds)."""
        if lo > hi:
            return 0
        a, b = self.atom(proto, lo), self.atom(proto, hi)
        return ((1 << (b - a + 1)) - 1) << a

    def all_mask(self) -> int:
        return (1 << self.count) - 1

    def to_sets(self, mask: int) -> dict[str, IntervalSet]:
        """``{proto: IntervalSet}`` for the protocols with any allowed port."""
        out: dict[str, IntervalSet] = {}
        for proto in PROTOCOLS:
            s, off = self.starts[proto], self.offset[proto]
            ranges = []
            for i, lo in enumerate(s):
                if mask >> (off + i) & 1:
                    hi = s[i + 1] - 1 if i + 1 < len(s) else PORT_MAX
                    ranges.append((lo, hi))
            if ranges:
                out[proto] = IntervalSet.of(ranges)
        return out


def _entry_range(entry: PolicyPort) -> tuple[int, int] | None:
    """Numeric ``lo..hi`` of a port entry (None: a named port; (1, 65535) for no port)."""
    if entry.port is None:
        return PORT_MIN, PORT_MAX
    if isinstance(entry.port, str) and not entry.port.isdigit():
        return None
    lo = int(entry.port)
    hi = entry.end_port if entry.end_port is not None else lo
    return max(lo, PORT_MIN), min(hi, PORT_MAX)


# --------------------------------------------------------------------------- selectors


class _LabelTable:
    """Value codes of the relevant label keys for a list of label maps."""

    def __init__(self, keys: Iterable[str], label_maps: Sequence[Mapping[str, str]]) -> None:
        self.n = len(label_maps)
        self.codes: dict[str, IntArray] = {}
        self.values: dict[str, dict[str, int]] = {}
        for key in keys:
            vals: dict[str, int] = {}
            arr = np.fromiter(
                (vals.setdefault(lm[key], len(vals)) if key in lm else -1 for lm in label_maps),
                dtype=np.int64,
                count=self.n,
            )
            self.codes[key] = arr
            self.values[key] = vals
        self._cache: dict[LabelSelector, BoolArray] = {}

    def match(self, sel: LabelSelector) -> BoolArray:
        """Which label maps ``sel`` matches (cached per selector)."""
        hit = self._cache.get(sel)
        if hit is None:
            hit = self._cache[sel] = self._eval(sel, None)
        return hit

    def match_subset(self, sel: LabelSelector, idx: IntArray) -> BoolArray:
        """``match(sel)[idx]`` without evaluating the other entries (namespace-scoped selectors)."""
        hit = self._cache.get(sel)
        if hit is not None:
            return hit[idx]
        return self._eval(sel, idx)

    def _eval(self, sel: LabelSelector, idx: IntArray | None) -> BoolArray:
        n = self.n if idx is None else len(idx)
        out = np.ones(n, dtype=bool)
        if sel.invalid is not None:
            out[:] = False
            return out
        for req in sel.requirements():
            arr = self.codes[req.key] if idx is None else self.codes[req.key][idx]
            vals = self.values[req.key]
            if req.operator in (Operator.IN, Operator.NOT_IN):
                ids = [vals[v] for v in req.values if v in vals]
                if len(ids) == 1:
                    m = arr == ids[0]
                else:
                    m = np.isin(arr, ids) if ids else np.zeros(n, dtype=bool)
                out &= m if req.operator is Operator.IN else ~m
            elif req.operator is Operator.EXISTS:
                out &= arr >= 0
            else:
                out &= arr < 0
        return out


def _selectors_of(policies: Sequence[NetworkPolicy]) -> tuple[set[str], set[str]]:
    """Label keys used by pod selectors and by namespace selectors."""
    pod_keys: set[str] = set()
    ns_keys: set[str] = set()
    for pol in policies:
        pod_keys.update(r.key for r in pol.pod_selector.requirements())
        for rule in (*pol.ingress, *pol.egress):
            for peer in rule.peers:
                if peer.pod_selector is not None:
                    pod_keys.update(r.key for r in peer.pod_selector.requirements())
                if peer.namespace_selector is not None:
                    ns_keys.update(r.key for r in peer.namespace_selector.requirements())
    return pod_keys, ns_keys


def _port_names(policies: Sequence[NetworkPolicy]) -> frozenset[str]:
    """Named ports any rule uses."""
    return frozenset(
        str(e.port)
        for pol in policies
        for rule in (*pol.ingress, *pol.egress)
        for e in rule.ports
        if isinstance(e.port, str) and not e.port.isdigit()
    )


# --------------------------------------------------------------------------- the engine


@dataclass(slots=True)
class _Rule:
    peer: BoolArray  # over units
    base: int  # atoms of numeric entries (all atoms when the rule has no ports)
    named: tuple[tuple[str, str], ...]  # (name, protocol) entries, resolved per destination


@dataclass(slots=True)
class PolicyMatrix:
    """The allowed-ports matrix over a list of units.

    Build with :meth:`build`; read with :meth:`mask` / :meth:`ports`, or the
    whole dense matrix with :meth:`dense` (``units x units`` atom masks, one
    array per chunk of 64 atoms).
    """

    model: ClusterModel
    units: tuple[Unit, ...]
    atoms: PortAtoms
    unit_index: dict[Hashable, int]
    _chunks: list[MaskArray] = field(default_factory=list)
    admin_units: frozenset[int] = frozenset()

    # ----------------------------------------------------------------- build

    @staticmethod
    def label_key(
        pod: Pod,
        pod_keys: frozenset[str],
        port_names: frozenset[str],
        cache: dict[tuple[object, ...], tuple[object, ...]] | None = None,
    ) -> tuple[object, ...]:
        """What selectors and named ports can see of a pod.

        ``cache`` (the caller's, alive no longer than the pods) memoises the key by
        the identity of the pod's label map and containers: replicas share both
        (see ``sources.decode_fast``), so 150,000 pods cost a few thousand
        evaluations.
        """
        spec = pod.spec
        ck: tuple[object, ...] = ()
        if cache is not None:
            ck = (
                id(pod.labels),
                pod.namespace,
                pod.host_network,
                *map(id, spec.containers),
                -1,
                *map(id, spec.init_containers),
            )
            hit = cache.get(ck)
            if hit is not None:
                return hit
        labels = tuple(sorted(kv for kv in pod.labels.items() if kv[0] in pod_keys))
        ports: tuple[object, ...] = ()
        if port_names:
            ports = tuple(
                sorted(
                    (cp.name, normalise_protocol(cp.protocol), cp.container_port)
                    for cp in spec.all_ports()
                    if cp.name in port_names
                )
            )
        out = (pod.namespace, labels, ports, pod.host_network)
        if cache is not None:
            cache[ck] = out
        return out

    @classmethod
    def relevant(cls, model: ClusterModel) -> tuple[frozenset[str], frozenset[str]]:
        """(pod label keys any selector uses, port names any rule uses)."""
        pod_keys, _ = _selectors_of(model.network_policies)
        return frozenset(pod_keys), _port_names(model.network_policies)

    @classmethod
    def address_bounds(cls, model: ClusterModel) -> tuple[list[IPSet], bool]:
        """Every address set a peer can tell apart, and whether any of them is IPv6.

        ``ipBlock`` ``cidr`` and each ``except`` CIDR, AdminNetworkPolicy and
        BaselineAdminNetworkPolicy ``networks`` CIDRs, and, when an admin
        policy has a ``nodes`` peer, every node address (a ``nodes`` peer
        matches exactly the addresses of the matching nodes)."""
        sets: list[IPSet] = []
        for pol in model.network_policies:
            for rule in (*pol.ingress, *pol.egress):
                for peer in rule.peers:
                    if peer.ip_block is None:
                        continue
                    for c in (peer.ip_block.cidr, *peer.ip_block.except_):
                        s = cidr_set(c)
                        if s is not None:
                            sets.append(s)
        admin = _admin_policies(model)
        if admin is not None:
            nodes_peer = False
            for apol in (*admin.anps, *admin.banps):
                for arule in (*apol.ingress, *apol.egress):
                    for apeer in arule.peers:
                        nodes_peer = nodes_peer or apeer.nodes is not None
                        for c in apeer.networks or ():
                            s = cidr_set(c)
                            if s is not None:
                                sets.append(s)
            if nodes_peer:
                for node in model.nodes.values():
                    for a in node.addresses:
                        s = cidr_set(a.address)
                        if s is not None:
                            sets.append(s)
        return sets, any(s.v6 for s in sets)

    @classmethod
    def ip_cells(cls, model: ClusterModel) -> dict[int, npt.NDArray[np.object_]]:
        """Per IP version, the sorted cell starts induced by every address bound
        (see :meth:`address_bounds`)."""
        cuts: dict[int, set[int]] = {4: {0}, 6: {0}}
        for s in cls.address_bounds(model)[0]:
            for version, iv in ((4, s.v4), (6, s.v6)):
                for lo, hi in iv:
                    cuts[version].update((lo, hi + 1))
        out: dict[int, npt.NDArray[np.object_]] = {}
        for version, top in ((4, IPV4_MAX), (6, IPV6_MAX)):
            out[version] = np.array(sorted(c for c in cuts[version] if c <= top), dtype=object)
        return out

    @classmethod
    def build(cls, model: ClusterModel, units: Sequence[Unit]) -> PolicyMatrix:
        policies = model.network_policies
        pod_keys, ns_keys = _selectors_of(policies)
        port_names = _port_names(policies)
        cells = cls.ip_cells(model)
        n4 = len(cells[4])
        v4_starts = [int(x) for x in cells[4]]
        v6_starts = [int(x) for x in cells[6]]
        U = len(units)

        # ---- label classes (one per distinct label key among the units' pods)
        lc_index: dict[tuple[object, ...], int] = {}
        lc_pod: list[Pod | None] = []
        lc_kind: list[str] = []
        unit_lc = np.zeros(U, dtype=np.int64)
        fk, fn = frozenset(pod_keys), port_names
        key_cache: dict[tuple[object, ...], tuple[object, ...]] = {}
        for i, u in enumerate(units):
            if u.kind in (POD, HOST) and u.pods:
                key: tuple[object, ...] = (
                    u.label if u.label is not None else cls.label_key(u.pods[0], fk, fn, key_cache)
                )
                if u.kind == HOST:
                    key = ("<host>",)
            else:
                key = (f"<{u.kind}>",)
            j = lc_index.get(key)
            if j is None:
                j = lc_index[key] = len(lc_pod)
                lc_pod.append(u.pods[0] if u.pods and u.kind == POD else None)
                lc_kind.append(u.kind if u.pods or u.kind != POD else EXTERNAL)
            unit_lc[i] = j
        L = len(lc_pod)
        is_pod_lc = np.array([k == POD for k in lc_kind], dtype=bool)
        is_pseudo_lc = np.array([k == PSEUDO for k in lc_kind], dtype=bool)

        namespaces = sorted(set(model.namespaces) | {p.namespace for p in lc_pod if p is not None})
        ns_idx = {n: i for i, n in enumerate(namespaces)}
        lc_ns = np.array(
            [ns_idx[p.namespace] if p is not None else -1 for p in lc_pod], dtype=np.int64
        )
        pod_table = _LabelTable(pod_keys, [p.labels if p is not None else {} for p in lc_pod])
        ns_table = _LabelTable(ns_keys, [model.namespace_labels(n) for n in namespaces])

        # ---- cells of each unit (CSR)
        def cell_of(ip: str) -> int | None:
            parsed = _parse_ip(ip)
            if parsed is None:
                return None
            version, value = parsed
            if version == 4:
                return bisect.bisect_right(v4_starts, value) - 1
            return n4 + bisect.bisect_right(v6_starts, value) - 1

        unit_cells: list[tuple[int, ...]] = []
        for u in units:
            cs: set[int] = set()
            for pod in u.pods:
                for ip in pod_ips(pod):
                    c = cell_of(ip)
                    if c is not None:
                        cs.add(c)
            for ip in u.ips:
                c = cell_of(ip)
                if c is not None:
                    cs.add(c)
            unit_cells.append(tuple(sorted(cs)))
        flat = np.array([c for cs in unit_cells for c in cs], dtype=np.int64)
        owner = np.repeat(np.arange(U), [len(cs) for cs in unit_cells])
        n_cells = n4 + len(v6_starts)

        def cell_range(version: int, lo: int, hi: int) -> tuple[int, int]:
            starts = v4_starts if version == 4 else v6_starts
            a = bisect.bisect_right(starts, lo) - 1
            b = bisect.bisect_right(starts, hi) - 1
            off = 0 if version == 4 else n4
            return off + a, off + b

        ipb_cache: dict[object, BoolArray] = {}

        def ip_block_units(peer: PolicyPeer) -> BoolArray:
            assert peer.ip_block is not None
            hit = ipb_cache.get(peer.ip_block)
            if hit is not None:
                return hit
            out = np.zeros(U, dtype=bool)
            if cidr_set(peer.ip_block.cidr) is not None:
                cm = np.zeros(n_cells, dtype=bool)
                s = ip_block_set(peer.ip_block)
                for version, iv in ((4, s.v4), (6, s.v6)):
                    for lo, hi in iv:
                        a, b = cell_range(version, lo, hi)
                        cm[a : b + 1] = True
                if len(flat):
                    np.logical_or.at(out, owner[cm[flat]], True)
            ipb_cache[peer.ip_block] = out
            return out

        # ---- port atoms
        cuts: dict[str, set[int]] = {p: set() for p in PROTOCOLS}
        named_used: set[tuple[str, str]] = set()
        for pol in policies:
            for rule in (*pol.ingress, *pol.egress):
                for e in rule.ports:
                    proto = normalise_protocol(e.protocol)
                    if proto not in cuts:
                        continue
                    r = _entry_range(e)
                    if r is None:
                        named_used.add((str(e.port), proto))
                    elif r[0] <= r[1]:
                        cuts[proto].update((r[0], r[1] + 1))
        named_num: dict[tuple[str, str], list[int | None]] = {}
        for name, proto in named_used:
            nums = [resolve_named_port(p, name, proto) if p is not None else None for p in lc_pod]
            named_num[(name, proto)] = nums
            cuts[proto].update(x for n in nums if n is not None for x in (n, n + 1))
        admin = _admin_policies(model)
        if admin is not None:
            for apol in (*admin.anps, *admin.banps):
                for arule in (*apol.ingress, *apol.egress):
                    for ap in arule.ports or ():
                        if ap.kind == "namedPort":
                            for p in lc_pod:
                                for cp in p.spec.all_ports() if p is not None else ():
                                    if cp.name == ap.name:
                                        cuts[normalise_protocol(cp.protocol)].update(
                                            (cp.container_port, cp.container_port + 1)
                                        )
                        elif ap.protocol in cuts:
                            cuts[ap.protocol].update((ap.start, ap.end + 1))
        atoms = PortAtoms.build(cuts)
        named_mask: dict[tuple[str, str], list[int]] = {
            k: [0 if n is None else 1 << atoms.atom(k[1], n) for n in nums]
            for k, nums in named_num.items()
        }

        # Label classes of pods, per namespace: policies select only inside their namespace.
        pod_lcs = np.flatnonzero(is_pod_lc)
        order = pod_lcs[np.argsort(lc_ns[pod_lcs], kind="stable")]
        bounds = np.searchsorted(lc_ns[order], np.arange(len(namespaces) + 1))
        ns_members = [order[bounds[k] : bounds[k + 1]] for k in range(len(namespaces))]

        # ---- rules
        peer_cache: dict[tuple[str | None, PolicyPeer], BoolArray] = {}

        def peer_units(pol: NetworkPolicy, peer: PolicyPeer) -> BoolArray:
            if peer.ip_block is not None:
                return ip_block_units(peer)
            k = (pol.namespace if peer.namespace_selector is None else None, peer)
            hit = peer_cache.get(k)
            if hit is None:
                hit = peer_cache[k] = selector_peer_units(pol, peer)
            return hit

        def selector_peer_units(pol: NetworkPolicy, peer: PolicyPeer) -> BoolArray:
            ns_sel, pod_sel = peer.namespace_selector, peer.pod_selector
            if ns_sel is None and pod_sel is None:
                return np.zeros(U, dtype=bool)
            if ns_sel is None:
                # podSelector alone: pods of the policy's own namespace only.
                m = np.zeros(L, dtype=bool)
                nsi = ns_idx.get(pol.namespace)
                if nsi is not None and pod_sel is not None:
                    members = ns_members[nsi]
                    m[members[pod_table.match_subset(pod_sel, members)]] = True
                return m[unit_lc]
            if not namespaces:
                m = np.zeros(L, dtype=bool)
            else:
                m = is_pod_lc & ns_table.match(ns_sel)[lc_ns] & (lc_ns >= 0)
            if pod_sel is not None:
                m &= pod_table.match(pod_sel)
            if ns_sel.is_empty and (pod_sel is None or pod_sel.is_empty):
                m |= is_pseudo_lc
            return m[unit_lc]

        def make_rule(pol: NetworkPolicy, rule: PolicyRule) -> _Rule:
            if len(rule.peers) == 1:
                peer = peer_units(pol, rule.peers[0])
            elif rule.peers:
                peer = np.zeros(U, dtype=bool)
                for p in rule.peers:
                    peer |= peer_units(pol, p)
            else:
                peer = np.ones(U, dtype=bool)
            if not rule.ports:
                return _Rule(peer, atoms.all_mask(), ())
            base = 0
            named: list[tuple[str, str]] = []
            for e in rule.ports:
                proto = normalise_protocol(e.protocol)
                if proto not in cuts:
                    continue
                r = _entry_range(e)
                if r is None:
                    named.append((str(e.port), proto))
                else:
                    base |= atoms.mask(proto, r[0], r[1])
            return _Rule(peer, base, tuple(sorted(set(named))))

        # ---- selection (per label class) and profiles
        eg_pols: list[list[int]] = [[] for _ in range(L)]
        in_pols: list[list[int]] = [[] for _ in range(L)]
        for pi, pol in enumerate(policies):
            if not (pol.affects_ingress or pol.affects_egress):
                continue
            nsi = ns_idx.get(pol.namespace)
            if nsi is None:
                continue
            members = ns_members[nsi]
            hits = members[pod_table.match_subset(pol.pod_selector, members)]
            for j in hits.tolist():
                if pol.affects_egress:
                    eg_pols[j].append(pi)
                if pol.affects_ingress:
                    in_pols[j].append(pi)

        rule_cache: dict[tuple[int, str, int], _Rule] = {}

        def rules_of(pi: int, direction: str) -> list[_Rule]:
            pol = policies[pi]
            rules = pol.egress if direction == "egress" else pol.ingress
            out = []
            for ri, rule in enumerate(rules):
                k = (pi, direction, ri)
                r = rule_cache.get(k)
                if r is None:
                    r = rule_cache[k] = make_rule(pol, rule)
                out.append(r)
            return out

        eg_profile_of_lc: dict[tuple[int, ...], int] = {(): 0}
        lc_eg = np.array(
            [eg_profile_of_lc.setdefault(tuple(p), len(eg_profile_of_lc)) for p in eg_pols],
            dtype=np.int64,
        )
        in_named: dict[int, bool] = {}

        def has_named_ingress(pi: int) -> bool:
            hit = in_named.get(pi)
            if hit is None:
                hit = in_named[pi] = any(r.named for r in rules_of(pi, "ingress"))
            return hit

        in_key_of_lc: list[tuple[tuple[int, ...], int]] = []
        for j in range(L):
            pols = tuple(in_pols[j])
            needs_named = any(has_named_ingress(pi) for pi in pols)
            in_key_of_lc.append((pols, j if needs_named else -1))
        in_profile: dict[tuple[tuple[int, ...], int], int] = {((), -1): 0}
        lc_in = np.array(
            [in_profile.setdefault(k, len(in_profile)) for k in in_key_of_lc], dtype=np.int64
        )

        unit_eg = lc_eg[unit_lc]
        unit_in = lc_in[unit_lc]

        # ---- admin policies: units that the reference evaluator answers
        admin_units: set[int] = set()
        if admin is not None:
            from netsleuth.policy.reference import admin_policies_selecting
            from netsleuth.policy.semantics import Direction

            for i, u in enumerate(units):
                if u.kind == POD and any(
                    admin_policies_selecting(model, p, d)
                    for p in u.pods[:1]
                    for d in (Direction.INGRESS, Direction.EGRESS)
                ):
                    admin_units.add(i)

        pm = PolicyMatrix(
            model=model,
            units=tuple(units),
            atoms=atoms,
            unit_index={u.key: i for i, u in enumerate(units)},
            admin_units=frozenset(admin_units),
        )

        # ---- compute, one chunk of 64 atoms at a time
        nchunks = max(1, (atoms.count + 63) // 64)
        lc_named_unit: dict[tuple[str, str], IntArray] = {}
        for k, masks in named_mask.items():
            lc_named_unit[k] = (
                np.array(masks, dtype=object)[unit_lc] if U else np.zeros(0, dtype=object)
            )
        for c in range(nchunks):
            width = min(64, atoms.count - 64 * c)
            dtype = _dtype_for(width)
            full = dtype.type((1 << width) - 1)

            def chunk(m: int, c: int = c, width: int = width) -> int:
                return (m >> (64 * c)) & ((1 << width) - 1)

            named_vec: dict[tuple[str, str], MaskArray] = {
                k: np.array([chunk(int(x)) for x in arr], dtype=dtype)
                for k, arr in lc_named_unit.items()
            }
            # egress rows: profile x destination units
            erows = np.zeros((len(eg_profile_of_lc), U), dtype=dtype)
            erows[0] = full
            for pols, g in eg_profile_of_lc.items():
                if not pols:
                    continue
                row = erows[g]
                for pi in pols:
                    for er in rules_of(pi, "egress"):
                        vec: Any = dtype.type(chunk(er.base))
                        if er.named:
                            v = np.full(U, chunk(er.base), dtype=dtype)
                            for k in er.named:
                                v |= named_vec[k]
                            vec = v
                        np.bitwise_or(row, vec, out=row, where=er.peer)
            # ingress columns: profile x source units
            icols = np.zeros((len(in_profile), U), dtype=dtype)
            icols[0] = full
            for (ipols, lcj), g in in_profile.items():
                if not ipols:
                    continue
                col = icols[g]
                for pi in ipols:
                    for ir in rules_of(pi, "ingress"):
                        m = chunk(ir.base)
                        for k in ir.named:
                            m |= chunk(named_mask[k][lcj])
                        if m:
                            np.bitwise_or(col, dtype.type(m), out=col, where=ir.peer)
            icols_t = np.ascontiguousarray(icols.T)
            out = np.empty((U, U), dtype=dtype)
            buf = np.empty((min(U, _BLOCK_ROWS), U), dtype=dtype)
            for a in range(0, U, _BLOCK_ROWS):
                rows = slice(a, min(U, a + _BLOCK_ROWS))
                n = rows.stop - a
                # np.take is several times faster than fancy indexing for these
                # gathers; both write in place (no block-sized temporaries).
                np.take(erows, unit_eg[rows], axis=0, out=out[rows], mode="clip")
                np.take(icols_t[rows], unit_in, axis=1, out=buf[:n], mode="clip")
                np.bitwise_and(out[rows], buf[:n], out=out[rows])
            pm._chunks.append(out)
        if admin_units:
            pm._apply_admin()
        return pm

    # ----------------------------------------------------------------- admin fallback

    def _apply_admin(self) -> None:
        from netsleuth.policy.decision import (
            Endpoint,
            IngressControllerEndpoint,
            IPEndpoint,
            PodEndpoint,
        )
        from netsleuth.policy.reference import allowed_ports

        def reps(u: Unit) -> list[Endpoint]:
            if u.kind == PSEUDO:
                return [IngressControllerEndpoint()]
            if u.kind == EXTERNAL:
                return [IPEndpoint(ip) for ip in u.ips[:1]]
            seen: dict[tuple[str, ...], Pod] = {}
            for p in u.pods:
                seen.setdefault(pod_ips(p), p)
            return [PodEndpoint(p) for p in seen.values()]

        rep = [reps(u) for u in self.units]
        n = len(self.units)
        for i in sorted(self.admin_units):
            for j in range(n):
                for s_i, d_j in ((i, j), (j, i)):
                    if s_i == d_j and s_i != i:
                        continue
                    mask = 0
                    for s in rep[s_i]:
                        for d in rep[d_j]:
                            sets = allowed_ports(self.model, s, d)["combined"]
                            for proto, iv in sets.items():
                                for lo, hi in iv:
                                    mask |= self.atoms.mask(proto, lo, hi)
                    self._set(s_i, d_j, mask)

    def _set(self, i: int, j: int, mask: int) -> None:
        for c, arr in enumerate(self._chunks):
            arr[i, j] = (mask >> (64 * c)) & ((1 << arr.dtype.itemsize * 8) - 1)

    # ----------------------------------------------------------------- reading

    def mask(self, i: int, j: int) -> int:
        """Allowed atoms from unit ``i`` to unit ``j`` as one int."""
        m = 0
        for c, arr in enumerate(self._chunks):
            m |= int(arr[i, j]) << (64 * c)
        return m

    def ports(self, src: Hashable, dst: Hashable) -> dict[str, IntervalSet]:
        """Allowed ``{proto: ports}`` from unit key ``src`` to unit key ``dst``."""
        return self.atoms.to_sets(self.mask(self.unit_index[src], self.unit_index[dst]))

    def allowed(self, src: Hashable, dst: Hashable, protocol: str, port: int) -> bool:
        proto = normalise_protocol(protocol)
        a = self.atoms.atom(proto, port)
        arr = self._chunks[a // 64]
        return bool(int(arr[self.unit_index[src], self.unit_index[dst]]) >> (a % 64) & 1)

    def dense(self) -> list[MaskArray]:
        """The ``units x units`` matrices, one per chunk of 64 atoms (bit ``a`` of chunk ``c``
        is atom ``64c + a``)."""
        return self._chunks

    def nonzero(self) -> tuple[IntArray, IntArray]:
        """Unit index pairs (src, dst) with any allowed port."""
        any_ = self._chunks[0] != 0
        for arr in self._chunks[1:]:
            any_ |= arr != 0
        s, d = np.nonzero(any_)
        return s.astype(np.int64), d.astype(np.int64)

    def pair_masks(self, s: IntArray, d: IntArray) -> list[int]:
        """Atom masks for index pairs (vectorised over chunks)."""
        if len(self._chunks) == 1:
            return [int(x) for x in self._chunks[0][s, d].tolist()]
        out = [0] * len(s)
        for c, arr in enumerate(self._chunks):
            vals = arr[s, d].tolist()
            for k, v in enumerate(vals):
                out[k] |= int(v) << (64 * c)
        return out


def _dtype_for(width: int) -> np.dtype[np.unsignedinteger]:
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if width <= np.dtype(dt).itemsize * 8:
            return np.dtype(dt)
    return np.dtype(np.uint64)


def _admin_policies(model: ClusterModel):  # type: ignore[no-untyped-def]
    from netsleuth.policy.anp import admin_policies

    ap = admin_policies(model)
    return ap if ap else None


# --------------------------------------------------------------------------- unit builders


def external_ranges(model: ClusterModel, ipv6: bool | None = None) -> list[tuple[str, str]]:
    """Address ranges induced by every ipBlock bound: ``(label, representative)``, the label
    ``first-last`` (one address: ``a.b.c.d/32``).

    The whole IPv4 space when no policy has an ipBlock. IPv6 ranges appear
    only when an IPv6 bound exists (``ipv6`` forces the choice)."""
    from netsleuth.model.intervals import format_ip, format_ip_range

    cells = PolicyMatrix.ip_cells(model)
    has_v6 = PolicyMatrix.address_bounds(model)[1] if ipv6 is None else ipv6
    out = []
    for version, top in ((4, IPV4_MAX), (6, IPV6_MAX)):
        starts = [int(x) for x in cells[version]]
        if version == 6 and not has_v6:
            continue
        for lo, nxt in itertools.pairwise([*starts, top + 1]):
            hi = nxt - 1
            rep = lo if lo != 0 else min(1, hi)
            out.append((format_ip_range(version, lo, hi), format_ip(version, rep)))
    return out


def pod_units(model: ClusterModel) -> tuple[list[Unit], dict[tuple[str, str], Hashable]]:
    """One unit per pod class (label class and exact cell set), the external ranges,
    and the ingress pseudo-peer; plus ``pod key -> unit key``."""
    pod_keys, names = PolicyMatrix.relevant(model)
    groups: dict[tuple[str, tuple[object, ...], tuple[str, ...]], list[Pod]] = {}
    of_pod: dict[tuple[str, str], Hashable] = {}
    key_cache: dict[tuple[object, ...], tuple[object, ...]] = {}
    for pod in model.pods:
        lk = (
            ("host",)
            if pod.host_network
            else PolicyMatrix.label_key(pod, pod_keys, names, key_cache)
        )
        k = ("pods", lk, pod_ips(pod))
        groups.setdefault(k, []).append(pod)
        of_pod[pod.key] = k
    units = [
        Unit(k, HOST if ps[0].host_network else POD, tuple(ps), label=k[1])
        for k, ps in groups.items()
    ]
    units += [Unit(("ip", label), EXTERNAL, ips=(ip,)) for label, ip in external_ranges(model)]
    units.append(Unit(("pseudo", "ingress-controller"), PSEUDO))
    return units, of_pod


def iter_pairs(pm: PolicyMatrix) -> Iterator[tuple[int, int, int]]:
    """Every (src index, dst index, atom mask) with an allowed port."""
    s, d = pm.nonzero()
    yield from zip(s.tolist(), d.tolist(), pm.pair_masks(s, d), strict=True)
