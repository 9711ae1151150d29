"""The service map's data: namespaces as groups, workloads as nodes, allowed connections as edges.

The matrix engine (:func:`netsleuth.policy.connlist.workload_matrix`) gives,
for every pair of peers, the bitmask of port atoms the source may open to
the destination. A 10,000-workload cluster has up to 10^8 pairs (the
envelope cluster of ``bench/gen_cluster.py`` allows 54 million), so the map
never ships pairs one by one. It ships:

- ``gg``: group x group (namespace x namespace) edges, each the union of
  the ports of the workload pairs between the two namespaces;
- ``w2g`` and ``g2w``: workload -> namespace and namespace -> workload
  edges, which the page draws when a namespace is expanded and the other
  end is collapsed;
- ``intra``: workload x workload edges inside each namespace;
- ``ww``: workload x workload edges across namespaces, only when the
  cluster has at most ``aggregate_above`` workloads (the map then starts
  with every namespace expanded).

Every matrix row is run-length encoded as ``[label, count, label, count,
…]`` over the columns, with ``label`` an index into ``labels`` (the port
sets as ``connectivity`` prints them; 0 is "no connection"). Rows of
namespaced workloads compress well: policies select by namespace and
label, so neighbours share their verdicts.

The edges follow ``netsleuth connectivity``: no workload-to-itself edges,
address ranges only to and from pods, and the ingress-controller
pseudo-peer only towards the pods Ingress backends send to, on their
target ports (those few edges are listed one by one in ``extra``).

Findings, trace endpoints and diff edges are attached to nodes by index.
Everything here is data: names and labels come from the cluster and are
escaped when the page embeds them (:mod:`netsleuth.render.html.embed`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Severity
from netsleuth.model.intervals import IntervalSet
from netsleuth.policy.connlist import (
    ALL,
    PSEUDO_NAME,
    Connection,
    Peer,
    WorkloadMatrix,
    connectivity,
    workload_matrix,
)
from netsleuth.policy.matrix import EXTERNAL, HOST, POD, PSEUDO, PortAtoms
from netsleuth.policy.semantics import PROTOCOLS

EXTERNAL_GROUP = "(outside the cluster)"
"""The group of address ranges and the ingress-controller pseudo-peer (not a namespace)."""

DEFAULT_AGGREGATE_ABOVE = 300
"""Above this many workloads the map starts with namespaces collapsed and ships no
cross-namespace workload pairs (only workload <-> namespace)."""

_SEV_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


def conn_label(ports: Sequence[tuple[str, Any]]) -> str:
    """Ports as ``connectivity`` prints them: ``All Connections`` or ``TCP 80,8080-8090,UDP 53``."""
    if len(ports) == len(PROTOCOLS) and all(s.size() == ALL for _, s in ports):
        return "All Connections"
    return ",".join(f"{proto} {','.join(s.describe())}" for proto, s in ports)


class _Labels:
    """Port-set labels, interned: index 0 is "no connection"."""

    def __init__(self, atoms: PortAtoms) -> None:
        self.atoms = atoms
        self.texts: list[str] = [""]
        self._by_text: dict[str, int] = {"": 0}
        self._by_mask: dict[bytes, int] = {}

    def text_id(self, text: str) -> int:
        i = self._by_text.get(text)
        if i is None:
            i = self._by_text[text] = len(self.texts)
            self.texts.append(text)
        return i

    def mask_id(self, key: bytes, mask: int) -> int:
        i = self._by_mask.get(key)
        if i is None:
            if mask == 0:
                i = 0
            else:
                sets = self.atoms.to_sets(mask)
                i = self.text_id(conn_label([(p, sets[p]) for p in PROTOCOLS if p in sets]))
            self._by_mask[key] = i
        return i

    def ids(self, cells: npt.NDArray[Any]) -> npt.NDArray[np.int32]:
        """Label ids of a ``(..., chunks)`` uint64 array (one mask per leading index)."""
        flat = np.ascontiguousarray(cells).reshape(-1, cells.shape[-1])
        if flat.shape[1] == 1:  # one chunk: sort plain integers (much faster than bytes)
            uniq, inv = np.unique(flat[:, 0], return_inverse=True)
            lut = np.array(
                [self.mask_id(int(v).to_bytes(8, "little"), int(v)) for v in uniq.tolist()],
                dtype=np.int32,
            )
        else:
            keys = flat.view(np.dtype((np.void, 8 * flat.shape[1])))[:, 0]
            uniq, inv = np.unique(keys, return_inverse=True)
            lut = np.empty(len(uniq), dtype=np.int32)
            for k, key in enumerate(uniq):
                raw = bytes(key)
                mask = 0
                for c, w in enumerate(np.frombuffer(raw, dtype=np.uint64).tolist()):
                    mask |= int(w) << (64 * c)
                lut[k] = self.mask_id(raw, mask)
        return lut[inv.reshape(-1)].reshape(cells.shape[:-1])


def rle(row: npt.NDArray[np.int32]) -> list[int]:
    """``[label, count, label, count, ...]`` over a row of label ids (``[]`` for an empty row)."""
    n = len(row)
    if n == 0:
        return []
    change = np.flatnonzero(row[1:] != row[:-1]) + 1
    begin = np.r_[0, change]
    end = np.r_[change, n]
    out = np.empty(2 * len(begin), dtype=np.int64)
    out[0::2] = row[begin]
    out[1::2] = end - begin
    if len(begin) == 1 and row[0] == 0:
        return []
    return [int(x) for x in out.tolist()]


def rle_rows(ids: npt.NDArray[np.int32]) -> list[list[int]]:
    """:func:`rle` of every row of a 2-D array, vectorised (one pass over all rows)."""
    rows, cols = ids.shape
    if rows == 0:
        return []
    if cols == 0:
        return [[] for _ in range(rows)]
    flags = np.ones((rows, cols), dtype=bool)
    flags[:, 1:] = ids[:, 1:] != ids[:, :-1]
    r, c = np.nonzero(flags)
    vals = ids[r, c]
    ends = np.empty_like(c)
    ends[:-1] = c[1:]
    last = np.r_[r[1:] != r[:-1], True]
    ends[last] = cols
    flat = np.empty(2 * len(c), dtype=np.int64)
    flat[0::2] = vals
    flat[1::2] = ends - c
    per_row = np.bincount(r, minlength=rows) * 2
    bounds = np.r_[0, np.cumsum(per_row)].tolist()
    items = flat.tolist()
    out = [items[bounds[i] : bounds[i + 1]] for i in range(rows)]
    return [[] if len(row) == 2 and row[0] == 0 else row for row in out]


@dataclass(slots=True)
class MapData:
    """What the page needs to draw the map; :meth:`to_json` is embedded in the report."""

    groups: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=lambda: [""])
    gg: list[list[int]] = field(default_factory=list)
    w2g: list[list[int]] = field(default_factory=list)
    g2w: list[list[int]] = field(default_factory=list)
    intra: list[list[list[int]]] = field(default_factory=list)
    ww: list[list[int]] | None = None
    extra: list[list[int]] = field(default_factory=list)
    aggregated: bool = False
    aggregate_above: int = DEFAULT_AGGREGATE_ABOVE
    edge_count: int = 0
    index: dict[tuple[str, str, str], int] = field(default_factory=dict)
    group_index: dict[str, int] = field(default_factory=dict)
    overlays: list[dict[str, Any]] = field(default_factory=list)
    cluster_findings: list[int] = field(default_factory=list)
    selection: str | None = None
    """Set when the map holds only listed connections (:func:`build_listed_map`): the
    options that chose them, as the command line gave them (``--focus shop/cart``)."""
    open_first: list[int] = field(default_factory=list)
    """Groups the page opens from the start even when ``aggregated`` (the focused one)."""

    def node_of(self, peer: Peer) -> int | None:
        return self.index.get(peer.key())

    def label_id(self, text: str) -> int:
        try:
            return self.labels.index(text)
        except ValueError:
            self.labels.append(text)
            return len(self.labels) - 1

    def to_json(self) -> dict[str, Any]:
        return {
            "groups": self.groups,
            "nodes": self.nodes,
            "labels": self.labels,
            "gg": self.gg,
            "w2g": self.w2g,
            "g2w": self.g2w,
            "intra": self.intra,
            "ww": self.ww,
            "extra": self.extra,
            "aggregated": self.aggregated,
            "aggregateAbove": self.aggregate_above,
            "edgeCount": self.edge_count,
            "overlays": self.overlays,
            "clusterFindings": self.cluster_findings,
            "selection": self.selection,
            "openFirst": self.open_first,
        }


def _group_name(peer: Peer) -> str:
    return EXTERNAL_GROUP if peer.kind in ("ip_range", "pseudo") else (peer.namespace or "")


def _workload_details(
    model: ClusterModel,
) -> dict[tuple[str, str, str], tuple[int, dict[str, str]]]:
    """(kind, namespace, name) -> (pod count, labels of its first pod)."""
    out: dict[tuple[str, str, str], tuple[int, dict[str, str]]] = {}
    owner_of_pod = model.owner_of_pod
    for pod in model.pods:
        ref = owner_of_pod.get(pod.key)
        key = (ref.kind, ref.namespace, ref.name) if ref else ("Pod", pod.namespace, pod.name)
        have = out.get(key)
        out[key] = (1, pod.labels) if have is None else (have[0] + 1, have[1])
    return out


def _place(
    model: ClusterModel, data: MapData, ordered: Sequence[Peer], *, with_empty_namespaces: bool
) -> None:
    """Nodes for ``ordered`` peers (grouped: a group's members are consecutive), their groups,
    and (``with_empty_namespaces``) an empty group for each namespace without a peer."""
    details = _workload_details(model)
    for pos, p in enumerate(ordered):
        gname = _group_name(p)
        if gname not in data.group_index:
            data.group_index[gname] = len(data.groups)
            data.groups.append(
                {"name": gname, "ext": gname == EXTERNAL_GROUP, "start": pos, "end": pos}
            )
        grp = data.groups[data.group_index[gname]]
        grp["end"] = pos + 1
        count, labels = details.get(p.key(), (0, {}))
        node: dict[str, Any] = {"n": p.name, "k": p.kind, "g": data.group_index[gname]}
        if p.kind not in ("ip_range", "pseudo"):
            node["p"] = count
            if labels:
                node["l"] = labels
        data.index[p.key()] = pos
        data.nodes.append(node)
    if with_empty_namespaces:
        n = len(ordered)
        for ns in sorted(model.namespaces):
            if ns not in data.group_index:
                data.group_index[ns] = len(data.groups)
                data.groups.append({"name": ns, "ext": False, "start": n, "end": n})
    for grp in data.groups:
        if not grp["ext"]:
            labels = model.namespace_labels(grp["name"])
            if labels:
                grp["l"] = labels


def build_map(
    model: ClusterModel,
    *,
    wm: WorkloadMatrix | None = None,
    aggregate_above: int = DEFAULT_AGGREGATE_ABOVE,
) -> MapData:
    """The map of ``model``: groups, nodes and every edge kind (see the module docstring)."""
    wm = wm if wm is not None else workload_matrix(model)
    data = MapData(aggregate_above=aggregate_above)
    peers = list(wm.peers)
    n = len(peers)
    kinds = np.array(wm.kinds) if n else np.array([], dtype=str)
    # Groups in first-appearance order of the (sorted) peers, then namespaces without pods.
    order = sorted(range(n), key=lambda i: (_group_name(peers[i]) == EXTERNAL_GROUP, i))
    perm = np.array(order, dtype=np.int64)
    identity = bool(np.array_equal(perm, np.arange(n)))
    _place(model, data, [peers[i] for i in order], with_empty_namespaces=True)
    workloads = sum(1 for p in peers if p.kind not in ("ip_range", "pseudo"))
    data.aggregated = workloads > aggregate_above
    if n == 0:
        data.gg = [[] for _ in data.groups]
        data.intra = [[] for _ in data.groups]
        return data

    labels_tab = _Labels(wm.engine.atoms)
    is_pod = (kinds == POD) | (kinds == HOST)
    is_pseudo = kinds == PSEUDO
    if not identity:
        is_pod, is_pseudo = is_pod[perm], is_pseudo[perm]
    chunks = wm.chunks
    gcount = len(data.groups)
    # Column starts of each group that has members, for reduceat over columns.
    member_groups = [g for g, grp in enumerate(data.groups) if grp["end"] > grp["start"]]
    col_starts = np.array([data.groups[g]["start"] for g in member_groups], dtype=np.int64)
    nch = len(chunks)
    g2w_acc = np.zeros((gcount, n, nch), dtype=np.uint64)
    gg_acc = np.zeros((gcount, gcount, nch), dtype=np.uint64)
    w2g_rows: list[list[int]] = [[] for _ in range(n)]
    ww_rows: list[list[int]] | None = None if data.aggregated else [[] for _ in range(n)]
    intra: list[list[list[int]]] = [[] for _ in range(gcount)]
    edge_count = 0
    for g in member_groups:
        s, e = data.groups[g]["start"], data.groups[g]["end"]
        rows = perm[s:e]
        block = np.stack(
            [(c[rows] if identity else c[rows][:, perm]) for c in chunks], axis=-1
        )  # (k, n, nch)
        # connectivity(): no self edges, one end a pod, nothing from or to the pseudo-peer
        # here (its edges are exact in ``extra``), address ranges only to pods.
        block[np.arange(e - s), np.arange(s, e), :] = 0
        block[:, is_pseudo, :] = 0
        row_pod = is_pod[s:e]
        block[~row_pod[:, None] & ~is_pod[None, :], :] = 0
        block[is_pseudo[s:e], :, :] = 0
        red = np.bitwise_or.reduceat(block, col_starts, axis=1)  # (k, groups-with-members, nch)
        w2g_full = np.zeros((e - s, gcount, nch), dtype=np.uint64)
        w2g_full[:, member_groups, :] = red
        w2g_rows[s:e] = rle_rows(labels_tab.ids(w2g_full))
        gg_acc[g] = np.bitwise_or.reduce(w2g_full, axis=0)
        g2w_acc[g] = np.bitwise_or.reduce(block, axis=0)
        edge_count += int(np.count_nonzero(block.any(axis=-1)))
        intra_ids = labels_tab.ids(block[:, s:e, :])
        intra[g] = rle_rows(intra_ids)
        if ww_rows is not None:
            ww_rows[s:e] = rle_rows(labels_tab.ids(block))
    gg_ids = labels_tab.ids(gg_acc)
    data.gg = rle_rows(gg_ids)
    g2w_ids = labels_tab.ids(g2w_acc)
    # g2w is read per destination workload (its incoming edges by namespace): transpose.
    data.g2w = rle_rows(np.ascontiguousarray(g2w_ids.T))
    data.w2g = w2g_rows
    data.intra = intra
    data.ww = ww_rows
    data.labels = labels_tab.texts
    if bool(is_pseudo.any()):
        for c in connectivity(model, focus=PSEUDO_NAME, wm=wm):
            if c.src.kind != "pseudo":
                continue
            si, di = data.node_of(c.src), data.node_of(c.dst)
            if si is not None and di is not None:
                data.extra.append([si, di, data.label_id(conn_label(c.ports))])
                edge_count += 1
    data.edge_count = edge_count
    return data


def _sparse_rle(length: int, cells: dict[int, int]) -> list[int]:
    """:func:`rle` of a row of ``length`` columns given its non-zero ``{column: label}``."""
    out: list[int] = []
    pos = 0
    for col in sorted(cells):
        lab = cells[col]
        if col > pos:
            out += [0, col - pos]
        elif out and out[-2] == lab:
            out[-1] += 1
            pos = col + 1
            continue
        out += [lab, 1]
        pos = col + 1
    if out and pos < length:
        out += [0, length - pos]
    return out


def _union_label(data: MapData, parts: list[Connection]) -> int:
    """The label of the union of the ports of ``parts``."""
    if len(parts) == 1:
        return data.label_id(conn_label(parts[0].ports))
    sets: dict[str, IntervalSet] = {}
    for c in parts:
        for proto, ps in c.ports:
            sets[proto] = sets[proto].union(ps) if proto in sets else ps
    return data.label_id(conn_label([(p, sets[p]) for p in PROTOCOLS if p in sets]))


def build_listed_map(
    model: ClusterModel,
    connections: Sequence[Connection],
    *,
    selection: str,
    focus: str | None = None,
    aggregate_above: int = DEFAULT_AGGREGATE_ABOVE,
) -> MapData:
    """The map of exactly ``connections`` (``connectivity --focus X -o html``): their peers
    as nodes and each connection as one edge with its ports, so the map draws what the
    page's table lists. ``focus`` adds the workloads it names even when nothing connects
    with them, and their namespace starts open. The rows have the shapes :func:`build_map`
    gives (``gg``, ``w2g``, ``g2w``, ``intra``, and ``ww`` up to ``aggregate_above``)."""
    data = MapData(aggregate_above=aggregate_above, selection=selection)
    chosen: dict[Peer, None] = {}
    if focus is not None:
        for kind, ns, name in _workload_details(model):
            p = Peer(kind, ns, name)
            if p.matches(focus):
                chosen[p] = None
    focused = list(chosen)
    for c in connections:
        chosen[c.src] = None
        chosen[c.dst] = None
    ordered = sorted(
        chosen, key=lambda p: (_group_name(p) == EXTERNAL_GROUP, _group_name(p), p.sort_key())
    )
    _place(model, data, ordered, with_empty_namespaces=False)
    n, gcount = len(ordered), len(data.groups)
    data.aggregated = sum(1 for p in ordered if p.kind not in ("ip_range", "pseudo")) > (
        aggregate_above
    )
    data.open_first = sorted(
        {data.nodes[i]["g"] for p in focused if (i := data.node_of(p)) is not None}
    )
    pair: dict[tuple[int, int], list[Connection]] = {}
    for c in connections:
        si, di = data.node_of(c.src), data.node_of(c.dst)
        if si is not None and di is not None and si != di:
            pair.setdefault((si, di), []).append(c)
    group_of = [node["g"] for node in data.nodes]
    w2g: dict[tuple[int, int], list[Connection]] = {}
    g2w: dict[tuple[int, int], list[Connection]] = {}
    gg: dict[tuple[int, int], list[Connection]] = {}
    rows: list[dict[int, int]] = [{} for _ in range(n)]
    for (si, di), cs in pair.items():
        rows[si][di] = _union_label(data, cs)
        w2g.setdefault((si, group_of[di]), []).extend(cs)
        g2w.setdefault((group_of[si], di), []).extend(cs)
        gg.setdefault((group_of[si], group_of[di]), []).extend(cs)
    w2g_cells: list[dict[int, int]] = [{} for _ in range(n)]
    g2w_cells: list[dict[int, int]] = [{} for _ in range(n)]
    gg_cells: list[dict[int, int]] = [{} for _ in range(gcount)]
    for (si, h), cs in w2g.items():
        w2g_cells[si][h] = _union_label(data, cs)
    for (h, di), cs in g2w.items():
        g2w_cells[di][h] = _union_label(data, cs)
    for (g, h), cs in gg.items():
        gg_cells[g][h] = _union_label(data, cs)
    data.w2g = [_sparse_rle(gcount, c) for c in w2g_cells]
    data.g2w = [_sparse_rle(gcount, c) for c in g2w_cells]
    data.gg = [_sparse_rle(gcount, c) for c in gg_cells]
    data.intra = []
    for grp in data.groups:
        s, e = grp["start"], grp["end"]
        data.intra.append(
            [
                _sparse_rle(e - s, {j - s: lab for j, lab in rows[i].items() if s <= j < e})
                for i in range(s, e)
            ]
        )
    data.ww = None if data.aggregated else [_sparse_rle(n, r) for r in rows]
    data.edge_count = len(pair)
    return data


# --------------------------------------------------------------------------- attachments


def _policy_nodes(model: ClusterModel, data: MapData, namespace: str, name: str) -> set[int]:
    for pol in model.policies_in(namespace):
        if pol.meta.name == name:
            return _pods_nodes(model, data, model.pods_matching(namespace, pol.pod_selector))
    return set()


def _pods_nodes(model: ClusterModel, data: MapData, pods: Iterable[Any]) -> set[int]:
    out: set[int] = set()
    for pod in pods:
        ref = model.owner(pod)
        i = data.index.get((ref.kind, ref.namespace, ref.name))
        if i is not None:
            out.add(i)
    return out


def finding_nodes(model: ClusterModel, data: MapData, f: Finding) -> set[int]:
    """The map nodes a finding is about: the workload itself, a Pod's owner, a Service's
    or a NetworkPolicy's selected workloads. Empty when it names none (the namespace
    group, or the cluster, carries it then)."""
    s = f.subject
    if s.namespace is None:
        return set()
    i = data.index.get((s.kind, s.namespace, s.name))
    if i is not None:
        return {i}
    if s.kind == "Pod":
        pod = model.pod(s.namespace, s.name)
        return _pods_nodes(model, data, [pod]) if pod is not None else set()
    if s.kind == "Service":
        svc = model.service(s.namespace, s.name)
        if svc is not None and svc.selector:
            return _pods_nodes(model, data, model.pods_matching(s.namespace, svc.selector))
        return set()
    if s.kind == "NetworkPolicy":
        return _policy_nodes(model, data, s.namespace, s.name)
    return set()


def attach_findings(model: ClusterModel, data: MapData, findings: Sequence[Finding]) -> None:
    """Mark nodes and groups with the findings about them (``f``: finding numbers, ``s``: worst
    severity rank); cluster-scoped findings go to ``cluster_findings``."""
    for k, f in enumerate(findings):
        rank = _SEV_RANK[f.severity]
        nodes = finding_nodes(model, data, f)
        for i in nodes:
            node = data.nodes[i]
            node.setdefault("f", []).append(k)
            node["s"] = max(node.get("s", 0), rank)
        ns = f.subject.namespace
        g = data.group_index.get(ns) if ns is not None else None
        if g is None:
            data.cluster_findings.append(k)
            continue
        grp = data.groups[g]
        grp.setdefault("f", []).append(k)
        grp["s"] = max(grp.get("s", 0), rank)


def peer_nodes(data: MapData, peers: Iterable[Peer]) -> list[int]:
    return sorted({i for p in peers if (i := data.node_of(p)) is not None})


def add_overlay(
    data: MapData,
    *,
    kind: str,
    src: Sequence[int],
    dst: Sequence[int],
    status: str,
    label: str,
    anchor: str,
) -> None:
    """A highlighted path (a trace, a lost or gained connection) from ``src`` nodes to ``dst``
    nodes; ``anchor`` is the id of its text section in the page."""
    if src and dst:
        data.overlays.append(
            {
                "kind": kind,
                "src": list(src),
                "dst": list(dst),
                "status": status,
                "label": label,
                "anchor": anchor,
            }
        )


def connection_overlay(
    data: MapData, c: Connection, *, kind: str, status: str, anchor: str
) -> None:
    s, d = data.node_of(c.src), data.node_of(c.dst)
    if s is not None and d is not None:
        add_overlay(
            data,
            kind=kind,
            src=[s],
            dst=[d],
            status=status,
            label=conn_label(c.ports),
            anchor=anchor,
        )


__all__ = [
    "DEFAULT_AGGREGATE_ABOVE",
    "EXTERNAL",
    "EXTERNAL_GROUP",
    "MapData",
    "add_overlay",
    "attach_findings",
    "build_listed_map",
    "build_map",
    "conn_label",
    "connection_overlay",
    "finding_nodes",
    "peer_nodes",
    "rle",
]
