"""Incremental re-check: the connection list after a change, recomputing only what it touches.

A NetworkPolicy decides a connection through its two ends only: the egress
policies selecting the source and the ingress policies selecting the
destination. So after a change, the allowed ports can differ only

- for a **policy** added, removed or edited in namespace N: in the *rows*
  (as source) of the pods its old or new ``podSelector`` selects for
  Egress, and in the *columns* (as destination) of those it selects for
  Ingress;
- for a **namespace's labels**: in the rows and columns of that
  namespace's pods (a namespace selector that starts or stops matching
  changes a cell only where that namespace's pods are the peer, i.e. the
  source of an ingress rule or the destination of an egress rule);
- for a **pod's labels**: in the rows and columns of its workload, and the
  ingress-controller pseudo-peer's row (Service selection may move).

:class:`IncrementalConnectivity` keeps what those recomputations need and
nothing of the matrix itself: pods grouped into label classes (namespace,
all labels, all named ports) and units (a workload's pods of one class),
every policy's selection and compiled rules, one boolean vector per
distinct rule peer list over the classes (plus, for ipBlocks, over the
units), and the rule entries of every class flattened into arrays. A row
of source unit ``s`` is ``E(s, ·) & I(s, ·)``: ``E`` from the few egress
rules selecting ``s``; ``I(s, d)`` for every destination class at once, by
evaluating every ingress rule entry at ``s`` and OR-reducing the entries of
each class (one NumPy gather and one ``reduceat``). A column likewise with
the roles swapped. Port sets are bitmasks over port atoms, as in
:mod:`netsleuth.policy.matrix`.

The result is the connection list
:func:`~netsleuth.policy.connlist.connectivity` gives for the changed
cluster (workload peers, merged address ranges, the pseudo-peer on its
backends' exact ports); the differential tests hold the two equal on random
change sequences. Each change returns the
:class:`~netsleuth.policy.connlist.ConnDiff` of what it changed.

Address ranges: a policy bringing new ipBlock bounds re-cuts the address
space; the other workloads' connections to the new pieces are what they
were to the old ones (their rules did not change), so their merged lines
do not change.

Limits (also in the README): with AdminNetworkPolicy or
BaselineAdminNetworkPolicy objects in the cluster, and for a pod label
change that changes which pods are the ingress controller, the whole list
is recomputed (correct, not fast). Pods added or removed, Services,
Ingresses and the like are not changes this class takes: build a new one.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import operator
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from netsleuth.model.cluster import ClusterModel, ModelObject, all_objects, build_model
from netsleuth.model.fastinit import maker
from netsleuth.model.ingress_controllers import CONTROLLER_LABEL_KEYS
from netsleuth.model.intervals import IPV4_MAX, IPV6_MAX, IntervalSet, IPSet
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    Meta,
    Namespace,
    NetworkPolicy,
    OwnerRef,
    Pod,
    PolicyPeer,
    PolicyRule,
)
from netsleuth.model.selectors import LabelSelector, Operator
from netsleuth.policy.anp import admin_policies
from netsleuth.policy.connlist import (
    PSEUDO_NAME,
    ConnDiff,
    Connection,
    Peer,
    connectivity,
    connectivity_pair,
    diff,
    merge_adjacent_ranges,
)
from netsleuth.policy.decision import IngressControllerEndpoint
from netsleuth.policy.ingress_controller import (
    backend_targets,
    has_frontends,
    ingress_controller_endpoints,
    openshift_routes,
)
from netsleuth.policy.matrix import PortAtoms, _entry_range, _parse_ip, parse_v4_many, pod_ips
from netsleuth.policy.semantics import PROTOCOLS, cidr_set, ip_block_set, normalise_protocol

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
MaskArray = npt.NDArray[np.uint64]

_CONTROLLER_KEYS = CONTROLLER_LABEL_KEYS
"""Labels the ingress-controller detection reads (:mod:`netsleuth.model.ingress_controllers`)."""

PSEUDO = Peer("pseudo", None, PSEUDO_NAME)
_new_peer = maker(Peer)
"""``Peer(...)`` without the frozen dataclass's per-field ``object.__setattr__``."""
_BLOCK_UNITS = 256
"""Units computed together in one block (bounds the temporary arrays)."""
_EGRESS, _INGRESS = 0, 1


# --------------------------------------------------------------------------- changes


@dataclass(frozen=True, slots=True)
class SetPolicy:
    """Add ``policy``, or replace the policy of the same namespace and name."""

    policy: NetworkPolicy


@dataclass(frozen=True, slots=True)
class RemovePolicy:
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class SetNamespaceLabels:
    namespace: str
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SetPodLabels:
    namespace: str
    name: str
    labels: Mapping[str, str]


Change = SetPolicy | RemovePolicy | SetNamespaceLabels | SetPodLabels


# --------------------------------------------------------------------------- label tables


class _Table:
    """Value codes per label key over a growing list of label maps, built on demand;
    selector results cached until the maps change."""

    def __init__(self) -> None:
        self.maps: list[Mapping[str, str]] = []
        self._codes: dict[str, tuple[IntArray, dict[str, int]]] = {}
        self._hits: dict[LabelSelector, BoolArray] = {}

    def append(self, labels: Mapping[str, str]) -> None:
        self.maps.append(labels)
        self._codes.clear()
        self._hits.clear()

    def replace(self, i: int, labels: Mapping[str, str]) -> None:
        self.maps[i] = labels
        self._codes.clear()
        self._hits.clear()

    def _key(self, key: str) -> tuple[IntArray, dict[str, int]]:
        hit = self._codes.get(key)
        if hit is None:
            vals: dict[str, int] = {}
            arr = np.fromiter(
                (vals.setdefault(m[key], len(vals)) if key in m else -1 for m in self.maps),
                dtype=np.int64,
                count=len(self.maps),
            )
            hit = self._codes[key] = (arr, vals)
        return hit

    def match(self, sel: LabelSelector) -> BoolArray:
        hit = self._hits.get(sel)
        if hit is not None:
            return hit
        n = len(self.maps)
        out = np.ones(n, dtype=bool)
        if sel.invalid is not None:
            out[:] = False
        else:
            for req in sel.requirements():
                arr, vals = self._key(req.key)
                if req.operator in (Operator.IN, Operator.NOT_IN):
                    ids = [vals[v] for v in req.values if v in vals]
                    m = np.isin(arr, ids) if ids else np.zeros(n, dtype=bool)
                    out &= m if req.operator is Operator.IN else ~m
                elif req.operator is Operator.EXISTS:
                    out &= arr >= 0
                else:
                    out &= arr < 0
        self._hits[sel] = out
        return out


# --------------------------------------------------------------------------- state parts


@dataclass(slots=True)
class _Class:
    """A label class: what selectors and named ports can see of a pod."""

    ns: int
    labels: Mapping[str, str]
    ports: tuple[tuple[str, str, int], ...]
    host: bool


@dataclass(slots=True)
class _Unit:
    peer: int
    lc: int
    pods: set[tuple[str, str]] | None
    """``None``: the pods it was built with (:meth:`IncrementalConnectivity._pods_of`);
    a set once pods move (relabelling)."""


@dataclass(frozen=True, slots=True)
class _Rule:
    peerset: int
    ports: tuple[tuple[str, int, int], ...] | None
    """Numeric port entries ``(proto, lo, hi)``; ``None``: every port of every protocol."""
    named: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Entries:
    """The rule entries of one direction, one per (class, distinct rule), sorted by class."""

    starts: IntArray
    """Index of each class's first entry."""
    lcs: IntArray
    rules: IntArray
    peersets: IntArray
    masks: MaskArray
    """Ports per entry (ingress: named ports resolved on the entry's class)."""
    named: dict[tuple[str, str], IntArray]
    """Egress: entries whose rule has the named port, resolved on each destination."""


PeerDef = tuple[str | None, tuple[PolicyPeer, ...]] | None
"""A rule's peer list with the policy namespace (for podSelector-only peers); ``None``:
a rule without ``from``/``to`` (every peer)."""


@dataclass(frozen=True, slots=True)
class _Ext:
    """An address range of the current cut."""

    version: int
    lo: int
    hi: int

    @property
    def peer(self) -> Peer:
        return Peer.for_range(self.version, self.lo, self.hi)

    def within(self, s: IPSet) -> bool:
        # Ranges never straddle a bound, so one address decides.
        return self.lo in (s.v4 if self.version == 4 else s.v6)


# --------------------------------------------------------------------------- pod columns

_POD_FIELDS = attrgetter(
    "meta.labels",
    "meta.owner_refs",
    "spec.host_network",
    "spec.containers",
    "spec.init_containers",
    "pod_ips",
)


@dataclass(slots=True)
class _PodColumns:
    """What the incremental state and the model comparison read of every pod, fetched in
    one walk over the pods (at 150,000 pods each walk over their objects costs about
    0.1 s, memory-bound: one walk, not one per attribute and per use).

    In the order of the mapping it was built from (``ClusterModel.pod_by_key``)."""

    keys: list[tuple[str, str]]
    source: Mapping[Any, Pod]
    """What the columns were read from (``pod(i)`` finds a pod there)."""
    labels: Sequence[Mapping[str, str]]
    owner_refs: Sequence[tuple[Any, ...]]
    host: Sequence[bool]
    containers: Sequence[tuple[Any, ...]]
    init_containers: Sequence[tuple[Any, ...]]
    ips: Sequence[tuple[str, ...]]
    by_index: bool = False
    """``source`` is keyed by position (two pods share a key)."""
    ns_names: set[str] | None = None
    """The pods' namespaces when known (the model's ``pods_by_namespace``)."""
    _groups: tuple[IntArray, IntArray] | None = None
    _ns: dict[str, int] | None = None

    @staticmethod
    def of(
        pods: Mapping[Any, Pod],
        keys: list[tuple[str, str]] | None = None,
        namespaces: set[str] | None = None,
    ) -> _PodColumns:
        """Columns of ``pods`` (keyed by pod key, or by anything with ``keys`` given);
        ``namespaces``: the pods' namespaces, when the caller knows them."""
        if keys is None:
            keys = list(pods)
        if not pods:
            return _PodColumns(keys, pods, (), (), (), (), (), (), ns_names=namespaces)
        labels, refs, host, cs, ics, ips = zip(*map(_POD_FIELDS, pods.values()), strict=True)
        return _PodColumns(keys, pods, labels, refs, host, cs, ics, ips, ns_names=namespaces)

    def pod(self, i: int) -> Pod:
        """The ``i``-th pod."""
        return self.source[i if self.by_index else self.keys[i]]

    def _ns_codes(self) -> dict[str, int]:
        if self._ns is None:
            self._ns = {
                name: i
                for i, name in enumerate(dict.fromkeys(map(operator.itemgetter(0), self.keys)))
            }
        return self._ns

    def namespaces(self) -> set[str]:
        """The pods' namespaces."""
        if self.ns_names is not None:
            return set(self.ns_names)
        return set(self._ns_codes())

    def _ns_column(self) -> npt.NDArray[np.uint64]:
        """A code per pod equal for pods of one namespace. With the namespaces known and
        their string hashes distinct, the hash (cached in each string: one read per pod,
        no lookup); else a code per distinct name."""
        n = len(self.keys)
        names = self.ns_names
        if names is not None:
            hashes = {hash(name) for name in names}
            if len(hashes) == len(names):
                col = np.fromiter(
                    map(hash, map(operator.itemgetter(0), self.keys)), dtype=np.int64, count=n
                )
                if set(np.unique(col).tolist()) <= hashes:
                    return col.view(np.uint64)
        ns_code = self._ns_codes()
        return np.fromiter(
            map(ns_code.__getitem__, map(operator.itemgetter(0), self.keys)),
            dtype=np.uint64,
            count=n,
        )

    def groups(self) -> tuple[IntArray, IntArray]:
        """Pods grouped for the units: (a pod of each group, each pod's group).
        Computed once per columns."""
        if self._groups is None:
            self._groups = self._group()
        return self._groups

    def _group(self) -> tuple[IntArray, IntArray]:
        """Pods grouped for the units (see :meth:`groups`).

        A group shares owner references (a pod without: alone), namespace, label map,
        hostNetwork and containers, compared by identity: replicas share these objects
        (the loader decodes equal ones once), so the owner lookup and the class are made
        once per group. Equal but distinct objects make distinct groups; their units
        still merge by (peer, class). Grouped by the owner references first; where a
        group of those differs in anything else (a relabelled replica), by all of it."""
        n = len(self.keys)
        if not n:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        ids = np.fromiter(map(id, self.owner_refs), dtype=np.uint64, count=n)
        bare = np.flatnonzero(~np.fromiter(map(bool, self.owner_refs), dtype=bool, count=n))
        # one group per pod without owner: odd numbers, never an object's address
        ids[bare] = 2 * bare.astype(np.uint64) + np.uint64(1)
        cols = [
            np.fromiter(map(id, self.labels), dtype=np.uint64, count=n),
            np.fromiter(self.host, dtype=np.uint64, count=n),
            _id_codes(self.containers),
            _id_codes(self.init_containers),
        ]
        cols.append(self._ns_column())
        _, firsts, group_of = np.unique(ids, return_index=True, return_inverse=True)
        group_of = group_of.reshape(-1)
        rep = firsts[group_of]
        if all(np.array_equal(c, c[rep]) for c in cols):
            return firsts, group_of
        _, firsts, group_of = np.unique(
            np.stack([ids, *cols], axis=1), axis=0, return_index=True, return_inverse=True
        )
        return firsts, group_of.reshape(-1)


