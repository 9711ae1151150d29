"""PolicyMatrix.label_key: the identity-keyed memo gives the uncached key for every pod.

Replicas decoded by the fast path share their label map and containers, so
the memo hits for them; pods that share a label map but differ in namespace,
hostNetwork or named ports must still get their own keys.
"""

from __future__ import annotations

import sys
from pathlib import Path

from netsleuth.model.objects import Container, ContainerPort, Meta, Pod, PodSpec
from netsleuth.policy.matrix import PolicyMatrix
from netsleuth.sources.load import load_offline

ROOT = Path(__file__).resolve().parents[2]


def _check(model) -> int:  # type: ignore[no-untyped-def]
    pod_keys, names = PolicyMatrix.relevant(model)
    cache: dict[tuple[object, ...], tuple[object, ...]] = {}
    for p in model.pods:
        assert PolicyMatrix.label_key(p, pod_keys, names, cache) == PolicyMatrix.label_key(
            p, pod_keys, names
        ), p.key
    return len(cache)


def test_generated_cluster(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from gen_cluster import write_cluster
    finally:
        sys.path.remove(str(ROOT / "bench"))
    path = tmp_path / "c.json"
    write_cluster(path, nodes=5, pods=300, services=20, policies=20, namespaces=3, seed=3)
    model = load_offline([str(path)])
    entries = _check(model)
    # 300 replicas of 20 templates: the memo holds one entry per template, not per pod
    assert 0 < entries < 300


def test_demo() -> None:
    _check(load_offline([str(ROOT / "src" / "netsleuth" / "data" / "demo")]))


def test_shared_labels_other_namespace_host_network_or_ports() -> None:
    labels = {"app": "x"}
    web = (Container(name="c", ports=(ContainerPort(container_port=80, name="http"),)),)
    alt = (Container(name="c", ports=(ContainerPort(container_port=81, name="http"),)),)
    pods = [
        Pod(meta=Meta(name="a", namespace="n1", labels=labels), spec=PodSpec(containers=web)),
        Pod(meta=Meta(name="b", namespace="n2", labels=labels), spec=PodSpec(containers=web)),
        Pod(
            meta=Meta(name="c", namespace="n1", labels=labels),
            spec=PodSpec(containers=web, host_network=True),
        ),
        Pod(meta=Meta(name="d", namespace="n1", labels=labels), spec=PodSpec(containers=alt)),
    ]
    cache: dict[tuple[object, ...], tuple[object, ...]] = {}
    keys = [PolicyMatrix.label_key(p, frozenset({"app"}), frozenset({"http"}), cache) for p in pods]
    assert keys[0] == ("n1", (("app", "x"),), (("http", "TCP", 80),), False)
    assert keys[1] == ("n2", (("app", "x"),), (("http", "TCP", 80),), False)
    assert keys[2] == ("n1", (("app", "x"),), (("http", "TCP", 80),), True)
    assert keys[3] == ("n1", (("app", "x"),), (("http", "TCP", 81),), False)
