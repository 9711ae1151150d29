"""Big JSON ``List`` documents are parsed a slice at a time; the result must equal one parse.

The slicing (``manifests._iter_json_list_chunks``) cuts on a textual pattern and
verifies every cut by parsing. These tests shrink the slice size to a few
bytes so that every cut heuristic, including wrong guesses inside items, is
exercised on small documents, and compare with the whole-document parse.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsleuth.model.problems import LoadProblem
from netsleuth.sources import manifests
from netsleuth.sources.base import RawObject
from netsleuth.sources.manifests import iter_json_documents


def _pod(i: int, owners: int = 1, note: str = "") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"web-{i}",
            "namespace": "shop",
            "labels": {"app": "web"},
            "annotations": {"note": note},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"web-{k}", "uid": str(k)}
                for k in range(owners)
            ],
        },
        "spec": {
            "containers": [{"name": "web", "ports": [{"containerPort": 80}, {"containerPort": 81}]}]
        },
        "status": {"podIP": f"10.0.0.{i % 250 + 1}"},
    }


def _chunked(raw: bytes) -> list[Any]:
    out = manifests._iter_json_list_chunks(raw, "big.json")
    assert out is not None, "the document should take the sliced path"
    return list(out)


def _whole(raw: bytes) -> list[Any]:
    data = orjson.loads(raw)
    return list(manifests._flatten(data, manifests.Origin(file="big.json", document=0, line=1)))


def _same(a: list[Any], b: list[Any]) -> None:
    assert [type(x) for x in a] == [type(x) for x in b]
    assert [x.data for x in a if isinstance(x, RawObject)] == [
        x.data for x in b if isinstance(x, RawObject)
    ]


@pytest.fixture(autouse=True)
def tiny_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "_CHUNK_BYTES", 1)


@pytest.mark.parametrize("indent", [None, 2, 4])
def test_sliced_equals_whole_compact_and_indented(indent: int | None) -> None:
    # Pods with two ownerReferences put '},{"apiVersion"' inside an item: a wrong cut to recover from.
    items = [_pod(i, owners=1 + i % 3) for i in range(25)]
    doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    raw = json.dumps(doc, indent=indent).encode()
    got = _chunked(raw)
    assert len(got) == 25
    _same(got, _whole(raw))


def test_cut_pattern_inside_strings_is_not_a_boundary() -> None:
    trap = '},{"apiVersion": "v1", "kind": "Pod"} ], "x": [ {"kind"'
    items = [_pod(i, note=trap * (i % 2)) for i in range(12)]
    raw = json.dumps({"kind": "List", "apiVersion": "v1", "items": items}).encode()
    got = _chunked(raw)
    _same(got, _whole(raw))
    assert got[1].data["metadata"]["annotations"]["note"] == trap


def test_typed_list_items_get_kind_and_api_version() -> None:
    # An API list (PodList) omits kind/apiVersion on items; the List's fill them in, as in one parse.
    items = [_pod(i) for i in range(5)]
    for it in items:
        del it["kind"], it["apiVersion"]
    raw = orjson.dumps({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items})
    got = _chunked(raw)
    assert [o.data["kind"] for o in got] == ["Pod"] * 5
    assert all(o.data["apiVersion"] == "v1" for o in got)
    _same(got, _whole(raw))


def test_empty_list_and_non_lists_fall_back() -> None:
    assert _chunked(b'{"kind": "List", "apiVersion": "v1", "items": []}') == []
    # Not a List: a single object, a bare array, an "items" key nested below the top level.
    assert manifests._iter_json_list_chunks(orjson.dumps(_pod(1)), "x") is None
    assert manifests._iter_json_list_chunks(orjson.dumps([_pod(1)]), "x") is None
    nested = {"kind": "Thing", "metadata": {"items": [1, 2]}, "spec": {}}
    assert manifests._iter_json_list_chunks(orjson.dumps(nested), "x") is None
    nested_list = {"metadata": {"items": [1]}, "kind": "List", "items": [_pod(1)]}
    assert manifests._iter_json_list_chunks(orjson.dumps(nested_list), "x") is None


def test_malformed_middle_keeps_the_items_before_it() -> None:
    good = [orjson.dumps(_pod(i)).decode() for i in range(6)]
    body = ",\n".join(
        [*good[:4], '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": oops}}', *good[4:]]
    )
    raw = ('{"apiVersion": "v1", "kind": "List",\n"items": [\n' + body + "\n]}").encode()
    got = _chunked(raw)
    objs = [o for o in got if isinstance(o, RawObject)]
    probs = [p for p in got if isinstance(p, LoadProblem)]
    assert [o.data["metadata"]["name"] for o in objs] == ["web-0", "web-1", "web-2", "web-3"]
    assert len(probs) == 1
    assert probs[0].origin.file == "big.json" and probs[0].origin.line == 7
    assert probs[0].skipped == "the items of the list from item 5 on"


def test_threshold_routes_big_bytes_through_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "CHUNKED_JSON_MIN_BYTES", 10)
    calls: list[int] = []
    real = manifests._iter_json_list_chunks

    def spy(raw: bytes, file: str) -> Any:
        calls.append(len(raw))
        return real(raw, file)

    monkeypatch.setattr(manifests, "_iter_json_list_chunks", spy)
    raw = orjson.dumps({"kind": "List", "apiVersion": "v1", "items": [_pod(i) for i in range(3)]})
    assert len(list(iter_json_documents(raw, "big.json"))) == 3
    assert calls == [len(raw)]


_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.text(alphabet=st.sampled_from(list('{}[],:" \\\nabkindapiVersion')), max_size=12),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["apiVersion", "kind", "metadata", "a", "}"]), inner, max_size=3
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["apiVersion", "kind", "metadata", "spec", "x"]), _value, max_size=4
        ),
        max_size=8,
    ),
    st.sampled_from([None, 1, 4]),
)
def test_sliced_equals_whole_on_generated_lists(
    items: list[dict[str, Any]], indent: int | None
) -> None:
    raw = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=indent).encode()
    _same(_chunked(raw), _whole(raw))
