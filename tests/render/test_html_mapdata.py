"""The map's edges are exactly ``netsleuth connectivity``'s connections, in both encodings.

The expected side is :func:`netsleuth.policy.connlist.connectivity` (itself held
equal to the reference evaluator and to network-config-analyzer by the policy
tests); here we check that the run-length rows decode to the same pairs and
port sets, and that the namespace-level rows are the unions of their pairs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netsleuth.model.intervals import IntervalSet
from netsleuth.policy.connlist import Connection, connectivity
from netsleuth.render.html.mapdata import (
    EXTERNAL_GROUP,
    MapData,
    build_listed_map,
    build_map,
    conn_label,
    rle,
    rle_rows,
)
from netsleuth.sources import load_offline

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
SCENARIOS = ROOT / "tests" / "scenarios"
CLUSTERS = [
    DEMO,
    SCENARIOS / "egress-deny-no-dns",
    SCENARIOS / "healthy-ingress",
    SCENARIOS / "ingress-backend-port-missing",
    SCENARIOS / "dns-allow-split-peers",
    SCENARIOS / "admin-network-policy",
    ROOT / "tests" / "data" / "html" / "ingress-no-controller.yaml",
]


def decode(row: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    pos = 0
    for lab, cnt in zip(row[0::2], row[1::2], strict=True):
        if lab:
            for j in range(pos, pos + cnt):
                out[j] = lab
        pos += cnt
    return out


def test_rle_rows_match_rle_and_round_trip() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        a = rng.integers(0, 3, size=(int(rng.integers(1, 6)), int(rng.integers(1, 12)))).astype(
            np.int32
        )
        rows = rle_rows(a)
        assert rows == [rle(r) for r in a]
        for r, row in zip(a, rows, strict=True):
            assert decode(row) == {j: int(v) for j, v in enumerate(r) if v}
            if row:
                assert sum(row[1::2]) == len(r)


def _union(conns: list[Connection]) -> str:
    per: dict[str, IntervalSet] = {}
    for c in conns:
        for proto, s in c.ports:
            per[proto] = per[proto].union(s) if proto in per else s
    return conn_label([(p, per[p]) for p in ("TCP", "UDP", "SCTP") if p in per])


def listed(model: object, aggregate_above: int = 300) -> MapData:
    """The map of every connection, built as ``connectivity --focus/--port -o html`` builds
    its map of listed connections: it must equal the matrix-built map's edges."""
    return build_listed_map(
        model,  # type: ignore[arg-type]
        connectivity(model),  # type: ignore[arg-type]
        selection="",
        aggregate_above=aggregate_above,
    )


BUILDERS = {"matrix": build_map, "listed": listed}


@pytest.mark.parametrize("how", BUILDERS)
@pytest.mark.parametrize("path", CLUSTERS, ids=lambda p: p.name)
def test_workload_edges_equal_connectivity(path: Path, how: str) -> None:
    model = load_offline([str(path)])
    data = BUILDERS[how](model)  # type: ignore[operator]
    assert not data.aggregated and data.ww is not None
    got = set()
    names = {i: (n["k"], n["n"]) for i, n in enumerate(data.nodes)}
    for i, row in enumerate(data.ww):
        for j, lab in decode(row).items():
            got.add((names[i], names[j], data.labels[lab]))
    for s, d, lab in data.extra:
        got.add((names[s], names[d], data.labels[lab]))
    want = {
        ((c.src.kind, c.src.name), (c.dst.kind, c.dst.name), conn_label(c.ports))
        for c in connectivity(model)
    }
    assert got == want
    assert data.edge_count == len(want)


@pytest.mark.parametrize("how", BUILDERS)
@pytest.mark.parametrize("path", CLUSTERS, ids=lambda p: p.name)
def test_namespace_rows_are_unions_of_their_pairs(path: Path, how: str) -> None:
    model = load_offline([str(path)])
    data = BUILDERS[how](model, aggregate_above=0)  # type: ignore[operator]
    assert data.aggregated and data.ww is None
    # the matrix-built map lists the pseudo-peer's few exact edges apart (``extra``)
    conns = [c for c in connectivity(model) if how == "listed" or c.src.kind != "pseudo"]
    group = {i: n["g"] for i, n in enumerate(data.nodes)}
    node = {
        (
            n["k"],
            data.groups[n["g"]]["name"] if n["k"] not in ("ip_range", "pseudo") else None,
            n["n"],
        ): i
        for i, n in enumerate(data.nodes)
    }

    def idx(p: object) -> int:
        return node[(p.kind, p.namespace, p.name)]  # type: ignore[attr-defined]

    by_pair: dict[tuple[int, int], list[Connection]] = {}
    w2g: dict[tuple[int, int], list[Connection]] = {}
    g2w: dict[tuple[int, int], list[Connection]] = {}
    intra: dict[tuple[int, int], Connection] = {}
    for c in conns:
        s, d = idx(c.src), idx(c.dst)
        by_pair.setdefault((group[s], group[d]), []).append(c)
        w2g.setdefault((s, group[d]), []).append(c)
        g2w.setdefault((group[s], d), []).append(c)
        if group[s] == group[d]:
            intra[(s, d)] = c
    for g, row in enumerate(data.gg):
        for h, lab in decode(row).items():
            assert data.labels[lab] == _union(by_pair.pop((g, h)))
    assert not by_pair
    for s, row in enumerate(data.w2g):
        for h, lab in decode(row).items():
            assert data.labels[lab] == _union(w2g.pop((s, h)))
    assert not w2g
    for d, row in enumerate(data.g2w):
        for g, lab in decode(row).items():
            assert data.labels[lab] == _union(g2w.pop((g, d)))
    assert not g2w
    for g, rows in enumerate(data.intra):
        start = data.groups[g]["start"]
        for r, row in enumerate(rows):
            for j, lab in decode(row).items():
                c = intra.pop((start + r, start + j))
                assert data.labels[lab] == conn_label(c.ports)
    assert not intra


def test_groups_are_namespaces_and_the_outside() -> None:
    model = load_offline([str(DEMO)])
    data = build_map(model)
    names = [g["name"] for g in data.groups]
    assert set(model.namespaces) <= set(names)
    assert EXTERNAL_GROUP in names
    for g in data.groups:
        members = data.nodes[g["start"] : g["end"]]
        assert all(n["g"] == data.groups.index(g) for n in members)
    # every pod is counted once, under its workload
    assert sum(n.get("p", 0) for n in data.nodes) == len(model.pods)


def test_pseudo_peer_edges_are_exact() -> None:
    """The ingress-controller pseudo-peer reaches web/api on the targetPort (8080) only."""
    model = load_offline([str(ROOT / "tests" / "data" / "html" / "ingress-no-controller.yaml")])
    data = build_map(model)
    edges = [(data.nodes[s]["n"], data.nodes[d]["n"], data.labels[lab]) for s, d, lab in data.extra]
    assert edges == [("ingress-controller", "api", "TCP 8080")]


def test_listed_map_of_a_focus_opens_its_namespace() -> None:
    model = load_offline([str(DEMO)])
    conns = connectivity(model, focus="shop/cart")
    data = build_listed_map(
        model, conns, selection="--focus shop/cart", focus="shop/cart", aggregate_above=0
    )
    assert data.aggregated and data.selection == "--focus shop/cart"
    assert [data.groups[g]["name"] for g in data.open_first] == ["shop"]
    assert data.edge_count == len(conns)
    # nothing matched: an empty map, not an error
    empty = build_listed_map(model, [], selection="--focus nope", focus="nope")
    assert (empty.nodes, empty.groups, empty.edge_count) == ([], [], 0)
