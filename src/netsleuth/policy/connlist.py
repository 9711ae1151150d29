"""Workload-level connectivity: every allowed connection, computed by the matrix engine.

Peers (what a connection's ``src``/``dst`` can be):

- a pod's top-level owner (``ClusterModel.owner``: Deployment, StatefulSet,
  DaemonSet, Job/CronJob…, as far as the input shows), or the bare pod;
- an external address range: the pieces into which every ``ipBlock``
  ``cidr``/``except`` bound cuts the IPv4 space (``0.0.0.0-255.255.255.255``
  when there is no ipBlock; IPv6 ranges only when an IPv6 ipBlock exists),
  as netpol-analyzer and network-config-analyzer print them;
- ``ingress-controller``: when Ingress objects exist and the controller's
  pods are not in the input, a pseudo-peer reaching each Ingress backend's
  pods on the Service's target port only (a pod of an unknown namespace:
  see :class:`~netsleuth.policy.decision.IngressControllerEndpoint`).

A connection between two workloads lists every port that *some* pod of
the source may open to *some* pod of the destination (pods of one workload
can sit on both sides of an ``ipBlock`` bound). Connections of a workload
to itself are omitted, as netpol-analyzer's connlist omits self-loops.
hostNetwork pods are peers like other pods, but no policy selects them and
only ``ipBlock`` peers (on their node address) match them.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.fastinit import maker
from netsleuth.model.intervals import (
    PORT_MAX,
    PORT_MIN,
    IntervalSet,
    format_ip_range,
    parse_ip_range,
)
from netsleuth.model.objects import Pod
from netsleuth.policy.decision import Endpoint, IngressControllerEndpoint, IPEndpoint, PodEndpoint
from netsleuth.policy.ingress_controller import (
    backend_targets,
    has_frontends,
    ingress_controller_endpoints,
)
from netsleuth.policy.matrix import (
    EXTERNAL,
    HOST,
    POD,
    PSEUDO,
    PolicyMatrix,
    Unit,
    external_ranges,
)
from netsleuth.policy.semantics import PROTOCOLS, normalise_protocol

ALL = PORT_MAX - PORT_MIN + 1
PSEUDO_NAME = "ingress-controller"


@dataclass(frozen=True, slots=True)
class Peer:
    """One side of a connection: a workload (``kind`` its kind, ``Pod`` for a bare pod),
    an address range (``kind`` ``ip_range``, ``name`` ``first-last``, or ``a.b.c.d/32`` for
    one address) or the
    pseudo-peer (``kind`` ``pseudo``)."""

    kind: str
    namespace: str | None
    name: str

    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace or "", self.name)

    def sort_key(self) -> tuple[int, str, str, str]:
        order = {"ip_range": 1, "pseudo": 2}.get(self.kind, 0)
        if order == 1:  # address order, IPv4 first
            r = self.address_range()
            if r is not None:
                return (order, str(r[0]), f"{r[1]:039d}", f"{r[2]:039d}")
        return (order, self.namespace or "", self.name, self.kind)

    def describe(self) -> str:
        """``ns/name[Deployment]``, ``first-last[External]`` (one address:
        ``192.0.2.7/32[External]``), ``{ingress-controller}``:
        the kind in brackets, as netpol-analyzer prints workloads."""
        if self.kind == "ip_range":
            return f"{self.name}[External]"
        if self.kind == "pseudo":
            return "{" + self.name + "}"
        return f"{self.namespace}/{self.name}[{self.kind}]"

    def address_range(self) -> tuple[int, int, int] | None:
        """``(version, first, last)`` of an address-range peer, else ``None``."""
        if self.kind != "ip_range":
            return None
        return parse_ip_range(self.name)

    @staticmethod
    def for_range(version: int, lo: int, hi: int) -> Peer:
        """The peer of an address range: ``first-last``, one address as ``a.b.c.d/32``."""
        return Peer("ip_range", None, format_ip_range(version, lo, hi))

    def json(self) -> dict[str, str]:
        if self.kind == "ip_range":
            return {"ip_range": self.name}
        if self.kind == "pseudo":
            return {"pseudo": self.name}
        return {"namespace": self.namespace or "", "name": self.name, "kind": self.kind}

    def matches(self, text: str) -> bool:
        """``ns/name``, ``name``, or ``kind/ns/name`` (case-insensitive kind)."""
        if self.kind == "ip_range":
            if text in (self.name, self.describe()):
                return True
            try:  # the same range written another way (``a-a``, ``a``, ``a/32``)
                return parse_ip_range(text) == self.address_range()
            except ValueError:
                return False
        if self.kind == "pseudo":
            return text in (self.name, self.describe())
        return text in (
            f"{self.namespace}/{self.name}",
            self.name,
            f"{self.kind.lower()}/{self.namespace}/{self.name}",
        )


@dataclass(frozen=True, slots=True)
class Connection:
    src: Peer
    dst: Peer
    ports: tuple[tuple[str, IntervalSet], ...]
    """Allowed destination ports per protocol (protocols with none are left out)."""
    unresolved: tuple[str, ...] = ()
    """Named ports (``name/PROTO``) of the rules that could not be resolved on the destination."""

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

    def first_port(self) -> tuple[str, int]:
        proto, s = self.ports[0]
        return proto, s.ranges[0][0]


_new_Connection = maker(Connection)  # the engine makes one per allowed pair


# --------------------------------------------------------------------------- the workload matrix


@dataclass(frozen=True, slots=True)
class WorkloadMatrix:
    """The matrix engine's result folded to peers: ``chunks[c][i, j]`` holds the atoms
    peer ``i`` may open to peer ``j`` (see :class:`~netsleuth.policy.matrix.PolicyMatrix`)."""

    engine: PolicyMatrix
    peers: tuple[Peer, ...]
    kinds: tuple[str, ...]
    chunks: tuple[np.ndarray, ...]  # type: ignore[type-arg]
    representative: tuple[Endpoint, ...]

    def index(self, peer: Peer) -> int:
        return self.peers.index(peer)

    def mask(self, i: int, j: int) -> int:
        m = 0
        for c, arr in enumerate(self.chunks):
            m |= int(arr[i, j]) << (64 * c)
        return m


def _workload_units(
    model: ClusterModel, ipv6: bool | None = None
) -> tuple[list[Unit], list[Peer], list[int]]:
    pod_keys, names = PolicyMatrix.relevant(model)
    groups: dict[tuple[Peer, Hashable], list[Pod]] = {}
    key_cache: dict[tuple[object, ...], tuple[object, ...]] = {}
    # Pods of one workload share its WorkloadRef (the model's owner index), so
    # their Peer is memoised by the ref's identity; a bare pod has no ref there.
    peer_of_ref: dict[int, Peer] = {}
    owner_of_pod = model.owner_of_pod
    for pod in model.pods:
        ref = owner_of_pod.get(pod.key)
        if ref is None:
            peer = Peer("Pod", pod.namespace, pod.name)
        else:
            peer = peer_of_ref.get(id(ref))  # type: ignore[assignment]
            if peer is None:
                peer = peer_of_ref[id(ref)] = Peer(ref.kind, ref.namespace, ref.name)
        key: Hashable = (
            ("host",)
            if pod.host_network
            else PolicyMatrix.label_key(pod, pod_keys, names, key_cache)
        )
        groups.setdefault((peer, key), []).append(pod)
    items = sorted(groups.items(), key=lambda kv: kv[0][0].sort_key())
    units: list[Unit] = []
    peers: list[Peer] = []
    owner: list[int] = []
    for (peer, lk), pods in items:
        if not peers or peers[-1] != peer:
            peers.append(peer)
        lbl = lk if isinstance(lk, tuple) else None
        units.append(Unit((peer, lk), HOST if lk == ("host",) else POD, tuple(pods), label=lbl))
        owner.append(len(peers) - 1)
    for label, ip in external_ranges(model, ipv6):
        peers.append(Peer("ip_range", None, label))
        units.append(Unit(("ip", label), EXTERNAL, ips=(ip,)))
        owner.append(len(peers) - 1)
    if has_frontends(model) and isinstance(
        ingress_controller_endpoints(model)[0], IngressControllerEndpoint
    ):
        peers.append(Peer("pseudo", None, PSEUDO_NAME))
        units.append(Unit(("pseudo", PSEUDO_NAME), PSEUDO))
        owner.append(len(peers) - 1)
    return units, peers, owner


def workload_matrix(model: ClusterModel, ipv6: bool | None = None) -> WorkloadMatrix:
    """Build the matrix engine over workload units and fold units into peers.

    ``ipv6``: list the IPv6 address ranges even without an IPv6 bound (``True``) or
    never (``False``); by default only when some policy names an IPv6 address."""
    units, peers, owner = _workload_units(model, ipv6)
    engine = PolicyMatrix.build(model, units)
    chunks = engine.dense()
    if len(units) != len(peers) and units:
        starts = np.flatnonzero(np.r_[True, np.diff(np.array(owner)) != 0])
        chunks = [
            np.bitwise_or.reduceat(np.bitwise_or.reduceat(a, starts, axis=0), starts, axis=1)
            for a in chunks
        ]
    kinds = [""] * len(peers)
    reps: list[Endpoint | None] = [None] * len(peers)
    for u, o in zip(units, owner, strict=True):
        kinds[o] = u.kind
        if reps[o] is None:
            if u.kind in (POD, HOST):
                with_ip = [p for p in u.pods if p.pod_ips]
                reps[o] = PodEndpoint((with_ip or list(u.pods))[0])
            elif u.kind == EXTERNAL:
                reps[o] = IPEndpoint(u.ips[0])
            else:
                reps[o] = IngressControllerEndpoint()
    return WorkloadMatrix(
        engine,
        tuple(peers),
        tuple(kinds),
        tuple(chunks),
        tuple(r for r in reps if r is not None),
    )


def _ingress_backend_targets(model: ClusterModel) -> Iterator[tuple[Peer, str, int]]:
    """(workload, protocol, target port) for every pod an Ingress, Gateway API route or
    OpenShift Route sends to (:func:`~netsleuth.policy.ingress_controller.backend_targets`)."""
    for _, pod, proto, num in backend_targets(model):
        owner = model.owner(pod)
        yield Peer(owner.kind, owner.namespace, owner.name), proto, num


def _ingress_backends(model: ClusterModel, wm: WorkloadMatrix) -> dict[int, int]:
    """Peer index -> atom mask of the target ports Ingress backends send to it."""
    atoms = wm.engine.atoms
    index = {p: i for i, p in enumerate(wm.peers)}
    out: dict[int, int] = {}
    for peer, proto, num in _ingress_backend_targets(model):
        i = index.get(peer)
        if i is not None:
            # A single port may sit inside a wider atom: keep the atom, cut below.
            out[i] = out.get(i, 0) | (1 << atoms.atom(proto, num))
    return out


def connectivity(
    model: ClusterModel,
    *,
    focus: str | None = None,
    port: tuple[str, int] | None = None,
    wm: WorkloadMatrix | None = None,
    ipv6: bool | None = None,
) -> list[Connection]:
    """Allowed connections between peers, sorted by (src, dst).

    ``focus``: keep connections with this workload on either side (``ns/name``);
    ``port``: keep connections that allow this ``(protocol, port)``.
    """
    wm = wm if wm is not None else workload_matrix(model, ipv6)
    n = len(wm.peers)
    if n == 0:
        return []
    atoms = wm.engine.atoms
    kinds = np.array(wm.kinds)
    is_pod = (kinds == POD) | (kinds == HOST)
    any_ = np.zeros((n, n), dtype=bool)
    for arr in wm.chunks:
        any_ |= arr != 0
    np.fill_diagonal(any_, False)
    # Pod <-> pod, address range <-> pod (both ways); the pseudo-peer only towards pods.
    any_ &= is_pod[:, None] | is_pod[None, :]
    any_[:, kinds == PSEUDO] = False
    any_[:, kinds == EXTERNAL] &= is_pod[:, None]
    if focus is not None:
        keep = np.array([p.matches(focus) for p in wm.peers], dtype=bool)
        any_ &= keep[:, None] | keep[None, :]
    pseudo_idx = np.flatnonzero(kinds == PSEUDO)
    backends = _ingress_backends(model, wm) if len(pseudo_idx) else {}
    for pi in pseudo_idx.tolist():
        allowed_dst = np.zeros(n, dtype=bool)
        allowed_dst[list(backends)] = True
        any_[pi] &= allowed_dst
    if port is not None:
        proto, num = normalise_protocol(port[0]), port[1]
        a = atoms.atom(proto, num)
        arr = wm.chunks[a // 64]
        any_ &= (arr >> np.array(a % 64, dtype=arr.dtype)) & np.array(1, dtype=arr.dtype) != 0
    s_idx, d_idx = np.nonzero(any_)
    out: list[Connection] = []
    cache: dict[int, tuple[tuple[str, IntervalSet], ...]] = {}
    peers = wm.peers
    kind_of = wm.kinds  # plain strings: comparing numpy's per pair is slow
    for s, d, mask in zip(s_idx.tolist(), d_idx.tolist(), _masks(wm, s_idx, d_idx), strict=True):
        target: dict[str, IntervalSet] | None = None
        if kind_of[s] == PSEUDO:
            mask &= backends.get(d, 0)
            target = _backend_ports(model, wm, d)
        ports = cache.get(mask)
        if ports is None:
            sets = atoms.to_sets(mask)
            ports = cache[mask] = tuple((p, sets[p]) for p in PROTOCOLS if p in sets)
        if target is not None:
            ports = tuple((p, s_ & target[p]) for p, s_ in ports if p in target and s_ & target[p])
        if not ports:
            continue
        if port is not None and not any(p == port[0].upper() and port[1] in s_ for p, s_ in ports):
            continue
        out.append(_new_Connection(src=peers[s], dst=peers[d], ports=ports))
    out = merge_adjacent_ranges(out)
    _sort_by_peers(out)
    return out


def _sort_by_peers(conns: list[Connection]) -> None:
    """``conns.sort(key=lambda c: (c.src.sort_key(), c.dst.sort_key()))``, each peer keyed
    once: peers are ranked by their keys (equal keys, equal ranks), then pairs of ranks
    are compared as one integer."""
    keys: dict[int, tuple[int, str, str, str]] = {}  # by identity: the peers are alive
    for c in conns:
        for p in (c.src, c.dst):
            if id(p) not in keys:
                keys[id(p)] = p.sort_key()
    rank = {k: i for i, k in enumerate(sorted(set(keys.values())))}
    of = {p: rank[k] for p, k in keys.items()}
    n = len(rank)
    conns.sort(key=lambda c: of[id(c.src)] * n + of[id(c.dst)])


def _masks(wm: WorkloadMatrix, s_idx: np.ndarray, d_idx: np.ndarray) -> list[int]:  # type: ignore[type-arg]
    """``[wm.mask(s, d) for s, d in zip(s_idx, d_idx)]``, one numpy gather per chunk."""
    out: list[int] = [0] * len(s_idx)
    for c, arr in enumerate(wm.chunks):
        shift = 64 * c
        for k, v in enumerate(arr[s_idx, d_idx].tolist()):
            if v:
                out[k] |= v << shift
    return out


def lists_ipv6(model: ClusterModel) -> bool:
    """Whether the connection list of ``model`` lists IPv6 address ranges by default."""
    return PolicyMatrix.address_bounds(model)[1]


def connectivity_pair(
    before: ClusterModel, after: ClusterModel
) -> tuple[list[Connection], list[Connection]]:
    """Both connection lists, listing IPv6 ranges on both sides when either lists them, so
    that removing the last IPv6 ipBlock does not read as every IPv6 connection lost."""
    v6 = lists_ipv6(before) or lists_ipv6(after)
    return connectivity(before, ipv6=v6), connectivity(after, ipv6=v6)


def merge_adjacent_ranges(conns: Iterable[Connection]) -> list[Connection]:
    """Adjacent address ranges with the same connection to (or from) the same peer, as one.

    The engine cuts the address space at every bound any policy names; a peer
    that treats two neighbouring pieces alike gets one line for both, as
    netpol-analyzer prints them (``0.0.0.0-255.255.255.255`` rather than three
    pieces around an ANP's ``/32``). Ranges are not merged across a gap or an
    IP version.
    """
    out: list[Connection] = []
    runs: dict[
        tuple[int, Peer, tuple[tuple[str, IntervalSet], ...]], list[tuple[int, int, int]]
    ] = {}
    parsed: dict[str, tuple[int, int, int] | None] = {}  # a range peer recurs per workload

    def address_range(p: Peer) -> tuple[int, int, int] | None:
        if p.name not in parsed:
            parsed[p.name] = p.address_range()
        return parsed[p.name]

    for c in conns:
        if c.src.kind == "ip_range" and c.dst.kind != "ip_range":
            r, side, other = address_range(c.src), 0, c.dst
        elif c.dst.kind == "ip_range" and c.src.kind != "ip_range":
            r, side, other = address_range(c.dst), 1, c.src
        else:
            out.append(c)
            continue
        assert r is not None
        runs.setdefault((side, other, c.ports), []).append(r)
    for (side, other, ports), ranges in runs.items():
        for v, lo, hi in _merged(ranges):
            rng = Peer.for_range(v, lo, hi)
            out.append(
                Connection(rng, other, ports) if side == 0 else Connection(other, rng, ports)
            )
    return out


def _merged(ranges: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    for v, lo, hi in sorted(ranges):
        if out and out[-1][0] == v and out[-1][2] + 1 >= lo:
            out[-1] = (v, out[-1][1], max(out[-1][2], hi))
        else:
            out.append((v, lo, hi))
    return out


def _backend_ports(model: ClusterModel, wm: WorkloadMatrix, d: int) -> dict[str, IntervalSet]:
    """The exact target ports Ingress backends use on peer ``d``."""
    peer = wm.peers[d]
    ports: dict[str, list[tuple[int, int]]] = {}
    for p, proto, num in _ingress_backend_targets(model):
        if p == peer:
            ports.setdefault(proto, []).append((num, num))
    return {p: IntervalSet.of(v) for p, v in ports.items()}


def representative(wm: WorkloadMatrix, peer: Peer) -> Endpoint:
    """An endpoint standing for ``peer`` (a pod with an IP, an address of the range)."""
    return wm.representative[wm.index(peer)]


# --------------------------------------------------------------------------- diff


@dataclass(frozen=True, slots=True)
class ConnDiff:
    lost: tuple[Connection, ...]
    gained: tuple[Connection, ...]
    changed: tuple[tuple[Connection, Connection], ...]

    @property
    def empty(self) -> bool:
        return not (self.lost or self.gained or self.changed)


def diff(before: Iterable[Connection], after: Iterable[Connection]) -> ConnDiff:
    """Connections lost (in ``before`` only), gained (in ``after`` only) and changed (ports).

    Workloads, bare pods and the pseudo-peer are compared by identity. Address
    ranges are compared as what they mean: per workload and direction,
    connectivity is a function over the address space, so both sides are cut
    at the union of their range bounds and compared piece by piece; the
    pieces that changed the same way are merged back into ranges. Two
    versions whose ipBlocks cut the space differently but allow the same
    thing (``0.0.0.0/0`` versus ``0.0.0.0/1`` + ``128.0.0.0/1``) do not
    differ.
    """
    b: dict[tuple[Peer, Peer], Connection] = {}
    a: dict[tuple[Peer, Peer], Connection] = {}
    # (side, workload) -> [(version, lo, hi, ports)]: side 0 = range is the source
    b_ranges: dict[tuple[int, Peer], list[tuple[int, int, int, PortsKey]]] = {}
    a_ranges: dict[tuple[int, Peer], list[tuple[int, int, int, PortsKey]]] = {}
    for conns, exact, ranged in ((before, b, b_ranges), (after, a, a_ranges)):
        for c in conns:
            if c.src.kind == "ip_range" and c.dst.kind != "ip_range":
                r, key = c.src.address_range(), (0, c.dst)
            elif c.dst.kind == "ip_range" and c.src.kind != "ip_range":
                r, key = c.dst.address_range(), (1, c.src)
            else:
                exact[(c.src, c.dst)] = c
                continue
            assert r is not None
            ranged.setdefault(key, []).append((*r, c.ports))

    lost = [c for k, c in b.items() if k not in a]
    gained = [c for k, c in a.items() if k not in b]
    changed = [(b[k], a[k]) for k in b.keys() & a.keys() if b[k].ports != a[k].ports]
    for key in b_ranges.keys() | a_ranges.keys():
        side, other = key
        for v, lo, hi, was, now in _range_changes(b_ranges.get(key, []), a_ranges.get(key, [])):
            rng = Peer.for_range(v, lo, hi)
            src, dst = (rng, other) if side == 0 else (other, rng)
            if not now:
                lost.append(Connection(src, dst, was))
            elif not was:
                gained.append(Connection(src, dst, now))
            else:
                changed.append((Connection(src, dst, was), Connection(src, dst, now)))

    def order(c: Connection) -> tuple[object, ...]:
        return (c.src.sort_key(), c.dst.sort_key())

    return ConnDiff(
        lost=tuple(sorted(lost, key=order)),
        gained=tuple(sorted(gained, key=order)),
        changed=tuple(sorted(changed, key=lambda x: order(x[0]))),
    )


PortsKey = tuple[tuple[str, IntervalSet], ...]


def _range_changes(
    before: list[tuple[int, int, int, PortsKey]], after: list[tuple[int, int, int, PortsKey]]
) -> list[tuple[int, int, int, PortsKey, PortsKey]]:
    """Pieces of the address space whose connection differs: ``(v, lo, hi, before, after)``,
    adjacent pieces with the same change merged. Ranges absent on a side allow nothing."""
    cuts: dict[int, set[int]] = {}
    for v, lo, hi, _ in (*before, *after):
        cuts.setdefault(v, set()).update((lo, hi + 1))

    def pieces(
        items: list[tuple[int, int, int, PortsKey]],
    ) -> dict[tuple[int, int], PortsKey]:
        out: dict[tuple[int, int], PortsKey] = {}
        for v, lo, hi, ports in items:
            for x in sorted(c for c in cuts[v] if lo <= c <= hi):
                out[(v, x)] = ports
        return out

    pb, pa = pieces(before), pieces(after)
    ends = {v: sorted(c) for v, c in cuts.items()}
    out: list[tuple[int, int, int, PortsKey, PortsKey]] = []
    for v, lo in sorted(pb.keys() | pa.keys()):
        was, now = pb.get((v, lo), ()), pa.get((v, lo), ())
        if was == now:
            continue
        e = ends[v]
        hi = e[bisect.bisect_right(e, lo)] - 1
        if out and out[-1][0] == v and out[-1][2] + 1 == lo and out[-1][3:] == (was, now):
            out[-1] = (v, out[-1][1], hi, was, now)
        else:
            out.append((v, lo, hi, was, now))
    return out