def _id_codes(tuples: Sequence[tuple[Any, ...]]) -> npt.NDArray[np.uint64]:
    """Per tuple of objects, a code equal for tuples of the same objects (by identity)."""
    n = len(tuples)
    lens = np.fromiter(map(len, tuples), dtype=np.int64, count=n)
    if not lens.any():
        return np.zeros(n, dtype=np.uint64)
    if (lens == 1).all():
        return np.fromiter(map(id, map(operator.itemgetter(0), tuples)), dtype=np.uint64, count=n)
    codes: dict[tuple[int, ...], int] = {}
    return np.fromiter(
        (codes.setdefault(tuple(map(id, t)), len(codes)) for t in tuples),
        dtype=np.uint64,
        count=n,
    )


# --------------------------------------------------------------------------- the engine


class IncrementalConnectivity:
    """The connection list of a cluster, kept current under policy and label changes.

    :meth:`connections` is what :func:`~netsleuth.policy.connlist.connectivity`
    gives for the current state; every change returns the :class:`ConnDiff` it
    caused. With ``materialize=False`` the full list is never computed (only
    the rows and columns a change touches: what ``diff`` needs).
    """

    def __init__(
        self,
        model: ClusterModel,
        *,
        materialize: bool = True,
        _columns: _PodColumns | None = None,
        _warm: bool = True,
    ) -> None:
        """``_columns``: the pods' columns when the caller has them (``diff_incremental``);
        ``_warm=False``: pod lookups that only pod relabelling needs are built on first use
        (a one-shot diff without pod changes never needs them)."""
        self._base = model
        self._model: ClusterModel | None = model
        self._materialized = materialize
        self._policies: dict[tuple[str, str], NetworkPolicy] = {
            (p.namespace, p.name): p for p in model.network_policies
        }
        self._ns_labels: dict[str, Mapping[str, str]] = {
            n: ns.labels for n, ns in model.namespaces.items()
        }
        # the model's own map until a pod is relabelled (copied then: see _record)
        self._pods: dict[tuple[str, str], Pod] = cast(dict[tuple[str, str], Pod], model.pod_by_key)
        self._pods_shared = True
        self._slow = bool(admin_policies(model))
        self._conns: dict[tuple[Peer, Peer], Connection] = {}
        self._range_keys: dict[tuple[int, Peer], list[tuple[Peer, Peer]]] = {}
        self._pinned: list[IPSet] = []
        if not self._slow:
            # Many small objects and a large live heap (the model): a pause of the cyclic
            # collector keeps it from walking the model again and again (nothing here is
            # cyclic garbage).
            paused = gc.isenabled()
            gc.disable()
            try:
                self._build(model, _columns)
                # the first change costs what the others do: masks, cuts, entries ready now
                _Block(self)
                self._entries(_EGRESS)
                self._entries(_INGRESS)
                self._wl_rank()
                if _warm:
                    self._ensure_ips()
                    self._all_ip_vectors()
                    self._pod_unit()
                    for key in itertools.islice(self._pods, 1):
                        self._pod_ordinal(key)
            finally:
                if paused:
                    gc.enable()
        if materialize:
            self._store(connectivity(model))

    # ================================================================= public API

    def connections(self) -> list[Connection]:
        """The current connection list, sorted as ``connectivity()`` sorts it."""
        if not self._materialized:
            raise ValueError("built with materialize=False: the full list is not kept")
        return sorted(self._conns.values(), key=lambda c: (c.src.sort_key(), c.dst.sort_key()))

    def set_policy(self, policy: NetworkPolicy) -> ConnDiff:
        return self.apply([SetPolicy(policy)])

    def remove_policy(self, namespace: str, name: str) -> ConnDiff:
        return self.apply([RemovePolicy(namespace, name)])

    def set_namespace_labels(self, namespace: str, labels: Mapping[str, str]) -> ConnDiff:
        return self.apply([SetNamespaceLabels(namespace, labels)])

    def set_pod_labels(self, namespace: str, name: str, labels: Mapping[str, str]) -> ConnDiff:
        return self.apply([SetPodLabels(namespace, name, labels)])

    def apply(self, changes: Sequence[Change]) -> ConnDiff:
        """Apply ``changes`` in order; what they changed, as one diff.

        The cyclic garbage collector is paused meanwhile: a change makes tens of
        thousands of small objects, and a full collection pass over a loaded model
        (millions of objects, none of them cyclic garbage) would cost more than the
        change itself."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._apply(changes)
        finally:
            if paused:
                gc.enable()

    def _apply(self, changes: Sequence[Change]) -> ConnDiff:
        for ch in changes:
            if isinstance(ch, SetPodLabels) and (ch.namespace, ch.name) not in self._pods:
                raise KeyError(f"no pod {ch.namespace}/{ch.name}")
        if self._slow or self._moves_controller(changes):
            return self._apply_full(changes)
        row_set: set[Peer] = set()
        col_set: set[Peer] = set()
        for ch in changes:
            r_peers, c_peers = self._affected(ch)
            row_set |= r_peers
            col_set |= c_peers
        rows = sorted(row_set, key=Peer.sort_key)
        cols = sorted(col_set - {PSEUDO}, key=Peer.sort_key)
        v6_listed = bool(self._cut_counts[6])
        # Both sides on one grid: the address cuts and port atoms of before and after.
        self._pin(changes)
        ctx_b = _Block(self)
        rb, cb = self._peer_masks(ctx_b, rows, cols)
        for ch in changes:
            self._apply_one(ch)
        self._refresh_atoms()
        self._refresh_cells()
        ctx_a = _Block(self)
        ra, ca = self._peer_masks(ctx_a, rows, cols)
        self._count_bounds(self._pinned, -1)
        self._pinned = []
        if ctx_a.atoms is not ctx_b.atoms or ctx_a.all_peers != ctx_b.all_peers:
            # not one grid after all: compare the connection lists
            before = self._connections(ctx_b, rows, cols, rb, cb)
            after = self._connections(ctx_a, rows, cols, ra, ca)
            if self._materialized:
                for c in before:
                    self._conns.pop((c.src, c.dst), None)
                self._store(after)
            return diff(before, after)
        d = self._mask_diff(ctx_b, ctx_a, rows, cols, (rb, ra), (cb, ca))
        if self._materialized and v6_listed != bool(self._cut_counts[6]):
            # The first IPv6 bound came or the last went: every workload's list gains or
            # loses its IPv6 lines (the diff above already compares both on IPv6).
            self._conns, self._range_keys = {}, {}
            self._store(connectivity(self.current_model()))
        return d

    def current_model(self) -> ClusterModel:
        """The cluster as it is now (rebuilt from its objects when changed: as slow as a load)."""
        if self._model is None:
            self._model = self._rebuild()
        return self._model

    # ================================================================= slow path

    def _moves_controller(self, changes: Sequence[Change]) -> bool:
        """A pod label change that may change which pods are the ingress controller."""
        if self._slow or not self._frontends:
            return False
        for ch in changes:
            if isinstance(ch, SetPodLabels):
                old = self._pods[(ch.namespace, ch.name)].labels
                if any(
                    (k in old) != (k in ch.labels) or old.get(k) != ch.labels.get(k)
                    for k in _CONTROLLER_KEYS
                ):
                    return True
        return False

    def _apply_full(self, changes: Sequence[Change]) -> ConnDiff:
        before_model = self.current_model()
        for ch in changes:
            self._record(ch)
        model = self.current_model()
        d = diff(*connectivity_pair(before_model, model))
        after = connectivity(model)
        if not self._slow:
            self._base = model
            self._build(model)
        if self._materialized:
            self._conns = {}
            self._range_keys = {}
            self._store(after)
        return d

    def _record(self, ch: Change) -> None:
        """Keep the object-level state (policies, namespace and pod labels) current."""
        if isinstance(ch, SetPolicy):
            self._policies[(ch.policy.namespace, ch.policy.name)] = ch.policy
        elif isinstance(ch, RemovePolicy):
            self._policies.pop((ch.namespace, ch.name), None)
        elif isinstance(ch, SetNamespaceLabels):
            self._ns_labels[ch.namespace] = dict(ch.labels)
        else:
            key = (ch.namespace, ch.name)
            old = self._pods[key]
            if self._pods_shared:
                self._pods = dict(self._pods)
                self._pods_shared = False
            self._pods[key] = dataclasses.replace(
                old, meta=dataclasses.replace(old.meta, labels=dict(ch.labels))
            )
        self._model = None

    def _rebuild(self) -> ClusterModel:
        base = self._base
        objs: list[ModelObject] = []
        seen_ns: set[str] = set()
        for o in all_objects(base):
            if isinstance(o, NetworkPolicy):
                continue
            if isinstance(o, Pod):
                objs.append(self._pods.get(o.key, o))
                continue
            if isinstance(o, Namespace):
                seen_ns.add(o.name)
                labels = self._ns_labels.get(o.name)
                if labels is not None and labels != o.labels:
                    o = dataclasses.replace(
                        o, meta=dataclasses.replace(o.meta, labels=dict(labels))
                    )
            objs.append(o)
        for name, labels in self._ns_labels.items():
            if name not in seen_ns:
                objs.append(Namespace(meta=Meta(name=name, labels=dict(labels))))
        objs.extend(self._policies.values())
        return build_model(objs, base.problems, source=base.source, derive_pods=False)

    # ================================================================= state

    def _build(self, model: ClusterModel, columns: _PodColumns | None = None) -> None:
        # ---- namespaces
        self._unit_cache: tuple[IntArray, IntArray, BoolArray, IntArray, IntArray] | None = None
        self._iso_cache: tuple[BoolArray, BoolArray] | None = None
        self._kinds_cache: npt.NDArray[np.int8] | None = None
        self._wl_rank_arr: IntArray | None = None
        self._ns_names: list[str] = []
        self._ns_index: dict[str, int] = {}
        self._ns_table = _Table()
        cols = (
            columns
            if columns is not None
            else _PodColumns.of(
                self._pods,
                namespaces=set(model.pods_by_namespace) if self._pods_shared else None,
            )
        )
        for n in sorted(set(self._ns_labels) | cols.namespaces() | {k[0] for k in self._policies}):
            self._ns_id(n)

        # ---- label classes, peers, units
        self._classes: list[_Class] = []
        self._class_index: dict[tuple[object, ...], int] = {}
        self._ns_classes: dict[int, list[int]] = {}
        self._ns_pod_classes: dict[int, frozenset[int]] = {}
        """Per namespace, its classes that are not hostNetwork (what ``podSelector: {}``
        selects), made on first use."""
        self._pod_table = _Table()
        self._peers: list[Peer] = []
        self._peer_index: dict[Peer, int] = {}
        self._units: list[_Unit] = []
        self._unit_index: dict[tuple[int, int], int] = {}
        self._peer_units: dict[int, list[int]] = {}
        self._pod_unit_map: dict[tuple[str, str], int] | None = None
        self._pod_ord: dict[tuple[str, str], int] | None = None
        self._pod_u: IntArray = np.zeros(0, dtype=np.int64)
        self._ns_pods: dict[str, list[tuple[str, str]]] | None = None
        self._ns_kv: dict[tuple[int, str, str], list[int]] = {}
        self._kv: dict[tuple[str, str], list[int]] = {}
        owner_of_pod = model.owner_of_pod
        units = self._units
        self._v6: list[tuple[int, tuple[str, str]]] = []
        keys = cols.keys
        # Pods into units in bulk: a peer and a class per group of replicas, not per pod.
        firsts, group_of = cols.groups()
        peer_of_ref: dict[int, int] = {}
        group_unit: list[int] = []
        owner_get = owner_of_pod.get
        peer_index, unit_index = self._peer_index, self._unit_index
        labels_col, host_col = cols.labels, cols.host
        cs_col, ics_col = cols.containers, cols.init_containers
        for i in firsts.tolist():
            key = keys[i]
            ref = owner_get(key)
            if ref is None:
                pi = self._peer_id(_new_peer(kind="Pod", namespace=key[0], name=key[1]))
            else:
                hit = peer_of_ref.get(id(ref))
                if hit is None:
                    peer = _new_peer(kind=ref.kind, namespace=ref.namespace, name=ref.name)
                    hit = peer_index.get(peer)
                    if hit is None:
                        hit = self._peer_id(peer)
                    peer_of_ref[id(ref)] = hit
                pi = hit
            lc = self._class_of_parts(key[0], labels_col[i], host_col[i], cs_col[i], ics_col[i])
            uk = (pi, lc)
            u = unit_index.get(uk)
            if u is None:
                u = unit_index[uk] = len(units)
                units.append(_Unit(pi, lc, None))
                self._peer_units.setdefault(pi, []).append(u)
            group_unit.append(u)
        pod_units = np.array(group_unit, dtype=np.int64)[group_of]
        # each unit's pods, in input order (listed on first use: _pods_of)
        self._built_keys = keys
        self._unit_order = np.argsort(pod_units, kind="stable")
        self._unit_bounds = np.searchsorted(
            pod_units[self._unit_order], np.arange(len(units) + 1)
        ).tolist()
        self._pod_u = pod_units
        # pod addresses (ipBlock peers): parsed on first use (_ensure_ips)
        self._ip_cols: _PodColumns | None = cols
        self._v6 = []
        self._v4 = self._v4_ord = self._v4_unit = np.zeros(0, dtype=np.int64)
        self._units_touched: set[int] | None = None

        # ---- peer sets, policies, rule entries
        self._pset_index: dict[Hashable, int] = {}
        self._pset_def: list[PeerDef] = []
        self._psets_by_ns_sel: dict[LabelSelector, list[int]] = {}
        self._pv = np.zeros((256, len(self._classes) + 256), dtype=bool)
        self._pv_ip: dict[int, BoolArray] = {}
        self._ip_psets: list[int] = []
        """Peer sets with an ipBlock (their match over the pod units: _ip_vec), in order."""
        self._ip_pset_set: set[int] = set()
        """Peer sets with an ipBlock: their match over the pod units."""
        self._pv_other: BoolArray | None = None
        self._rules: list[_Rule] = []
        self._rule_ps: list[int] = []
        self._named_rules: dict[tuple[str, str], list[int]] = {}
        self._rule_index: dict[tuple[int, Any, tuple[tuple[str, str], ...]], int] = {}
        self._port_entry: dict[tuple[object, ...], tuple[int, Any]] = {}
        """Port entries compiled, by (protocol, port, endPort): cuts made once per entry."""
        self._pol_rules: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
        self._pol_sel: dict[tuple[str, str], tuple[set[int], set[int]]] = {}
        self._pol_bounds: dict[tuple[str, str], list[IPSet]] = {}
        self._cut_counts: dict[int, dict[int, int]] = {4: {}, 6: {}}
        self._ext: list[_Ext] = []
        self._lc_pols: tuple[list[set[tuple[str, str]]], list[set[tuple[str, str]]]] = (
            [set() for _ in self._classes],
            [set() for _ in self._classes],
        )
        # flat rule entries per direction: class, rule; dead entries have class -1
        self._ent_lc: tuple[list[int], list[int]] = ([], [])
        self._ent_rule: tuple[list[int], list[int]] = ([], [])
        self._pol_ents: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        """Per policy, its entries' ranges ``(direction, start, end)`` in the flat lists."""
        self._ent_arrays: tuple[_Entries | None, _Entries | None] = (
            None,
            None,
        )
        self._named_used: set[tuple[str, str]] = set()
        self._named_num: dict[tuple[str, str], list[int | None]] = {}
        self._cuts: dict[str, set[int]] = {p: set() for p in PROTOCOLS}
        self._atoms_dirty = True
        self._cells_dirty = True
        self._rule_masks: MaskArray = np.zeros((0, 1), dtype=np.uint64)
        self._nchunks = 1
        for key, pol in self._policies.items():
            self._add_policy(key, pol)

        # ---- the ingress-controller pseudo-peer
        self._frontends = has_frontends(model)
        self._pseudo = self._frontends and isinstance(
            ingress_controller_endpoints(model)[0], IngressControllerEndpoint
        )
        self._backend_cache: dict[Peer, dict[str, IntervalSet]] | None = None

    # ---- small helpers

    def _ns_label(self, name: str) -> Mapping[str, str]:
        hit = self._ns_labels.get(name)
        return hit if hit is not None else {"kubernetes.io/metadata.name": name}

    def _ns_id(self, name: str) -> int:
        i = self._ns_index.get(name)
        if i is None:
            i = self._ns_index[name] = len(self._ns_names)
            self._ns_names.append(name)
            self._ns_table.append(self._ns_label(name))
        return i

    def _peer_kinds(self) -> npt.NDArray[np.int8]:
        """0 for every workload peer (all of ``_peers``)."""
        if self._kinds_cache is None or len(self._kinds_cache) != len(self._peers):
            self._kinds_cache = np.zeros(len(self._peers), dtype=np.int8)
        return self._kinds_cache

    def _peer_id(self, peer: Peer) -> int:
        i = self._peer_index.get(peer)
        if i is None:
            i = self._peer_index[peer] = len(self._peers)
            self._peers.append(peer)
        return i

    def _class_of(self, pod: Pod) -> int:
        spec = pod.spec
        return self._class_of_parts(
            pod.namespace, pod.labels, spec.host_network, spec.containers, spec.init_containers
        )

    def _class_of_parts(
        self,
        namespace: str,
        pod_labels: Mapping[str, str],
        host_network: bool,
        containers: tuple[Container, ...],
        init_containers: tuple[Container, ...],
    ) -> int:
        """The class of a pod with these namespace, labels, hostNetwork and containers."""
        ns = self._ns_index.get(namespace)
        if ns is None:
            ns = self._ns_id(namespace)
        if host_network:
            key: tuple[object, ...] = (ns, "<host>")
            labels: Mapping[str, str] = {}
            ports: tuple[tuple[str, str, int], ...] = ()
        else:
            labels = pod_labels
            named = [cp for c in containers for cp in c.ports if cp.name]
            for c in init_containers:  # native sidecars (restartPolicy Always), as all_ports()
                if c.restart_policy == "Always":
                    named.extend(cp for cp in c.ports if cp.name)
            # a name resolves to the first port of that name and protocol in container
            # order (resolve_named_port): a duplicate name (invalid, but loaded) is dropped
            first: dict[tuple[str, str], int] = {}
            for cp in named:
                first.setdefault(
                    (cast(str, cp.name), normalise_protocol(cp.protocol)), cp.container_port
                )
            ports = tuple(sorted((nm, pr, num) for (nm, pr), num in first.items()))
            key = (ns, tuple(sorted(labels.items())), ports)
        lc = self._class_index.get(key)
        if lc is None:
            lc = self._class_index[key] = len(self._classes)
            self._classes.append(_Class(ns, labels, ports, host_network))
            self._ns_classes.setdefault(ns, []).append(lc)
            self._ns_pod_classes.pop(ns, None)
            for kv in labels.items():
                self._ns_kv.setdefault((ns, *kv), []).append(lc)
                self._kv.setdefault(kv, []).append(lc)
            self._pod_table.append(labels)
            if hasattr(self, "_pset_def"):
                self._new_class(lc)
        return lc

    def _pod_unit(self) -> dict[tuple[str, str], int]:
        """Pod -> unit (built on first use)."""
        if self._pod_unit_map is None:
            self._pod_unit_map = dict(zip(self._pods, self._pod_u.tolist(), strict=True))
        return self._pod_unit_map

    def _pods_of(self, u: int) -> Collection[tuple[str, str]]:
        """The pods of unit ``u``."""
        pods = self._units[u].pods
        if pods is None:
            a, b = self._unit_bounds[u], self._unit_bounds[u + 1]
            return list(map(self._built_keys.__getitem__, self._unit_order[a:b].tolist()))
        return pods

    def _unit_size(self, u: int) -> int:
        pods = self._units[u].pods
        if pods is None:
            return int(self._unit_bounds[u + 1] - self._unit_bounds[u])
        return len(pods)

    def _unit_pods(self, u: int) -> set[tuple[str, str]]:
        """The pods of unit ``u`` as a set, to move pods (relabelling)."""
        pods = self._units[u].pods
        if pods is None:
            self._units[u].pods = pods = set(self._pods_of(u))
        return pods

    def _touch_unit(self, u: int) -> None:
        if self._units_touched is not None:
            self._units_touched.add(u)

    def _key_at(self, ordinal: int) -> tuple[str, str]:
        return self._built_keys[ordinal]

    def _pod_ordinal(self, key: tuple[str, str]) -> int:
        if self._pod_ord is None:
            self._pod_ord = dict(zip(self._pods, range(len(self._pods)), strict=True))
        return self._pod_ord[key]

    def _owner_peer(self, key: tuple[str, str]) -> int:
        return self._units[self._pod_unit()[key]].peer

    def _place(self, pod_key: tuple[str, str], peer: int, lc: int) -> int:
        uk = (peer, lc)
        u = self._unit_index.get(uk)
        if u is None:
            u = self._unit_index[uk] = len(self._units)
            self._units.append(_Unit(peer, lc, set()))
            self._peer_units.setdefault(peer, []).append(u)
            for vec_ps in list(self._pv_ip) if hasattr(self, "_pv_ip") else ():
                self._pv_ip[vec_ps] = np.append(self._pv_ip[vec_ps], False)
        self._unit_pods(u).add(pod_key)
        self._pod_unit()[pod_key] = u
        self._touch_unit(u)
        return u

    def _unit_arrays(self) -> tuple[IntArray, IntArray, BoolArray, IntArray, IntArray]:
        """Per pod unit: class, peer, alive (has pods); the fold of live pod units into
        peers: unit order and segment starts (kept until units change)."""
        n = len(self._units)
        if self._unit_cache is None:
            unit_lc = np.fromiter((u.lc for u in self._units), dtype=np.int64, count=n)
            unit_peer = np.fromiter((u.peer for u in self._units), dtype=np.int64, count=n)
            # a unit as built has pods (pods None)
            alive = np.fromiter(
                (u.pods is None or bool(u.pods) for u in self._units), dtype=bool, count=n
            )
        elif self._units_touched:
            # a relabel moved pods: update the units it touched (copies: an earlier block
            # may still hold the old arrays)
            unit_lc = self._unit_cache[0].copy()
            unit_peer = self._unit_cache[1].copy()
            alive = self._unit_cache[2].copy()
            if n > len(unit_lc):
                new = self._units[len(unit_lc) :]
                unit_lc = np.concatenate([unit_lc, [u.lc for u in new]]).astype(np.int64)
                unit_peer = np.concatenate([unit_peer, [u.peer for u in new]]).astype(np.int64)
                alive = np.concatenate([alive, np.zeros(len(new), dtype=bool)])
            for u in self._units_touched:
                alive[u] = bool(self._pods_of(u))
        else:
            return self._unit_cache
        live = np.flatnonzero(alive)
        order = live[np.argsort(unit_peer[live], kind="stable")]
        self._unit_cache = (unit_lc, unit_peer, alive, order, unit_peer[order])
        self._units_touched = set()
        return self._unit_cache

    def _isolation(self) -> tuple[BoolArray, BoolArray]:
        """Per class: isolated for egress, for ingress."""
        if self._iso_cache is None or len(self._iso_cache[0]) != len(self._classes):
            self._iso_cache = (
                np.fromiter((bool(x) for x in self._lc_pols[_EGRESS]), dtype=bool),
                np.fromiter((bool(x) for x in self._lc_pols[_INGRESS]), dtype=bool),
            )
        return self._iso_cache

    # ---- peer sets

    def _peerset(self, policy_ns: str, rule: PolicyRule) -> int:
        peers = rule.peers
        if not peers:
            key: Hashable = "<all>"
            definition: PeerDef = None
        else:
            ns = None
            for p in peers:
                if p.namespace_selector is None and p.ip_block is None:
                    ns = policy_ns
                    break
            key = (ns, peers)
            definition = (ns, peers)
        i = self._pset_index.get(key)
        if i is not None:
            return i
        i = self._pset_index[key] = len(self._pset_def)
        self._pset_def.append(definition)
        if definition is not None:
            for peer in definition[1]:
                if peer.namespace_selector is not None and peer.ip_block is None:
                    self._psets_by_ns_sel.setdefault(peer.namespace_selector, []).append(i)
        if i >= self._pv.shape[0]:  # x4: fewer copies of a matrix of thousands of rows
            grown = np.zeros((self._pv.shape[0] * 4, self._pv.shape[1]), dtype=bool)
            grown[: self._pv.shape[0]] = self._pv
            self._pv = grown
        self._pv[i, : len(self._classes)] = self._class_vector(definition)
        if definition is not None and any(p.ip_block is not None for p in definition[1]):
            self._ip_psets.append(i)
            self._ip_pset_set.add(i)
        return i

    def _class_vector(self, definition: PeerDef) -> BoolArray:
        """The selector part of a peer set over the classes (hostNetwork classes: never)."""
        L = len(self._classes)
        if definition is None:
            return np.ones(L, dtype=bool)
        ns, peers = definition
        out = np.zeros(L, dtype=bool)
        classes = self._classes
        for peer in peers:
            ns_sel, pod_sel = peer.namespace_selector, peer.pod_selector
            if peer.ip_block is not None or (ns_sel is None and pod_sel is None):
                continue
            if pod_sel is not None and pod_sel.is_empty:
                pod_sel = None
            if ns_sel is None:
                # podSelector alone: the policy's own namespace.
                nsi = self._ns_index.get(ns or "", -1)
                cands: Iterable[int] = (
                    self._ns_kv.get((nsi, *pod_sel.labels[0]), ())
                    if pod_sel is not None and pod_sel.labels and pod_sel.invalid is None
                    else self._ns_classes.get(nsi, ())
                )
                for lc in cands:
                    if pod_sel is None or pod_sel.matches(classes[lc].labels):
                        out[lc] = True
                continue
            ns_ok = self._ns_table.match(ns_sel)
            if pod_sel is None:
                out |= ns_ok[self._class_ns()]
            elif pod_sel.labels and pod_sel.invalid is None:
                for lc in self._kv.get(pod_sel.labels[0], ()):
                    c = classes[lc]
                    if ns_ok[c.ns] and pod_sel.matches(c.labels):
                        out[lc] = True
            else:
                out |= ns_ok[self._class_ns()] & self._pod_table.match(pod_sel)
        return out & ~self._class_host()

    def _class_ns(self) -> IntArray:
        arr = getattr(self, "_class_ns_arr", None)
        if arr is None or len(arr) != len(self._classes):
            arr = np.fromiter((c.ns for c in self._classes), dtype=np.int64)
            self._class_ns_arr: IntArray | None = arr
        return arr

    def _class_host(self) -> BoolArray:
        arr = getattr(self, "_class_host_arr", None)
        if arr is None or len(arr) != len(self._classes):
            arr = np.fromiter((c.host for c in self._classes), dtype=bool)
            self._class_host_arr: BoolArray | None = arr
        return arr

    def _ensure_ips(self) -> None:
        """Parse the pods' addresses (ipBlock peers match pod IPs; a hostNetwork pod's: its
        node's): once, when a peer set with an ipBlock is first evaluated in full."""
        cols = self._ip_cols
        if cols is None:
            return
        self._ip_cols = None
        pod_units = self._pod_u
        addrs = list(cols.ips)
        counts = np.fromiter(map(len, addrs), dtype=np.int64, count=len(addrs))
        for i in np.flatnonzero(counts == 0).tolist():
            pod = cols.pod(i)
            if pod.spec.host_network and pod.host_ip:
                addrs[i] = (pod.host_ip,)
                counts[i] = 1
        ip_texts: list[str] = list(itertools.chain.from_iterable(addrs))
        ip_ords = np.repeat(np.arange(len(addrs), dtype=np.int64), counts)
        ip_units = np.repeat(pod_units, counts)
        v4, keep = parse_v4_many(ip_texts)
        for pos in np.flatnonzero(~keep).tolist():
            parsed = _parse_ip(ip_texts[pos])
            if parsed is not None and parsed[0] == 6:
                self._v6.append((parsed[1], self._key_at(int(ip_ords[pos]))))
        self._v4 = v4[keep]
        self._v4_ord = ip_ords[keep]
        self._v4_unit = ip_units[keep]

    def _ip_vec(self, ps: int) -> BoolArray:
        """The ipBlock part of peer set ``ps`` over the pod units (computed on first use)."""
        hit = self._pv_ip.get(ps)
        if hit is None:
            self._ensure_ips()
            hit = self._pv_ip[ps] = self._ip_vector(self._pset_def[ps])
        return hit

    def _all_ip_vectors(self) -> None:
        for ps in self._ip_psets:
            self._ip_vec(ps)

    def _ip_vector(self, definition: PeerDef) -> BoolArray:
        """The ipBlock part of a peer set over the pod units."""
        out = np.zeros(len(self._units), dtype=bool)
        assert definition is not None
        for peer in definition[1]:
            if peer.ip_block is None or cidr_set(peer.ip_block.cidr) is None:
                continue
            s = ip_block_set(peer.ip_block)
            if len(self._v4):
                hit = np.zeros(len(self._v4), dtype=bool)
                for lo, hi in s.v4:
                    hit |= (self._v4 >= lo) & (self._v4 <= hi)
                out[self._v4_unit[hit]] = True
            for value, key in self._v6:
                if value in s.v6:
                    out[self._pod_unit()[key]] = True
        return out

    def _new_class(self, lc: int) -> None:
        """A class appeared (a pod's labels changed): extend what is kept per class."""
        if lc >= self._pv.shape[1]:
            grown = np.zeros((self._pv.shape[0], self._pv.shape[1] * 2), dtype=bool)
            grown[:, : self._pv.shape[1]] = self._pv
            self._pv = grown
        c = self._classes[lc]
        for i, d in enumerate(self._pset_def):
            self._pv[i, lc] = self._matches_class(d, c)
        self._lc_pols[0].append(set())
        self._lc_pols[1].append(set())
        self._iso_cache = None
        if self._atoms_dirty:
            return
        # Keep the atoms when the class's named ports are already cuts (a relabelled pod
        # has the ports of its old class).
        for (name, proto), nums in self._named_num.items():
            n = next((num for nm, pr, num in c.ports if nm == name and pr == proto), None)
            nums.append(n)
            starts = self._atoms.starts[proto]
            if n is not None and not (n in starts and (n + 1 > 65535 or n + 1 in starts)):
                self._atoms_dirty = True

    def _matches_class(self, definition: PeerDef, c: _Class) -> bool:
        if definition is None:
            return True
        if c.host:
            return False
        ns, peers = definition
        for peer in peers:
            ns_sel, pod_sel = peer.namespace_selector, peer.pod_selector
            if peer.ip_block is not None or (ns_sel is None and pod_sel is None):
                continue
            if ns_sel is None:
                if self._ns_names[c.ns] != ns:
                    continue
            elif not ns_sel.matches(self._ns_table.maps[c.ns]):
                continue
            if pod_sel is None or pod_sel.matches(c.labels):
                return True
        return False

    # ---- policies and their entries

    def _add_policy(self, key: tuple[str, str], pol: NetworkPolicy) -> None:
        ns = key[0]
        self._ns_id(ns)
        types = pol.policy_types
        affects_eg, affects_ing = "Egress" in types, "Ingress" in types
        eg = [self._rule_id(ns, r) for r in pol.egress] if affects_eg else []
        ing = [self._rule_id(ns, r) for r in pol.ingress] if affects_ing else []
        self._pol_rules[key] = (eg, ing)
        sel = self._selected(pol)
        sels = (sel if affects_eg else set(), sel if affects_ing else set())
        self._pol_sel[key] = sels
        ents: list[tuple[int, int, int]] = []
        for d, rids in ((_EGRESS, eg), (_INGRESS, ing)):
            lcs = sels[d]
            if not lcs:
                continue
            pols_of = self._lc_pols[d]
            for lc in lcs:
                pols_of[lc].add(key)
            if rids:
                ent_lc = self._ent_lc[d]
                start = len(ent_lc)
                if len(rids) == 1:
                    ent_lc.extend(lcs)
                else:
                    ent_lc.extend([lc for lc in lcs for _ in rids])
                self._ent_rule[d].extend(rids * len(lcs))
                ents.append((d, start, len(ent_lc)))
        self._pol_ents[key] = ents
        if ents:
            self._dirty_entries({d for d, _, _ in ents})
        self._iso_cache = None
        bounds = _ip_bounds(pol)
        if bounds:
            self._pol_bounds[key] = bounds
            self._count_bounds(bounds, +1)

    def _drop_policy(self, key: tuple[str, str]) -> None:
        for d, lcs in enumerate(self._pol_sel.pop(key, (set(), set()))):
            for lc in lcs:
                self._lc_pols[d][lc].discard(key)
        ents = self._pol_ents.pop(key, [])
        for d, a, b in ents:
            self._ent_lc[d][a:b] = [-1] * (b - a)
        self._pol_rules.pop(key, None)
        self._dirty_entries({d for d, _, _ in ents})
        self._iso_cache = None
        self._count_bounds(self._pol_bounds.pop(key, []), -1)

    def _select_class(self, key: tuple[str, str], lc: int) -> None:
        """Class ``lc`` (new) is selected by policy ``key``: add its entries."""
        pol = self._policies[key]
        for d, affects in ((_EGRESS, pol.affects_egress), (_INGRESS, pol.affects_ingress)):
            if not affects:
                continue
            self._pol_sel[key][d].add(lc)
            self._lc_pols[d][lc].add(key)
            rids = self._pol_rules[key][d]
            if rids:
                start = len(self._ent_lc[d])
                self._ent_lc[d].extend([lc] * len(rids))
                self._ent_rule[d].extend(rids)
                self._pol_ents[key].append((d, start, len(self._ent_lc[d])))
        self._dirty_entries({_EGRESS, _INGRESS})
        self._iso_cache = None

    def _rule_id(self, ns: str, rule: PolicyRule) -> int:
        """The rule of a policy of namespace ``ns``, numbered (equal rules once)."""
        ps = self._peerset(ns, rule)
        if not rule.ports:
            rk: tuple[int, Any, tuple[tuple[str, str], ...]] = (ps, None, ())
        else:
            nums: list[tuple[str, int, int]] = []
            named: set[tuple[str, str]] = set()
            port_entry = self._port_entry
            for e in rule.ports:
                pk = (e.protocol, e.port, e.end_port)
                hit = port_entry.get(pk)
                if hit is None:
                    hit = port_entry[pk] = self._compile_port(e)
                if hit[0] == 1:
                    nums.append(hit[1])
                elif hit[0] == 2:
                    named.add(hit[1])
            if named and not named <= self._named_used:
                self._named_used |= named
                self._atoms_dirty = True
            rk = (ps, tuple(nums), tuple(sorted(named)) if named else ())
        rid = self._rule_index.get(rk)
        if rid is None:
            r = _Rule(*rk)
            rid = self._rule_index[rk] = len(self._rules)
            self._rules.append(r)
            self._rule_ps.append(r.peerset)
            for k in r.named:
                self._named_rules.setdefault(k, []).append(rid)
            if not self._atoms_dirty:
                self._rule_masks = np.vstack([self._rule_masks, self._rule_mask(r)[None, :]])
        return rid

    def _compile_port(self, e: Any) -> tuple[int, Any]:
        """A port entry: ``(0, None)`` ignored (unknown protocol, empty range), ``(1, (proto,
        lo, hi))`` numeric (its bounds made cuts), ``(2, (name, proto))`` named."""
        proto = normalise_protocol(e.protocol)
        if proto not in PROTOCOLS:
            return 0, None
        rng = _entry_range(e)
        if rng is None:
            return 2, (str(e.port), proto)
        if rng[0] > rng[1]:
            return 0, None
        cuts = self._cuts[proto]
        if rng[0] not in cuts or rng[1] + 1 not in cuts:
            cuts.update((rng[0], rng[1] + 1))
            self._atoms_dirty = True
        return 1, (proto, rng[0], rng[1])

    def _selected(self, pol: NetworkPolicy) -> set[int]:
        """Classes of the policy's namespace its podSelector selects (not hostNetwork)."""
        nsi = self._ns_index.get(pol.namespace, -1)
        sel = pol.pod_selector
        classes = self._classes
        if sel.invalid is None and not sel.expressions:
            # the common shapes without a match per class: {} and one matchLabels pair
            # (hostNetwork classes carry no labels here, so _ns_kv never lists them)
            if not sel.labels:
                hit = self._ns_pod_classes.get(nsi)
                if hit is None:
                    hit = self._ns_pod_classes[nsi] = frozenset(
                        lc for lc in self._ns_classes.get(nsi, ()) if not classes[lc].host
                    )
                return set(hit)
            if len(sel.labels) == 1:
                return set(self._ns_kv.get((nsi, *sel.labels[0]), ()))
        candidates: Iterable[int]
        if sel.labels and sel.invalid is None:
            k, v = sel.labels[0]
            candidates = self._ns_kv.get((nsi, k, v), ())
        else:
            req = next(
                (r for r in sel.expressions if r.operator is Operator.IN),
                None,
            )
            if req is not None and sel.invalid is None:
                # an In requirement: only classes carrying one of its values can match
                candidates = {
                    lc for v in req.values for lc in self._ns_kv.get((nsi, req.key, v), ())
                }
            else:
                candidates = self._ns_classes.get(nsi, ())
        return {lc for lc in candidates if not classes[lc].host and sel.matches(classes[lc].labels)}

    def _dirty_entries(self, directions: set[int]) -> None:
        arrays = list(self._ent_arrays)
        for d in directions:
            arrays[d] = None
        self._ent_arrays = (arrays[0], arrays[1])

    def _entries(self, d: int) -> _Entries:
        """Live entries of direction ``d``, one per (class, distinct rule), sorted by class."""
        hit = self._ent_arrays[d]
        if hit is None:
            self._refresh_atoms()
            lc = np.array(self._ent_lc[d], dtype=np.int64)
            rule = np.array(self._ent_rule[d], dtype=np.int64)
            live = lc >= 0
            lc, rule = lc[live], rule[live]
            if len(lc):
                # identical rules of several policies selecting one class count once
                uniq = np.unique(lc * max(1, len(self._rules)) + rule)
                lc, rule = uniq // max(1, len(self._rules)), uniq % max(1, len(self._rules))
            starts = np.flatnonzero(np.r_[True, lc[1:] != lc[:-1]]) if len(lc) else lc
            ps_of_rule = np.array(self._rule_ps, dtype=np.int64)
            masks = self._rule_masks[rule] if len(rule) else np.zeros((0, self._nchunks), np.uint64)
            named: dict[tuple[str, str], IntArray] = {}
            for key, rids in self._named_rules.items():
                with_key = np.zeros(len(self._rules), dtype=bool)
                with_key[rids] = True
                sel = np.flatnonzero(with_key[rule]) if len(rule) else rule
                if not len(sel):
                    continue
                if d == _INGRESS:  # resolved on the destination: the entry's own class
                    masks[sel] |= self._named_classes(key)[lc[sel]]
                else:  # resolved on each destination unit, at evaluation
                    named[key] = sel
            hit = _Entries(starts, lc, rule, ps_of_rule[rule] if len(rule) else rule, masks, named)
            arrays = list(self._ent_arrays)
            arrays[d] = hit
            self._ent_arrays = (arrays[0], arrays[1])
        return hit

    # ---- atoms (port cuts) and masks

    def _refresh_atoms(self) -> None:
        if not self._atoms_dirty:
            return
        cuts = {p: set(v) for p, v in self._cuts.items()}
        named_num: dict[tuple[str, str], list[int | None]] = {}
        kept = self._named_num
        L = len(self._classes)
        for key in self._named_used:
            # what each class resolves the name to does not change with the cuts: keep it
            nums = kept.get(key, [])
            named_num[key] = nums + [None] * (L - len(nums))
        # the classes not resolved yet: each class's ports read once (a name resolves to
        # the first of the class's sorted ports with that name and protocol)
        start = min((len(kept.get(key, ())) for key in named_num), default=L)
        for lc in range(start, L):
            seen: set[tuple[str, str]] = set()
            for nm, pr, num in self._classes[lc].ports:
                key = (nm, pr)
                if key in seen:
                    continue
                seen.add(key)
                resolved = named_num.get(key)
                if resolved is not None and lc >= len(kept.get(key, ())):
                    resolved[lc] = num
        for (_, proto), nums in named_num.items():
            cuts[proto].update(x for n in set(nums) if n is not None for x in (n, n + 1))
        self._atoms = PortAtoms.build(cuts)
        self._nchunks = max(1, (self._atoms.count + 63) // 64)
        self._named_num = named_num
        self._all = self._chunks(self._atoms.all_mask())
        # rules share a few port lists: one mask per distinct list
        by_ports: dict[object, MaskArray] = {}
        masks = []
        for r in self._rules:
            m = by_ports.get(r.ports)
            if m is None:
                m = by_ports[r.ports] = self._rule_mask(r)
            masks.append(m)
        self._rule_masks = (
            np.stack(masks) if masks else np.zeros((0, self._nchunks), dtype=np.uint64)
        )
        self._named_cache: dict[tuple[str, str], MaskArray] = {}
        self._atoms_dirty = False
        self._ent_arrays = (None, None)

    def _chunks(self, mask: int) -> MaskArray:
        return np.array(
            [(mask >> (64 * c)) & 0xFFFFFFFFFFFFFFFF for c in range(self._nchunks)], dtype=np.uint64
        )

    def _rule_mask(self, r: _Rule) -> MaskArray:
        """The numeric ports of a rule as atom chunks."""
        if r.ports is None:
            return self._chunks(self._atoms.all_mask())
        m = 0
        for proto, lo, hi in r.ports:
            m |= self._atoms.mask(proto, lo, hi)
        return self._chunks(m)

    def _named_classes(self, key: tuple[str, str]) -> MaskArray:
        """Atom bits of the named port ``key`` per class (0 where the class lacks it)."""
        hit = self._named_cache.get(key)
        if hit is None or len(hit) != len(self._classes):
            hit = np.zeros((len(self._classes), self._nchunks), dtype=np.uint64)
            nums = self._named_num.get(key, [])
            have = [lc for lc, n in enumerate(nums) if n is not None]
            if have:
                proto = key[1]
                starts = np.array(self._atoms.starts[proto], dtype=np.int64)
                ports = np.array([nums[lc] for lc in have], dtype=np.int64)
                atom = self._atoms.offset[proto] + np.searchsorted(starts, ports, side="right") - 1
                hit[np.array(have), atom // 64] = np.left_shift(
                    np.uint64(1), (atom % 64).astype(np.uint64)
                )
            self._named_cache[key] = hit
        return hit

    # ---- cells and the units that are not pods

    def _count_bounds(self, bounds: list[IPSet], delta: int) -> None:
        """Add (+1) or remove (-1) the cut points of ``bounds``."""
        for b in bounds:
            for version, iv in ((4, b.v4), (6, b.v6)):
                counts = self._cut_counts[version]
                for lo, hi in iv:
                    for c in (lo, hi + 1):
                        n = counts.get(c, 0) + delta
                        if n:
                            counts[c] = n
                        else:
                            del counts[c]
        if bounds:
            self._cells_dirty = True

    def _refresh_cells(self) -> None:
        if not self._cells_dirty:
            return
        ext: list[_Ext] = []
        for version, top in ((4, IPV4_MAX), (6, IPV6_MAX)):
            counts = self._cut_counts[version]
            if version == 6 and not counts:
                continue
            starts = sorted({0, *(c for c in counts if c <= top)})
            for lo, nxt in itertools.pairwise([*starts, top + 1]):
                ext.append(_Ext(version, lo, nxt - 1))
        if ext != self._ext:
            self._ext = ext
            self._pv_other = None
        self._cells_dirty = False

    def _other_row(self, d: PeerDef, X: int) -> BoolArray:
        """One peer set over the address ranges and the pseudo-peer."""
        out = np.zeros(X, dtype=bool)
        if d is None:
            out[:] = True
            return out
        for peer in d[1]:
            if peer.ip_block is not None:
                if cidr_set(peer.ip_block.cidr) is None:
                    continue
                s = ip_block_set(peer.ip_block)
                for j, e in enumerate(self._ext):
                    if not out[j] and e.within(s):
                        out[j] = True
            elif (
                self._pseudo
                and peer.namespace_selector is not None
                and peer.namespace_selector.is_empty
                and (peer.pod_selector is None or peer.pod_selector.is_empty)
            ):
                # The pseudo-peer: a pod of an unknown namespace with unknown labels.
                out[X - 1] = True
        return out

    def _other_vectors(self) -> BoolArray:
        """Peer sets over the units that are not pods: the address ranges, then the pseudo-peer."""
        X = len(self._ext) + (1 if self._pseudo else 0)
        n = len(self._pset_def)
        have = self._pv_other
        if have is not None and have.shape[0] == n:
            return have
        out = np.zeros((n, X), dtype=bool)
        start = 0
        if have is not None and have.shape[1] == X:
            out[: have.shape[0]] = have  # only the new peer sets are computed
            start = have.shape[0]
        for i in range(start, n):
            out[i] = self._other_row(self._pset_def[i], X)
        self._pv_other = out
        return out

    # ================================================================= changes

    def _affected(self, ch: Change) -> tuple[set[Peer], set[Peer]]:
        """(row peers, column peers) whose connections ``ch`` can change."""
        if isinstance(ch, SetPolicy | RemovePolicy):
            key = (
                (ch.policy.namespace, ch.policy.name)
                if isinstance(ch, SetPolicy)
                else (ch.namespace, ch.name)
            )
            eg: set[int] = set()
            ing: set[int] = set()
            old = self._pol_sel.get(key)
            if old is not None:
                eg |= old[0]
                ing |= old[1]
            if isinstance(ch, SetPolicy):
                sel = self._selected(ch.policy)
                if ch.policy.affects_egress:
                    eg |= sel
                if ch.policy.affects_ingress:
                    ing |= sel
            return self._peers_of_classes(eg), self._peers_of_classes(ing)
        if isinstance(ch, SetNamespaceLabels):
            nsi = self._ns_index.get(ch.namespace)
            if nsi is None:
                return set(), set()
            peers = self._peers_of_classes(set(self._ns_classes.get(nsi, ())))
            return peers, set(peers)
        peer = self._peers[self._owner_peer((ch.namespace, ch.name))]
        rows = {peer}
        if self._pseudo:
            rows.add(PSEUDO)
        return rows, {peer}

    def _peers_of_classes(self, lcs: set[int]) -> set[Peer]:
        if not lcs:
            return set()
        unit_lc, unit_peer, alive, _, _ = self._unit_arrays()
        hit = alive & np.isin(unit_lc, np.fromiter(lcs, dtype=np.int64, count=len(lcs)))
        return {self._peers[p] for p in np.unique(unit_peer[hit]).tolist()}

    def _apply_one(self, ch: Change) -> None:
        self._record(ch)
        if isinstance(ch, SetPolicy):
            key = (ch.policy.namespace, ch.policy.name)
            self._drop_policy(key)
            self._add_policy(key, ch.policy)
        elif isinstance(ch, RemovePolicy):
            self._drop_policy((ch.namespace, ch.name))
        elif isinstance(ch, SetNamespaceLabels):
            self._set_ns_labels(ch.namespace, ch.labels)
        else:
            self._set_pod_labels((ch.namespace, ch.name))

    def _set_ns_labels(self, name: str, labels: Mapping[str, str]) -> None:
        nsi = self._ns_id(name)
        old = self._ns_table.maps[nsi]
        new = dict(labels)
        self._ns_table.replace(nsi, new)
        lcs = self._ns_classes.get(nsi, [])
        if not lcs:
            return
        # Only peer sets with a namespaceSelector that flips on this namespace change, and
        # only in this namespace's classes.
        psets: set[int] = set()
        for sel, ids in self._psets_by_ns_sel.items():
            if sel.matches(old) != sel.matches(new):
                psets.update(ids)
        if not psets:
            return
        lc_arr = np.array(lcs, dtype=np.int64)
        for i in sorted(psets):
            d = self._pset_def[i]
            self._pv[i, lc_arr] = False
            hits = self._ns_class_hits(d, nsi, lcs)
            if hits:
                self._pv[i, hits] = True

    def _ns_class_hits(self, definition: PeerDef, nsi: int, lcs: list[int]) -> list[int]:
        """The classes among ``lcs`` (all of namespace ``nsi``) a peer set matches."""
        assert definition is not None
        ns, peers = definition
        classes = self._classes
        out: set[int] = set()
        for peer in peers:
            ns_sel, pod_sel = peer.namespace_selector, peer.pod_selector
            if peer.ip_block is not None or (ns_sel is None and pod_sel is None):
                continue
            if ns_sel is None:
                if self._ns_names[nsi] != ns:
                    continue
            elif not ns_sel.matches(self._ns_table.maps[nsi]):
                continue
            if pod_sel is None or pod_sel.is_empty:
                out.update(lc for lc in lcs if not classes[lc].host)
            elif pod_sel.labels and pod_sel.invalid is None:
                cands = self._ns_kv.get((nsi, *pod_sel.labels[0]), ())
                out.update(lc for lc in cands if pod_sel.matches(classes[lc].labels))
            else:
                out.update(
                    lc for lc in lcs if not classes[lc].host and pod_sel.matches(classes[lc].labels)
                )
        return sorted(out)

    def _set_pod_labels(self, key: tuple[str, str]) -> None:
        # addresses (with their units) and ipBlock matches exist before pods move: kept
        # current below
        self._ensure_ips()
        self._all_ip_vectors()
        pod = self._pods[key]  # already carries the new labels (_record)
        old_u = self._pod_unit()[key]
        self._unit_pods(old_u).discard(key)
        self._touch_unit(old_u)
        n_classes = len(self._classes)
        lc = self._class_of(pod)
        if len(self._classes) > n_classes:
            for pkey, pol in self._policies.items():
                if (
                    pol.namespace == pod.namespace
                    and not pod.host_network
                    and pol.pod_selector.matches(pod.labels)
                ):
                    self._select_class(pkey, lc)
        u = self._place(key, self._units[old_u].peer, lc)
        if len(self._v4_ord):
            self._v4_unit[self._v4_ord == self._pod_ordinal(key)] = u
        for ps, vec in self._pv_ip.items():
            d = self._pset_def[ps]
            for unit in {old_u, u}:
                vec[unit] = self._unit_in_blocks(d, unit)
        self._backend_cache = None

    def _unit_in_blocks(self, definition: PeerDef, u: int) -> bool:
        assert definition is not None
        for peer in definition[1]:
            if peer.ip_block is None or cidr_set(peer.ip_block.cidr) is None:
                continue
            s = ip_block_set(peer.ip_block)
            for k in self._pods_of(u):
                for ip in pod_ips(self._pods[k]):
                    parsed = _parse_ip(ip)
                    if parsed is not None and parsed[1] in (s.v4 if parsed[0] == 4 else s.v6):
                        return True
        return False

    # ================================================================= blocks

    def _pin(self, changes: Sequence[Change]) -> None:
        """Before computing the BEFORE side: add the cuts the changes bring (port atoms,
        address bounds), and keep the bounds of the policies they replace or remove until
        the AFTER side is computed, so that both sides are on one grid."""
        pinned: list[IPSet] = []
        for ch in changes:
            olds: list[NetworkPolicy] = []
            if isinstance(ch, SetPolicy):
                pol = ch.policy
                olds.append(pol)
                old = self._policies.get((pol.namespace, pol.name))
                for rule in (*pol.ingress, *pol.egress):
                    for e in rule.ports:
                        proto = normalise_protocol(e.protocol)
                        rng = _entry_range(e) if proto in PROTOCOLS else None
                        if proto not in PROTOCOLS:
                            continue
                        if rng is None:
                            if (str(e.port), proto) not in self._named_used:
                                self._named_used.add((str(e.port), proto))
                                self._atoms_dirty = True
                        elif rng[0] <= rng[1] and not {rng[0], rng[1] + 1} <= self._cuts[proto]:
                            self._cuts[proto].update((rng[0], rng[1] + 1))
                            self._atoms_dirty = True
            else:
                old = (
                    self._policies.get((ch.namespace, ch.name))
                    if isinstance(ch, RemovePolicy)
                    else None
                )
            if old is not None:
                olds.append(old)
            for pol in olds:
                for b in _ip_bounds(pol):
                    pinned.append(b)
        self._count_bounds(pinned, +1)
        self._pinned = pinned
        self._refresh_atoms()
        self._refresh_cells()

    def _peer_masks(
        self, ctx: _Block, rows: list[Peer], cols: list[Peer]
    ) -> tuple[MaskArray, MaskArray]:
        """Peer-level masks: ``rows[i] -> peer j`` and ``peer j -> cols[i]``, both
        ``(n, P, C)``, with ``connectivity()``'s filters applied (no self pair, a workload on
        one side, the pseudo-peer only to workloads and only on their backend ports)."""
        P, C = len(ctx.all_peers), ctx.C
        out: list[MaskArray] = []
        for peers, as_row in ((rows, True), (cols, False)):
            arr = np.zeros((len(peers), P, C), dtype=np.uint64)
            items = [(n, ctx.units_of(p)) for n, p in enumerate(peers)]
            items = [(n, u) for n, u in items if u]
            for chunk in _chunked(items, _BLOCK_UNITS):
                units = [u for _, us in chunk for u in us]
                starts = np.cumsum([0] + [len(us) for _, us in chunk[:-1]])
                idx = [n for n, _ in chunk]
                if as_row:
                    per_peer = np.bitwise_or.reduceat(ctx.rows(units), starts, axis=0)
                    arr[idx] = ctx.fold(per_peer, axis=1)
                else:
                    per_peer = np.bitwise_or.reduceat(ctx.cols(units), starts, axis=1)
                    arr[idx] = ctx.fold(per_peer, axis=0).transpose(1, 0, 2)
            me = np.array([ctx.peer_pos(p) for p in peers], dtype=np.int64)
            me_kind = ctx.kind[me][:, None]
            other_kind = ctx.kind[None, :]
            keep = me[:, None] != np.arange(P)[None, :]
            keep &= (me_kind == 0) | (other_kind == 0)
            if as_row:
                keep &= (other_kind != 2) & ~((me_kind == 2) & (other_kind == 1))
            else:
                keep &= ~((other_kind == 2) & (me_kind != 0))
            arr[~keep] = 0
            if ctx.pseudo_pos is not None:
                if as_row:
                    for n, p in enumerate(peers):
                        if p == PSEUDO:
                            arr[n] &= ctx.backend_atoms
                else:
                    arr[:, ctx.pseudo_pos] &= ctx.backend_atoms[me]
            out.append(arr)
        return out[0], out[1]

    def _ports(
        self, ctx: _Block, mask: MaskArray, src: Peer, dst: Peer
    ) -> tuple[tuple[str, IntervalSet], ...]:
        ck = tuple(int(x) for x in mask)
        sets = ctx.sets_cache.get(ck)
        if sets is None:
            m = 0
            for c, x in enumerate(ck):
                m |= x << (64 * c)
            sets = ctx.sets_cache[ck] = ctx.atoms.to_sets(m)
        if src.kind == "pseudo":
            target = ctx.backends.get(dst, {})
            return tuple(
                (p, sets[p] & target[p])
                for p in PROTOCOLS
                if p in sets and p in target and sets[p] & target[p]
            )
        return tuple((p, sets[p]) for p in PROTOCOLS if p in sets)

    def _pairs(
        self,
        ctx: _Block,
        rows: list[Peer],
        cols: list[Peer],
        rm: MaskArray,
        cm: MaskArray,
        which: tuple[IntArray, IntArray] | None = None,
    ) -> Iterable[tuple[Peer, Peer, MaskArray]]:
        """(src, dst, mask) of the nonzero cells (or of the cells ``which`` selects)."""
        for arr, peers, as_row in ((rm, rows, True), (cm, cols, False)):
            i_idx, j_idx = np.nonzero(np.any(arr != 0, axis=2))
            for i, j in zip(i_idx.tolist(), j_idx.tolist(), strict=True):
                me, other = peers[i], ctx.all_peers[j]
                yield (me, other, arr[i, j]) if as_row else (other, me, arr[i, j])

    def _connections(
        self, ctx: _Block, rows: list[Peer], cols: list[Peer], rm: MaskArray, cm: MaskArray
    ) -> list[Connection]:
        """The connections of the given rows and columns, as ``connectivity()`` lists them."""
        out: dict[tuple[Peer, Peer], Connection] = {}
        for src, dst, mask in self._pairs(ctx, rows, cols, rm, cm):
            ports = self._ports(ctx, mask, src, dst)
            if ports:
                out[(src, dst)] = Connection(src, dst, ports)
        return merge_adjacent_ranges(out.values())

    def block(self, row_peers: Iterable[Peer], col_peers: Iterable[Peer]) -> list[Connection]:
        """Every connection from a peer of ``row_peers`` or to a peer of ``col_peers``, as
        :func:`~netsleuth.policy.connlist.connectivity` lists them."""
        self._refresh_atoms()
        self._refresh_cells()
        ctx = _Block(self)
        rows = list(row_peers)
        cols = [p for p in col_peers if p != PSEUDO]
        rm, cm = self._peer_masks(ctx, rows, cols)
        return self._connections(ctx, rows, cols, rm, cm)

    def _mask_diff(
        self,
        ctx_b: _Block,
        ctx_a: _Block,
        rows: list[Peer],
        cols: list[Peer],
        r: tuple[MaskArray, MaskArray],
        c: tuple[MaskArray, MaskArray],
    ) -> ConnDiff:
        """The diff of two sides on one grid, from the cells whose masks differ.

        Vectorised over the cells: on one grid two masks differ exactly when the port
        sets do (every atom is a non-empty port range), so a workload-to-workload cell
        is lost, gained or changed by its masks alone, and each distinct mask becomes
        a port set once. Cells of the pseudo-peer (its ports are cut to its backends'
        exact ports) and of address ranges (merged into runs) go through the per-cell
        path; they are few."""
        ctx = ctx_a
        P = len(ctx.all_peers)
        parts: list[tuple[IntArray, IntArray, MaskArray, MaskArray]] = []
        for (b, a), peers, as_row in ((r, rows, True), (c, cols, False)):
            if not peers:
                continue
            i_idx, j_idx = np.nonzero(np.any(b != a, axis=2))
            if not len(i_idx):
                continue
            pos = np.fromiter((ctx.peer_pos(p) for p in peers), dtype=np.int64, count=len(peers))
            me = pos[i_idx]
            src_i, dst_i = (me, j_idx) if as_row else (j_idx, me)
            parts.append((src_i, dst_i, b[i_idx, j_idx], a[i_idx, j_idx]))
        if not parts:
            return ConnDiff((), (), ())
        S = np.concatenate([x[0] for x in parts])
        D = np.concatenate([x[1] for x in parts])
        B = np.concatenate([x[2] for x in parts])
        A = np.concatenate([x[3] for x in parts])
        # a cell both in a changed row and a changed column: once (both sides computed
        # the same mask for it)
        _, first = np.unique(S * P + D, return_index=True)
        S, D, B, A = S[first], D[first], B[first], A[first]
        kind = ctx.kind
        ks, kd = kind[S], kind[D]
        plain = (ks == 0) & (kd == 0)
        all_peers = ctx.all_peers

        # ---- workload <-> workload cells, vectorised
        pS, pD, pB, pA = S[plain], D[plain], B[plain], A[plain]
        n = len(pS)
        keys: list[PortsKey] = []
        inv: IntArray = np.zeros(0, dtype=np.int64)
        if n:
            both = np.concatenate([pB, pA])
            if ctx.C == 1:
                uniq, inv = np.unique(both[:, 0], return_inverse=True)
                uniq = uniq[:, None]
            else:
                uniq, inv = np.unique(both, axis=0, return_inverse=True)
            inv = inv.reshape(-1)
            for row in uniq.tolist():
                m = 0
                for ci, x in enumerate(row):
                    m |= int(x) << (64 * ci)
                sets = ctx.atoms.to_sets(m)
                keys.append(tuple((p, sets[p]) for p in PROTOCOLS if p in sets))
        was_k, now_k = inv[:n], inv[n:]
        was_zero = ~np.any(pB != 0, axis=1) if n else np.zeros(0, dtype=bool)
        now_zero = ~np.any(pA != 0, axis=1) if n else np.zeros(0, dtype=bool)
        peers_obj = ctx.peers_array()
        keys_obj = np.empty(len(keys), dtype=object)
        keys_obj[:] = keys
        wl_rank = self._wl_rank()

        def conns(sel: IntArray, k: IntArray) -> list[Connection]:
            return list(
                map(
                    Connection,
                    peers_obj[pS[sel]].tolist(),
                    peers_obj[pD[sel]].tolist(),
                    keys_obj[k[sel]].tolist(),
                )
            )

        lost_i = np.flatnonzero(now_zero)
        gained_i = np.flatnonzero(was_zero & ~now_zero)
        changed_i = np.flatnonzero(~was_zero & ~now_zero)
        lost = conns(lost_i, was_k)
        gained = conns(gained_i, now_k)
        changed = list(zip(conns(changed_i, was_k), conns(changed_i, now_k), strict=True))
        order_l = (wl_rank[pS[lost_i]], wl_rank[pD[lost_i]])
        order_g = (wl_rank[pS[gained_i]], wl_rank[pD[gained_i]])
        order_c = (wl_rank[pS[changed_i]], wl_rank[pD[changed_i]])

        # ---- the pseudo-peer's cells and the address ranges' cells, one by one
        cells: dict[tuple[Peer, Peer], tuple[PortsKey, PortsKey]] = {}
        other = np.flatnonzero(~plain).tolist()
        Sl, Dl = S.tolist(), D.tolist()
        for k in other:
            src, dst = all_peers[Sl[k]], all_peers[Dl[k]]
            was = self._ports(ctx_b, B[k], src, dst)
            now = self._ports(ctx_a, A[k], src, dst)
            if was != now:
                cells[(src, dst)] = (was, now)
        x_lost: list[Connection] = []
        x_gained: list[Connection] = []
        x_changed: list[tuple[Connection, Connection]] = []
        ranged: dict[tuple[int, Peer], list[tuple[_Ext, PortsKey, PortsKey]]] = {}
        ext_of = {e.peer: e for e in ctx_a.ext}
        for (src, dst), (was, now) in cells.items():
            if src.kind == "ip_range":
                ranged.setdefault((0, dst), []).append((ext_of[src], was, now))
                continue
            if dst.kind == "ip_range":
                ranged.setdefault((1, src), []).append((ext_of[dst], was, now))
                continue
            _classify(
                Connection(src, dst, was), Connection(src, dst, now), x_lost, x_gained, x_changed
            )
        for (side, peer), items in ranged.items():
            items.sort(key=lambda t: (t[0].version, t[0].lo))
            runs: list[tuple[int, int, int, PortsKey, PortsKey]] = []
            for e, was, now in items:
                if (
                    runs
                    and runs[-1][0] == e.version
                    and runs[-1][2] + 1 == e.lo
                    and runs[-1][3:] == (was, now)
                ):
                    runs[-1] = (e.version, runs[-1][1], e.hi, was, now)
                else:
                    runs.append((e.version, e.lo, e.hi, was, now))
            for v, lo, hi, was, now in runs:
                rng = Peer.for_range(v, lo, hi)
                src, dst = (rng, peer) if side == 0 else (peer, rng)
                _classify(
                    Connection(src, dst, was),
                    Connection(src, dst, now),
                    x_lost,
                    x_gained,
                    x_changed,
                )
        if self._materialized:
            plain_now = list(
                zip(
                    peers_obj[pS].tolist(),
                    peers_obj[pD].tolist(),
                    keys_obj[now_k].tolist(),  # () where nothing is allowed any more
                    strict=True,
                )
            )
            self._update_store(ctx_a, rows, cols, r[1], c[1], plain_now, cells, ranged)

        # ---- one order, as connectivity() sorts: workloads by rank, then the others
        extra = {
            p
            for conn in (*x_lost, *x_gained, *(w for w, _ in x_changed))
            for p in (conn.src, conn.dst)
            if p.kind in ("ip_range", "pseudo")
        }
        n_wl = len(self._peers)
        rank_of = {p: n_wl + i for i, p in enumerate(sorted(extra, key=Peer.sort_key))}

        def rank(p: Peer) -> int:
            hit = rank_of.get(p)
            return hit if hit is not None else int(wl_rank[self._peer_index[p]])

        def ordered(
            items: list[_T],
            arrays: tuple[IntArray, IntArray],
            more: list[_T],
            conn_of: Callable[[_T], Connection],
        ) -> tuple[_T, ...]:
            rs, rd = arrays
            if more:
                rs = np.concatenate([rs, [rank(conn_of(x).src) for x in more]])
                rd = np.concatenate([rd, [rank(conn_of(x).dst) for x in more]])
            allx = items + more
            order = np.lexsort((rd, rs)).tolist()
            return tuple(allx[i] for i in order)

        def same(x: Connection) -> Connection:
            return x

        def first_of(x: tuple[Connection, Connection]) -> Connection:
            return x[0]

        return ConnDiff(
            lost=ordered(lost, order_l, x_lost, same),
            gained=ordered(gained, order_g, x_gained, same),
            changed=ordered(changed, order_c, x_changed, first_of),
        )

    def _wl_rank(self) -> IntArray:
        """Each workload peer's position in ``connectivity()``'s order (peers are fixed
        once built: relabelling moves pods between units, never makes a peer)."""
        hit = self._wl_rank_arr
        if hit is None or len(hit) != len(self._peers):
            # Peer.sort_key() of a workload peer (every one of _peers): (0, namespace, name,
            # kind); built here without a method call per peer
            keys = [(p.namespace or "", p.name, p.kind) for p in self._peers]
            order = sorted(range(len(keys)), key=keys.__getitem__)
            hit = np.empty(len(self._peers), dtype=np.int64)
            hit[np.array(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int64)
            self._wl_rank_arr = hit
        return hit

    def _update_store(
        self,
        ctx: _Block,
        rows: list[Peer],
        cols: list[Peer],
        ra: MaskArray,
        ca: MaskArray,
        plain: list[tuple[Peer, Peer, PortsKey]],
        cells: dict[tuple[Peer, Peer], tuple[PortsKey, PortsKey]],
        ranged: dict[tuple[int, Peer], list[tuple[_Ext, PortsKey, PortsKey]]],
    ) -> None:
        """The kept list after a change: changed workload pairs replaced, and the merged
        address-range lines of every workload whose ranges changed rebuilt."""
        for src, dst, now in plain:
            if now:
                self._conns[(src, dst)] = Connection(src, dst, now)
            else:
                self._conns.pop((src, dst), None)
        for (src, dst), (_, now) in cells.items():
            if src.kind == "ip_range" or dst.kind == "ip_range":
                continue
            if now:
                self._conns[(src, dst)] = Connection(src, dst, now)
            else:
                self._conns.pop((src, dst), None)
        if not ranged:
            return
        row_pos = {p: n for n, p in enumerate(rows)}
        col_pos = {p: n for n, p in enumerate(cols)}
        n_wl = len(self._peers)
        for side, other in ranged:
            for key in self._range_keys.pop((side, other), []):
                self._conns.pop(key, None)
            fresh: list[Connection] = []
            for j, e in enumerate(ctx.ext, start=n_wl):
                if side == 1:
                    mask = ra[row_pos[other], j]
                    src, dst = other, e.peer
                else:
                    mask = ca[col_pos[other], j]
                    src, dst = e.peer, other
                ports = self._ports(ctx, mask, src, dst)
                if ports:
                    fresh.append(Connection(src, dst, ports))
            self._store(merge_adjacent_ranges(fresh))

    def _pods_in(self, namespace: str) -> list[tuple[str, str]]:
        if self._ns_pods is None:
            self._ns_pods = {}
            for k in self._pods:
                self._ns_pods.setdefault(k[0], []).append(k)
        return self._ns_pods.get(namespace, [])

    def _backends(self) -> dict[Peer, dict[str, IntervalSet]]:
        """The exact pod ports each workload receives frontend traffic on (current labels)."""
        if self._backend_cache is not None:
            return self._backend_cache

        def select(namespace: str, selector: Mapping[str, str]) -> list[Pod]:
            sel = LabelSelector.from_match_labels(selector)
            return [
                self._pods[k] for k in self._pods_in(namespace) if sel.matches(self._pods[k].labels)
            ]

        ports: dict[Peer, dict[str, list[tuple[int, int]]]] = {}
        for _, pod, proto, num in backend_targets(self._base, select):
            peer = self._peers[self._owner_peer(pod.key)]
            ports.setdefault(peer, {}).setdefault(proto, []).append((num, num))
        self._backend_cache = {
            p: {k: IntervalSet.of(v) for k, v in d.items()} for p, d in ports.items()
        }
        return self._backend_cache

    def _store(self, conns: Iterable[Connection]) -> None:
        for c in conns:
            self._conns[(c.src, c.dst)] = c
            if c.src.kind == "ip_range":
                self._range_keys.setdefault((0, c.dst), []).append((c.src, c.dst))
            elif c.dst.kind == "ip_range":
                self._range_keys.setdefault((1, c.src), []).append((c.src, c.dst))


class _Block:
    """One block computation over the current state: arrays gathered once."""

    def __init__(self, st: IncrementalConnectivity) -> None:
        st._refresh_atoms()
        st._refresh_cells()
        self.st = st
        self.atoms = st._atoms
        self.Up = Up = len(st._units)
        self.pv_other = st._other_vectors()
        self.X = X = self.pv_other.shape[1]
        self.U = Up + X
        self.C = st._nchunks
        self.ALL = st._all
        self.L = len(st._classes)
        self.unit_lc, _, self.alive, pod_order, pod_order_peer = st._unit_arrays()
        self.host = st._class_host()[self.unit_lc] if Up else np.zeros(0, dtype=bool)
        self.iso = st._isolation()
        # peers: workloads, the address ranges, the pseudo-peer
        n_wl = len(st._peers)
        self.ext = list(st._ext)
        self.all_peers = [*st._peers, *(e.peer for e in st._ext)] + ([PSEUDO] if st._pseudo else [])
        # fold: live pod units sorted by peer, then one segment per address range / pseudo
        self.fold_order = np.concatenate([pod_order, np.arange(Up, Up + X, dtype=np.int64)])
        folded_peer = np.concatenate([pod_order_peer, np.arange(n_wl, n_wl + X, dtype=np.int64)])
        self.fold_starts = (
            np.flatnonzero(np.r_[True, folded_peer[1:] != folded_peer[:-1]])
            if len(folded_peer)
            else folded_peer
        )
        self.fold_peer = folded_peer[self.fold_starts] if len(folded_peer) else folded_peer
        self._named_units: dict[tuple[str, str], MaskArray] = {}
        self._pv_rows: dict[int, BoolArray] = {}
        self.kind = np.concatenate(
            [st._peer_kinds(), np.ones(len(self.ext), dtype=np.int8)]
            + ([np.array([2], dtype=np.int8)] if st._pseudo else [])
        )
        self.sets_cache: dict[tuple[int, ...], dict[str, IntervalSet]] = {}
        self._peers_obj: npt.NDArray[np.object_] | None = None
        self.pseudo_pos: int | None = len(self.all_peers) - 1 if st._pseudo else None
        self.backends = st._backends() if st._pseudo else {}
        self.backend_atoms = np.zeros((len(self.all_peers), self.C), dtype=np.uint64)
        for peer, ports in self.backends.items():
            m = 0
            for proto, iv in ports.items():
                for lo, hi in iv:
                    for port in range(lo, hi + 1):
                        m |= 1 << self.atoms.atom(proto, port)
            self.backend_atoms[self.peer_pos(peer)] = st._chunks(m)

    def units_of(self, peer: Peer) -> list[int]:
        st = self.st
        if peer == PSEUDO:
            return [self.U - 1] if st._pseudo else []
        i = st._peer_index.get(peer)
        if i is None:
            return []
        return [u for u in st._peer_units.get(i, ()) if self.alive[u]]

    def fold(self, arr: MaskArray, axis: int) -> MaskArray:
        """Units -> peers along ``axis`` (OR over a peer's live units)."""
        shape = list(arr.shape)
        shape[axis] = len(self.all_peers)
        out = np.zeros(shape, dtype=np.uint64)
        if len(self.fold_order):
            red = np.bitwise_or.reduceat(
                np.take(arr, self.fold_order, axis=axis), self.fold_starts, axis=axis
            )
            if axis == 0:
                out[self.fold_peer] = red
            else:
                out[:, self.fold_peer] = red
        return out

    def peers_array(self) -> npt.NDArray[np.object_]:
        """``all_peers`` as an object array (for gathers)."""
        if self._peers_obj is None:
            self._peers_obj = np.empty(len(self.all_peers), dtype=object)
            self._peers_obj[:] = self.all_peers
        return self._peers_obj

    def peer_pos(self, peer: Peer) -> int:
        """Index of ``peer`` among all peers (workloads, ranges, pseudo-peer)."""
        if peer == PSEUDO:
            return len(self.all_peers) - 1
        return self.st._peer_index[peer]

    def full(self) -> MaskArray:
        return np.broadcast_to(self.ALL, (self.U, self.C)).copy()

    def pv_row(self, ps: int) -> BoolArray:
        """Peer set ``ps`` over every unit."""
        hit = self._pv_rows.get(ps)
        if hit is None:
            st = self.st
            pods = st._pv[ps, : self.L][self.unit_lc]
            if ps in st._ip_pset_set:
                pods = pods | st._ip_vec(ps)[: self.Up]
            hit = self._pv_rows[ps] = np.concatenate([pods, self.pv_other[ps]])
        return hit

    def pv_at(self, units: list[int]) -> BoolArray:
        """Every peer set at the given units: ``(n_peersets, len(units))``."""
        st = self.st
        n = len(st._pset_def)
        idx = np.array(units, dtype=np.int64)
        pods = idx < self.Up
        out = np.zeros((n, len(units)), dtype=bool)
        if pods.any():
            out[:, pods] = st._pv[:n][:, self.unit_lc[idx[pods]]]
            at = idx[pods]
            # ipBlock peer sets: by the few units' own addresses, unless they hold many
            # pods (then over every unit, once)
            n_pods = sum(st._unit_size(u) for u in at.tolist())
            if n_pods * len(st._ip_psets) > 20_000:
                st._all_ip_vectors()
            for ps in st._ip_psets:
                vec = st._pv_ip.get(ps)
                if vec is not None:
                    out[ps, pods] |= vec[at]
                else:
                    d = st._pset_def[ps]
                    out[ps, pods] |= [st._unit_in_blocks(d, u) for u in at.tolist()]
        if (~pods).any():
            out[:, ~pods] = self.pv_other[:, idx[~pods] - self.Up]
        return out

    def named_units(self, key: tuple[str, str]) -> MaskArray:
        hit = self._named_units.get(key)
        if hit is None:
            hit = np.zeros((self.U, self.C), dtype=np.uint64)
            if self.Up:
                hit[: self.Up] = self.st._named_classes(key)[self.unit_lc]
            self._named_units[key] = hit
        return hit

    # ---- the two sides

    def egress_row(self, lc: int) -> MaskArray:
        """E(s, ·) for a source of class ``lc``: ``(U, C)``."""
        st = self.st
        if not self.iso[_EGRESS][lc]:
            return self.full()
        ent = st._entries(_EGRESS)
        a = int(np.searchsorted(ent.lcs, lc, side="left"))
        b = int(np.searchsorted(ent.lcs, lc, side="right"))
        row = np.zeros((self.U, self.C), dtype=np.uint64)
        for e in range(a, b):
            vec = np.broadcast_to(ent.masks[e], (self.U, self.C))
            r = st._rules[int(ent.rules[e])]
            for nk in r.named:  # named ports resolve on each destination
                vec = vec | self.named_units(nk)
            row |= np.where(self.pv_row(int(ent.peersets[e]))[:, None], vec, np.uint64(0))
        return row

    def ingress_col(self, lc: int) -> MaskArray:
        """I(·, d) for a destination of class ``lc``: ``(U, C)``."""
        st = self.st
        if not self.iso[_INGRESS][lc]:
            return self.full()
        ent = st._entries(_INGRESS)
        a = int(np.searchsorted(ent.lcs, lc, side="left"))
        b = int(np.searchsorted(ent.lcs, lc, side="right"))
        col = np.zeros((self.U, self.C), dtype=np.uint64)
        for e in range(a, b):
            col |= np.where(self.pv_row(int(ent.peersets[e]))[:, None], ent.masks[e], np.uint64(0))
        return col

    def per_class(self, units: list[int], d: int) -> MaskArray:
        """For every class c, its direction-``d`` rules evaluated with ``units`` as the
        peer: ``(L, k, C)`` (ingress: I(u, c); egress: E(c, u))."""
        st = self.st
        k = len(units)
        out = np.zeros((self.L, k, self.C), dtype=np.uint64)
        ent = st._entries(d)
        if len(ent.lcs):
            at = self.pv_at(units)  # (n_ps, k)
            hit = at[ent.peersets]  # (n_ent, k)
            contrib = np.where(hit[:, :, None], ent.masks[:, None, :], np.uint64(0))
            for key, sel in ent.named.items():  # egress named ports: on each destination unit
                extra = self.named_units(key)[units]  # (k, C)
                contrib[sel] |= np.where(hit[sel][:, :, None], extra[None, :, :], np.uint64(0))
            out[ent.lcs[ent.starts]] = np.bitwise_or.reduceat(contrib, ent.starts, axis=0)
        out[~self.iso[d]] = self.ALL
        return out

    def expand(self, per_class: MaskArray) -> MaskArray:
        """``(L, k, C)`` per class -> ``(U, k, C)`` per unit (non-pods, hostNetwork: all)."""
        out = np.empty((self.U, per_class.shape[1], self.C), dtype=np.uint64)
        out[:] = self.ALL
        pods = np.flatnonzero(~self.host)
        if len(pods):
            out[pods] = per_class[self.unit_lc[pods]]
        return out

    def rows(self, units: list[int]) -> MaskArray:
        """``result[s, ·]`` for source units: ``(k, U, C)``."""
        ing = self.expand(self.per_class(units, _INGRESS))  # (U, k, C): I(s_k, d)
        out = np.empty((len(units), self.U, self.C), dtype=np.uint64)
        for k, s in enumerate(units):
            if s < self.Up and not self.host[s]:
                out[k] = self.egress_row(int(self.unit_lc[s])) & ing[:, k, :]
            else:
                out[k] = ing[:, k, :]
        return out

    def cols(self, units: list[int]) -> MaskArray:
        """``result[·, d]`` for destination units: ``(U, k, C)``."""
        eg = self.expand(self.per_class(units, _EGRESS))  # (U, k, C): E(s, d_k)
        out = np.empty((self.U, len(units), self.C), dtype=np.uint64)
        for k, d in enumerate(units):
            if d < self.Up and not self.host[d]:
                out[:, k, :] = eg[:, k, :] & self.ingress_col(int(self.unit_lc[d]))
            else:
                out[:, k, :] = eg[:, k, :]
        return out


PortsKey = tuple[tuple[str, IntervalSet], ...]


def _ip_bounds(pol: NetworkPolicy) -> list[IPSet]:
    """The address sets whose bounds a policy's ipBlocks put in the cut."""
    out: list[IPSet] = []
    for rule in (*pol.ingress, *pol.egress):
        for peer in rule.peers:
            if peer.ip_block is None:
                continue
            for c in (peer.ip_block.cidr, *peer.ip_block.except_):
                s = cidr_set(c)
                if s is not None:
                    out.append(s)
    return out


def _classify(
    was: Connection,
    now: Connection,
    lost: list[Connection],
    gained: list[Connection],
    changed: list[tuple[Connection, Connection]],
) -> None:
    if not now.ports:
        lost.append(was)
    elif not was.ports:
        gained.append(now)
    else:
        changed.append((was, now))


_T = TypeVar("_T")


def _chunked(items: list[tuple[_T, list[int]]], limit: int) -> Iterable[list[tuple[_T, list[int]]]]:
    """Groups of (peer, units) holding at most ``limit`` units (a peer is never split)."""
    group: list[tuple[_T, list[int]]] = []
    n = 0
    for item in items:
        if group and n + len(item[1]) > limit:
            yield group
            group, n = [], 0
        group.append(item)
        n += len(item[1])
    if group:
        yield group


# --------------------------------------------------------------------------- model deltas


def model_delta(
    before: ClusterModel, after: ClusterModel, *, _columns: _PodColumns | None = None
) -> list[Change] | None:
    """The changes turning ``before`` into ``after`` when they are only NetworkPolicies,
    namespace labels and pod labels; ``None`` when anything else that connectivity depends
    on differs (pods added or removed, their addresses, ports, owners or hostNetwork;
    Services, Ingresses, routes; admin policies). ``_columns``: ``before``'s pod columns
    when the caller has them (:func:`_columns_of`)."""
    if admin_policies(before) or admin_policies(after):
        return None
    changes: list[Change] = []
    pb = {(p.namespace, p.name): p for p in before.network_policies}
    pa = {(p.namespace, p.name): p for p in after.network_policies}
    for key in sorted(pb.keys() - pa.keys()):
        changes.append(RemovePolicy(*key))
    for key, pol in pa.items():
        prev = pb.get(key)
        if prev is None or (prev.pod_selector, prev.policy_types, prev.ingress, prev.egress) != (
            pol.pod_selector,
            pol.policy_types,
            pol.ingress,
            pol.egress,
        ):
            changes.append(SetPolicy(pol))
    for name in before.namespaces.keys() | after.namespaces.keys():
        if before.namespace_labels(name) != after.namespace_labels(name):
            changes.append(SetNamespaceLabels(name, dict(after.namespace_labels(name))))
    if len(before.pods) != len(after.pods):
        return None
    relabelled = _relabelled_in_order(before, after, _columns)
    if relabelled is None:
        return None
    changes.extend(relabelled)
    if (has_frontends(before) or has_frontends(after)) and _frontend_inputs(
        before
    ) != _frontend_inputs(after):
        return None
    return changes


def _columns_of(model: ClusterModel) -> _PodColumns:
    """The pods' columns in ``pod_by_key`` order (the incremental state's order), or in
    ``pods`` order when two pods share a key (``namespace: null`` and ``default``)."""
    if len(model.pod_by_key) == len(model.pods):
        return _PodColumns.of(model.pod_by_key, namespaces=set(model.pods_by_namespace))
    cols = _PodColumns.of(
        dict(enumerate(model.pods)),
        keys=[p.key for p in model.pods],
        namespaces=set(model.pods_by_namespace),
    )
    cols.by_index = True
    return cols


def _relabelled_in_order(
    before: ClusterModel, after: ClusterModel, cb: _PodColumns | None = None
) -> list[Change] | None:
    """The pod label changes between two versions listing the same pods; ``None`` when a pod
    differs in anything else connectivity depends on (addresses, owner references,
    hostNetwork, node, named ports). Pods are compared pairwise in input order; another
    order falls back to a comparison by key.

    Column by column over all pods at once (C loops: ``map`` and list equality) after one
    walk over each side's pods (:class:`_PodColumns`; ``cb``, the BEFORE side's, is
    shared with the incremental state). Replicas share owner references and
    containers, so those are compared once per distinct pair of objects."""
    if cb is None:
        cb = _columns_of(before)
    ca = _columns_of(after)
    n = len(cb.keys)
    if cb.keys != ca.keys:
        return _relabelled_by_key(before, after)
    if cb.ips != ca.ips or cb.host != ca.host:
        return None
    # the node (its address) matters only to hostNetwork pods
    host = np.flatnonzero(np.fromiter(cb.host, dtype=bool, count=n)).tolist()
    if any(
        (cb.pod(i).host_ip, cb.pod(i).spec.node_name)
        != (ca.pod(i).host_ip, ca.pod(i).spec.node_name)
        for i in host
    ):
        return None

    # BEFORE's objects are the same within each of its unit groups: AFTER's are compared
    # once per group, and one by one where they differ within a group
    firsts, group_of = cb.groups()
    rep = firsts[group_of]

    def covering(ys_ids: npt.NDArray[np.uint64]) -> tuple[list[int], IntArray]:
        """Pods covering every distinct pair of objects, and each pod's one among them."""
        odd = np.flatnonzero(ys_ids != ys_ids[rep])
        own = rep.copy()
        own[odd] = odd
        return np.union1d(firsts, odd).tolist(), own

    refs_at, _ = covering(np.fromiter(map(id, ca.owner_refs), dtype=np.uint64, count=n))
    if _flat_refs(list(map(cb.owner_refs.__getitem__, refs_at))) != _flat_refs(
        list(map(ca.owner_refs.__getitem__, refs_at))
    ):
        return None
    for cs_b, cs_a in ((cb.containers, ca.containers), (cb.init_containers, ca.init_containers)):
        at, _ = covering(_id_codes(cs_a))
        sel_b = list(map(cs_b.__getitem__, at))
        sel_a = list(map(cs_a.__getitem__, at))
        if list(map(len, sel_b)) != list(map(len, sel_a)) or _flat_ports(
            list(itertools.chain.from_iterable(sel_b))
        ) != _flat_ports(list(itertools.chain.from_iterable(sel_a))):
            return None
    lb, la = cb.labels, ca.labels
    at, own = covering(np.fromiter(map(id, la), dtype=np.uint64, count=n))
    # owners: a function of owner references, namespace and labels (a ReplicaSet absent
    # from the input is bridged by its pods' pod-template-hash): the same for every pod
    # these pods stand for
    keys_at = list(map(cb.keys.__getitem__, at))
    if list(map(before.owner_of_pod.get, keys_at)) != list(map(after.owner_of_pod.get, keys_at)):
        return None
    differs = np.zeros(n, dtype=bool)
    differs[at] = np.fromiter(
        map(operator.ne, map(lb.__getitem__, at), map(la.__getitem__, at)),
        dtype=bool,
        count=len(at),
    )
    moved = np.flatnonzero(differs[own])
    return [SetPodLabels(*ca.keys[i], dict(la[i])) for i in moved.tolist()]


_OWNER_FIELDS = attrgetter(*(f.name for f in dataclasses.fields(OwnerRef)))
_PORT_FIELDS = attrgetter(*(f.name for f in dataclasses.fields(ContainerPort)))
_CONTAINER_PORTS = attrgetter("ports")
_RESTART = attrgetter("restart_policy")


def _flat_refs(refs: list[tuple[OwnerRef, ...]]) -> tuple[list[int], list[tuple[object, ...]]]:
    """Owner reference tuples as plain values (compared in C, not field by field in
    Python)."""
    return list(map(len, refs)), list(map(_OWNER_FIELDS, itertools.chain.from_iterable(refs)))


def _flat_ports(containers: list[Container]) -> tuple[list[object], ...]:
    """What connectivity reads of containers (named ports; restartPolicy makes a sidecar),
    as plain values."""
    ports = list(map(_CONTAINER_PORTS, containers))
    return (
        list(map(_RESTART, containers)),
        list(map(len, ports)),
        list(map(_PORT_FIELDS, itertools.chain.from_iterable(ports))),
    )


def _relabelled_by_key(before: ClusterModel, after: ClusterModel) -> list[Change] | None:
    ports_ids: dict[tuple[object, ...], int] = {}
    sig_b, labels_b = _pod_signatures(before, ports_ids)
    sig_a, labels_a = _pod_signatures(after, ports_ids)
    by_key_b = {sig[0]: (sig, n) for n, sig in enumerate(sig_b)}
    if any(by_key_b.get(sig[0], (None, 0))[0] != sig for sig in sig_a):
        return None
    out: list[Change] = []
    for sig, new_labels in zip(sig_a, labels_a, strict=True):
        old_labels = labels_b[by_key_b[sig[0]][1]]
        if old_labels != new_labels:
            pod_key = cast(tuple[str, str], sig[0])
            out.append(SetPodLabels(pod_key[0], pod_key[1], dict(new_labels)))
    return out


def _pod_signatures(
    model: ClusterModel, ports_ids: dict[tuple[object, ...], int]
) -> tuple[list[tuple[object, ...]], list[Mapping[str, str]]]:
    """Per pod, what connectivity depends on besides its labels (key, addresses, owner,
    hostNetwork, node, named ports), and its labels. Replicas share their owner ref and
    containers, so those are compared once per distinct object."""
    owner_of = model.owner_of_pod
    owners: dict[int, tuple[str, str, str] | None] = {}
    ports: dict[tuple[int, ...], int] = {}
    sigs: list[tuple[object, ...]] = []
    labels: list[Mapping[str, str]] = []
    for pod in model.pods:
        meta, spec = pod.meta, pod.spec
        key = (meta.namespace or "default", meta.name)
        ref = owner_of.get(key)
        o = owners.get(id(ref), ())
        if o == ():
            o = owners[id(ref)] = (ref.kind, ref.namespace, ref.name) if ref is not None else None
        ck = tuple(map(id, spec.containers))
        if spec.init_containers:
            ck = (*ck, -1, *map(id, spec.init_containers))
        pid = ports.get(ck)
        if pid is None:
            content = tuple(
                (cp.name, cp.protocol, cp.container_port) for cp in spec.all_ports() if cp.name
            )
            pid = ports[ck] = ports_ids.setdefault(content, len(ports_ids))
        sigs.append((key, pod.pod_ips, pod.host_ip, spec.host_network, spec.node_name, o, pid))
        labels.append(meta.labels)
    return sigs, labels


def _frontend_inputs(model: ClusterModel) -> tuple[object, ...]:
    """What the pseudo-peer's backends depend on, without file positions."""
    return (
        sorted((s.key, s.selector and sorted(s.selector.items()), s.ports) for s in model.services),
        sorted(
            ((i.namespace, i.name), i.rules, i.default_backend, i.class_name)
            for i in model.ingresses
        ),
        sorted(
            ((r.kind, r.meta.namespace or "", r.meta.name), r.rules, r.parent_refs)
            for r in model.routes
        ),
        sorted(
            (c.kind, c.meta.namespace or "", c.meta.name, repr(c.spec))
            for c in (*openshift_routes(model), *model.custom_of_kind("ReferenceGrant"))
        ),
    )


def diff_incremental(before: ClusterModel, after: ClusterModel) -> ConnDiff | None:
    """``diff(connectivity(before), connectivity(after))`` computed from the rows and
    columns the differences touch; ``None`` when :func:`model_delta` cannot express them."""
    paused = gc.isenabled()
    gc.disable()  # many small objects, nothing cyclic: no collector passes
    try:
        # one walk over BEFORE's pods serves the comparison and the incremental state
        columns = _columns_of(before)
        changes = model_delta(before, after, _columns=columns)
        if changes is None:
            return None
        if not changes:
            return ConnDiff((), (), ())
        shared = columns if len(before.pod_by_key) == len(before.pods) else None
        inc = IncrementalConnectivity(before, materialize=False, _columns=shared, _warm=False)
        return inc.apply(changes)
    finally:
        if paused:
            gc.enable()


__all__ = [
    "Change",
    "IncrementalConnectivity",
    "RemovePolicy",
    "SetNamespaceLabels",
    "SetPodLabels",
    "SetPolicy",
    "diff_incremental",
    "model_delta",
]
