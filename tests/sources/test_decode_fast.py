"""The fast decoding path gives exactly the tolerant decoder's result, or steps aside.

For every object of the scenario clusters, the corpora and generated
variants with odd field types, decoding through ``decode`` (fast path first)
must equal decoding with the fast path disabled.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netsleuth.model.problems import Origin
from netsleuth.sources import decode as decode_mod
from netsleuth.sources.base import RawObject
from netsleuth.sources.decode_fast import FAST
from netsleuth.sources.manifests import read_file

ROOT = Path(__file__).resolve().parents[2]


def _slow(raw: RawObject) -> Any:
    saved = dict(FAST)
    FAST.clear()
    try:
        return decode_mod.decode(raw)
    finally:
        FAST.update(saved)


def _raw_objects() -> list[RawObject]:
    dirs = [
        ROOT / "tests" / "scenarios",
        ROOT / "src" / "netsleuth" / "data" / "demo",
        ROOT / "tests" / "checks" / "fixtures",
    ]
    out: list[RawObject] = []
    seen: set[bytes] = set()  # a good/bad fixture pair often shares a file: decode it once
    for d in dirs:
        for f in sorted(d.rglob("*")) if d.is_dir() else ():
            if f.suffix in (".yaml", ".yml", ".json") and "nodes" not in f.parts:
                digest = hashlib.sha256(f.read_bytes()).digest()
                if digest in seen:
                    continue
                seen.add(digest)
                out.extend(x for x in read_file(f) if isinstance(x, RawObject))
    return out


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "p",
        "namespace": "a",
        "labels": {"app": "x"},
        "uid": "u1",
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "rs",
                "uid": "u0",
                "controller": True,
            }
        ],
    },
    "spec": {
        "nodeName": "n1",
        "containers": [
            {
                "name": "c",
                "image": "img:1",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "A", "value": "b"}, {"name": "B", "valueFrom": {}}],
                "resources": {"limits": {"cpu": "100m", "memory": "128Mi"}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
            }
        ],
    },
    "status": {
        "phase": "Running",
        "podIP": "10.1.2.3",
        "podIPs": [{"ip": "10.1.2.3"}],
        "hostIP": "172.18.0.2",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [
            {
                "name": "c",
                "ready": True,
                "restartCount": 2,
                "state": {"running": {}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
            }
        ],
    },
}


def test_realistic_objects_decode_identically() -> None:
    objs = _raw_objects()
    if not objs:
        pytest.skip("no scenario data yet")
    fast_hits = 0
    for raw in objs:
        fast = decode_mod.decode(raw)
        slow = _slow(raw)
        assert fast == slow, raw.origin.describe()
        fast_hits += 1
    assert fast_hits == len(objs)


def test_plain_pod_takes_the_fast_path_and_matches() -> None:
    raw = RawObject(POD, Origin(file="x.yaml", document=0, line=1))
    assert decode_mod.decode(raw) == _slow(raw)
    assert decode_mod.decode(raw)[1] == []


# Mutations: replace one leaf of the pod with an odd value; both paths must agree.
_PATHS = [
    ("metadata", "namespace"),
    ("metadata", "labels"),
    ("metadata", "uid"),
    ("spec", "nodeName"),
    ("spec", "hostNetwork"),
    ("spec", "containers"),
    ("status", "podIP"),
    ("status", "podIPs"),
    ("status", "phase"),
    ("status", "conditions"),
    ("status", "containerStatuses"),
    ("spec", "dnsPolicy"),
    ("metadata", "ownerReferences"),
    ("spec", "dnsConfig"),
]
_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.text(max_size=6),
    st.just([]),
    st.just({}),
    st.just(["10.0.0.1"]),
    st.just([{"ip": "fe80::1"}]),
    st.just({"a": 1}),
    st.just("tcp"),
)


@given(st.sampled_from(_PATHS), _ODD)
def test_odd_values_agree(path: tuple[str, str], value: Any) -> None:
    obj = copy.deepcopy(POD)
    obj[path[0]][path[1]] = value
    raw = RawObject(obj, Origin(file="x.yaml"))
    assert decode_mod.decode(raw) == _slow(raw)


@given(st.sampled_from(["containerPort", "protocol", "name", "hostPort"]), _ODD)
def test_odd_container_ports_agree(key: str, value: Any) -> None:
    obj = copy.deepcopy(POD)
    obj["spec"]["containers"][0]["ports"][0][key] = value
    raw = RawObject(obj, Origin(file="x.yaml"))
    assert decode_mod.decode(raw) == _slow(raw)


def test_equal_container_specs_share_one_decoded_container() -> None:
    # Replicas of one template: the second decode reuses the first's Container; a
    # different spec (another port) or an init container decodes on its own.
    a = copy.deepcopy(POD)
    b = copy.deepcopy(POD)
    b["metadata"]["name"] = "web-1"
    c = copy.deepcopy(POD)
    c["spec"]["containers"][0]["ports"] = [{"containerPort": 9999, "protocol": "TCP"}]
    o = Origin(file="x.yaml", document=0, line=1)
    pa, pb, pc = (decode_mod.decode(RawObject(x, o))[0] for x in (a, b, c))
    assert pa is not None and pb is not None and pc is not None
    assert pa.spec.containers[0] is pb.spec.containers[0]
    assert pc.spec.containers[0] != pa.spec.containers[0]
    assert [p.container_port for p in pc.spec.containers[0].ports] == [9999]
    assert pa == _slow(RawObject(a, o))[0] and pc == _slow(RawObject(c, o))[0]


def test_replicas_share_label_map_and_owner_refs() -> None:
    # Equal label maps and ownerReferences decode to one shared object; a
    # different owner (another ReplicaSet) or other labels decode on their own,
    # and each result still equals the tolerant decoder's.
    a = copy.deepcopy(POD)
    b = copy.deepcopy(POD)
    b["metadata"]["name"] = "p-1"
    c = copy.deepcopy(POD)
    c["metadata"]["labels"] = {"app": "y"}
    c["metadata"]["ownerReferences"][0]["name"] = "rs-2"
    o = Origin(file="x.yaml", document=0, line=1)
    pa, pb, pc = (decode_mod.decode(RawObject(x, o))[0] for x in (a, b, c))
    assert pa is not None and pb is not None and pc is not None
    assert pa.labels is pb.labels and pa.meta.owner_refs is pb.meta.owner_refs
    assert pc.labels == {"app": "y"} and pc.meta.owner_refs[0].name == "rs-2"
    assert pa.labels == {"app": "x"} and pa.meta.owner_refs[0].name == "rs"
    for x, p in ((a, pa), (b, pb), (c, pc)):
        assert p == _slow(RawObject(x, o))[0]


def test_a_yaml_date_in_owner_refs_takes_the_tolerant_path() -> None:
    # A YAML timestamp is not a string: the fast path must not cache it as the
    # equal-looking string; both paths give the same (tolerant) result.
    import datetime

    a = copy.deepcopy(POD)
    a["metadata"]["ownerReferences"][0]["uid"] = datetime.date(2024, 1, 2)
    raw = RawObject(a, Origin(file="x.yaml", document=0, line=1))
    assert decode_mod.decode(raw) == _slow(raw)
