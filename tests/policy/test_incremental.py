"""Incremental re-check against a full recompute, on random clusters and change sequences.

After every change the incremental state must list exactly the connections
``connectivity()`` computes from scratch on the changed cluster, and the diff
it returns must be the diff of the two full lists. Clusters mix workloads
(several pods, labels that differ between pods of one workload), bare and
hostNetwork pods, named ports, ipBlocks with excepts, an Ingress (the
pseudo-peer) sometimes; changes add, edit and remove policies and relabel
namespaces and pods. The full recompute is the engine the corpora check.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from netsleuth.model import build_model
from netsleuth.model.cluster import ClusterModel, ModelObject
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    Ingress,
    IngressBackend,
    IngressPath,
    IngressRuleSpec,
    IPBlock,
    Meta,
    Namespace,
    NetworkPolicy,
    OwnerRef,
    Pod,
    PodSpec,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    Service,
    ServicePort,
    Workload,
)
from netsleuth.model.selectors import LabelSelector
from netsleuth.policy.connlist import connectivity, connectivity_pair, diff
from netsleuth.policy.incremental import (
    Change,
    IncrementalConnectivity,
    RemovePolicy,
    SetNamespaceLabels,
    SetPodLabels,
    SetPolicy,
    diff_incremental,
    model_delta,
)
from policy.test_differential_matrix import (
    KEYS,
    NAMESPACES,
    PORT_NAMES,
    VALUES,
    ports,
    rules,
    selectors,
)

# The engine against its own reference on generated clusters: costly examples, not
# hostile-input fuzzing. They keep the count they had, so the CI profile's 300 examples
# (tests/conftest.py) go to the loaders, parsers, renderers and printed commands and
# `make test` stays under 3 minutes.
EQUIVALENCE_EXAMPLES = 60 if os.environ.get("CI") else 30

IPS = ("10.0.0.1", "10.0.1.5", "fd00::5", "192.168.1.20", "10.0.0.130", "10.0.2.2")
WORKLOADS = ("w1", "w2")
labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)
NEW_CIDRS = ("10.0.0.0/9", "172.16.0.0/12", "10.0.1.0/24", "fd00::/64")


@st.composite
def policies(draw: Any, name: str) -> NetworkPolicy:
    types = draw(st.sampled_from([("Ingress",), ("Egress",), ("Ingress", "Egress")]))
    extra = []
    if draw(st.booleans()):  # a namespace-label peer, the kind namespace relabelling flips
        sel = LabelSelector.from_match_labels(draw(labels_st))
        extra.append(PolicyRule(peers=(PolicyPeer(namespace_selector=sel),)))
    if draw(st.integers(0, 4)) == 0:  # a bound no other policy has: the cut moves
        extra = [
            PolicyRule(peers=(PolicyPeer(ip_block=IPBlock(cidr=draw(st.sampled_from(NEW_CIDRS)))),))
        ]
    ing = tuple(draw(st.lists(rules(), max_size=2))) + tuple(extra)
    eg = tuple(draw(st.lists(rules(), max_size=2))) + tuple(extra[:1])
    return NetworkPolicy(
        meta=Meta(name=name, namespace=draw(st.sampled_from(NAMESPACES))),
        pod_selector=draw(st.one_of(st.just(LabelSelector()), selectors())),
        policy_types=types,
        ingress=ing if "Ingress" in types else (),
        egress=eg if "Egress" in types else (),
    )


@st.composite
def clusters(draw: Any) -> list[ModelObject]:
    objs: list[ModelObject] = []
    for ns in NAMESPACES:
        labels = {"kubernetes.io/metadata.name": ns, **draw(labels_st)}
        objs.append(Namespace(meta=Meta(name=ns, labels=labels)))
    for w in WORKLOADS:
        objs.append(Workload(kind="Deployment", meta=Meta(name=w, namespace="a")))
    for i in range(draw(st.integers(2, 6))):
        cports = tuple(
            ContainerPort(
                container_port=draw(st.sampled_from((53, 80, 443, 8080, 9090, 5353))),
                name=draw(st.sampled_from((*PORT_NAMES, None))),
                protocol=draw(st.sampled_from(["TCP", "UDP"])),
            )
            for _ in range(draw(st.integers(0, 2)))
        )
        owner = draw(st.sampled_from((None, *WORKLOADS)))
        ns = "a" if owner else draw(st.sampled_from(NAMESPACES))
        objs.append(
            Pod(
                meta=Meta(
                    name=f"p{i}",
                    namespace=ns,
                    labels=draw(labels_st),
                    owner_refs=(OwnerRef(kind="Deployment", name=owner, controller=True),)
                    if owner
                    else (),
                ),
                spec=PodSpec(
                    containers=(Container(name="c", ports=cports),),
                    host_network=draw(st.integers(0, 9)) == 0,
                ),
                phase="Running",
                pod_ips=(IPS[i],) if draw(st.booleans()) or i == 0 else (),
                host_ip="192.168.1.20",
            )
        )
    for k in range(draw(st.integers(1, 4))):
        objs.append(draw(policies(f"np{k}")))
    if draw(st.booleans()):
        objs.append(
            Service(
                meta=Meta(name="svc", namespace="a"),
                selector={"app": "x"},
                ports=(ServicePort(port=80, target_port=draw(st.sampled_from([8080, "http"]))),),
            )
        )
        objs.append(
            Ingress(
                meta=Meta(name="ing", namespace="a"),
                rules=(
                    IngressRuleSpec(
                        paths=(
                            IngressPath(backend=IngressBackend(service_name="svc", port_number=80)),
                        )
                    ),
                ),
            )
        )
    return objs


@st.composite
def changes(draw: Any, objs: list[ModelObject]) -> Change:
    """One change that usually touches something: existing policies, pods, namespaces."""
    pods = [o for o in objs if isinstance(o, Pod)]
    pols = [o for o in objs if isinstance(o, NetworkPolicy)]
    kind = draw(st.sampled_from(["policy", "policy", "edit", "remove", "ns", "pod"]))
    if kind == "edit" and pols:
        old = draw(st.sampled_from(pols))
        new = draw(policies(old.name))
        return SetPolicy(dataclasses.replace(new, meta=old.meta))
    if kind == "remove" and pols:
        old = draw(st.sampled_from(pols))
        return RemovePolicy(old.namespace, old.name)
    if kind == "ns":
        ns = draw(st.sampled_from(NAMESPACES))
        return SetNamespaceLabels(ns, {"kubernetes.io/metadata.name": ns, **draw(labels_st)})
    if kind == "pod":
        p = draw(st.sampled_from(pods))
        return SetPodLabels(p.namespace, p.name, draw(labels_st))
    return SetPolicy(draw(policies(f"np{draw(st.integers(0, 4))}")))


@st.composite
def label_clusters(draw: Any) -> list[ModelObject]:
    """Pods in every namespace, each namespace isolated by policies whose peers are chosen
    by namespace and pod labels: relabelling a namespace or a pod moves connections."""
    objs: list[ModelObject] = []
    for n, ns in enumerate(NAMESPACES):
        objs.append(
            Namespace(
                meta=Meta(name=ns, labels={"kubernetes.io/metadata.name": ns, **draw(labels_st)})
            )
        )
        for j in range(2):
            objs.append(
                Pod(
                    meta=Meta(name=f"{ns}{j}", namespace=ns, labels=draw(labels_st)),
                    phase="Running",
                    pod_ips=(f"10.0.{n}.{j + 1}",),
                )
            )
        peer = PolicyPeer(
            namespace_selector=LabelSelector.from_match_labels(draw(labels_st)),
            pod_selector=draw(st.one_of(st.none(), selectors())),
        )
        objs.append(
            NetworkPolicy(
                meta=Meta(name="iso", namespace=ns),
                pod_selector=draw(st.one_of(st.just(LabelSelector()), selectors())),
                policy_types=draw(
                    st.sampled_from([("Ingress",), ("Egress",), ("Ingress", "Egress")])
                ),
                ingress=(
                    PolicyRule(peers=(peer,), ports=tuple(draw(st.lists(ports(), max_size=1)))),
                ),
                egress=(PolicyRule(peers=(peer,)),),
            )
        )
    return objs


@settings(max_examples=EQUIVALENCE_EXAMPLES)
@given(st.data())
def test_relabelling_equals_a_full_recompute(data: st.DataObject) -> None:
    objs = data.draw(label_clusters())
    inc = IncrementalConnectivity(model_of(objs))
    prev = connectivity(model_of(objs))
    for _ in range(data.draw(st.integers(1, 4))):
        ch = data.draw(
            changes(objs).filter(lambda c: isinstance(c, SetNamespaceLabels | SetPodLabels))
        )
        got = inc.apply([ch])
        objs = apply_objects(objs, ch)
        now = connectivity(model_of(objs))
        assert inc.connections() == now, ch
        assert got == diff(prev, now), ch
        prev = now


def apply_objects(objs: list[ModelObject], ch: Change) -> list[ModelObject]:
    """The same change on the object list (what a user would edit and re-load)."""
    out: list[ModelObject] = []
    if isinstance(ch, SetPolicy):
        key = (ch.policy.namespace, ch.policy.name)
        out = [
            o for o in objs if not (isinstance(o, NetworkPolicy) and (o.namespace, o.name) == key)
        ]
        return [*out, ch.policy]
    if isinstance(ch, RemovePolicy):
        key = (ch.namespace, ch.name)
        return [
            o for o in objs if not (isinstance(o, NetworkPolicy) and (o.namespace, o.name) == key)
        ]
    for o in objs:
        if (
            isinstance(ch, SetNamespaceLabels)
            and isinstance(o, Namespace)
            and o.name == ch.namespace
        ):
            o = dataclasses.replace(o, meta=dataclasses.replace(o.meta, labels=dict(ch.labels)))
        if isinstance(ch, SetPodLabels) and isinstance(o, Pod) and o.key == (ch.namespace, ch.name):
            o = dataclasses.replace(o, meta=dataclasses.replace(o.meta, labels=dict(ch.labels)))
        out.append(o)
    return out


def model_of(objs: list[ModelObject]) -> ClusterModel:
    return build_model(objs, derive_pods=False)


@settings(max_examples=EQUIVALENCE_EXAMPLES)
@given(st.data())
def test_each_change_equals_a_full_recompute(data: st.DataObject) -> None:
    objs = data.draw(clusters())
    model = model_of(objs)
    inc = IncrementalConnectivity(model)
    assert inc.connections() == connectivity(model)
    for _ in range(data.draw(st.integers(1, 4))):
        ch = data.draw(changes(objs))
        got = inc.apply([ch])
        prev_model = model_of(objs)
        objs = apply_objects(objs, ch)
        now_model = model_of(objs)
        assert inc.connections() == connectivity(now_model), ch
        # both sides listed alike (IPv6 ranges on both when either has an IPv6 bound)
        assert got == diff(*connectivity_pair(prev_model, now_model)), ch


@settings(max_examples=EQUIVALENCE_EXAMPLES)
@given(st.data())
def test_diff_of_two_versions_equals_the_full_diff(data: st.DataObject) -> None:
    objs = data.draw(clusters())
    after_objs = objs
    for _ in range(data.draw(st.integers(1, 4))):
        after_objs = apply_objects(after_objs, data.draw(changes(after_objs)))
    before, after = model_of(objs), model_of(after_objs)
    want = diff(*connectivity_pair(before, after))
    got = diff_incremental(before, after)
    assert got == want


def test_delta_refuses_what_it_cannot_express() -> None:
    ns = Namespace(meta=Meta(name="a", labels={"kubernetes.io/metadata.name": "a"}))
    p = Pod(meta=Meta(name="p", namespace="a", labels={"app": "x"}), pod_ips=("10.0.0.1",))
    moved = dataclasses.replace(p, pod_ips=("10.0.0.2",))
    assert model_delta(model_of([ns, p]), model_of([ns, moved])) is None  # an address moved
    assert model_delta(model_of([ns, p]), model_of([ns])) is None  # a pod removed
    relabelled = dataclasses.replace(p, meta=dataclasses.replace(p.meta, labels={"app": "y"}))
    assert model_delta(model_of([ns, p]), model_of([ns, relabelled])) == [
        SetPodLabels("a", "p", {"app": "y"})
    ]
    pol = NetworkPolicy(
        meta=Meta(name="deny", namespace="a"),
        pod_selector=LabelSelector(),
        policy_types=("Ingress",),
    )
    moved_pol = dataclasses.replace(pol, meta=dataclasses.replace(pol.meta, annotations={"x": "1"}))
    # metadata (file, line, annotations) is not policy content
    assert model_delta(model_of([ns, p, pol]), model_of([ns, p, moved_pol])) == []


def test_delta_by_key_when_pods_come_in_another_order() -> None:
    ns = Namespace(meta=Meta(name="a", labels={"kubernetes.io/metadata.name": "a"}))
    p = Pod(meta=Meta(name="p", namespace="a", labels={"app": "x"}), pod_ips=("10.0.0.1",))
    q = Pod(meta=Meta(name="q", namespace="a", labels={"app": "y"}), pod_ips=("10.0.0.2",))
    q2 = dataclasses.replace(q, meta=dataclasses.replace(q.meta, labels={"app": "z"}))
    assert model_delta(model_of([ns, p, q]), model_of([ns, q2, p])) == [
        SetPodLabels("a", "q", {"app": "z"})
    ]
    ported = dataclasses.replace(
        p,
        spec=PodSpec(
            containers=(
                Container(name="c", ports=(ContainerPort(container_port=80, name="http"),)),
            )
        ),
    )
    assert model_delta(model_of([ns, p, q]), model_of([ns, ported, q])) is None  # a named port


def test_cli_diff_takes_the_incremental_path() -> None:
    """The hand-checked pair of tests/policy/data/diff differs in one policy: the
    incremental diff is the full one."""
    from pathlib import Path

    from netsleuth.sources import load_offline

    data = Path(__file__).resolve().parent / "data" / "diff"
    before = load_offline([str(data / "before")])
    after = load_offline([str(data / "after")])
    got = diff_incremental(before, after)
    assert got is not None and got == diff(connectivity(before), connectivity(after))
    assert len(got.lost) == 1 and len(got.changed) == 1


def test_one_policy_change_on_a_minimal_cluster() -> None:
    """Hand-checked: a and b in namespace n, b isolated for ingress with no rule. Adding a
    policy that admits app=a on TCP 80 gains exactly a -> b TCP 80; removing it loses it."""
    ns = Namespace(meta=Meta(name="n", labels={"kubernetes.io/metadata.name": "n"}))
    a = Pod(meta=Meta(name="a", namespace="n", labels={"app": "a"}), pod_ips=("10.0.0.1",))
    b = Pod(meta=Meta(name="b", namespace="n", labels={"app": "b"}), pod_ips=("10.0.0.2",))
    deny = NetworkPolicy(
        meta=Meta(name="deny-b", namespace="n"),
        pod_selector=LabelSelector.from_match_labels({"app": "b"}),
        policy_types=("Ingress",),
    )
    allow = NetworkPolicy(
        meta=Meta(name="a-to-b", namespace="n"),
        pod_selector=LabelSelector.from_match_labels({"app": "b"}),
        policy_types=("Ingress",),
        ingress=(
            PolicyRule(
                peers=(PolicyPeer(pod_selector=LabelSelector.from_match_labels({"app": "a"})),),
                ports=(PolicyPort(protocol="TCP", port=80),),
            ),
        ),
    )
    inc = IncrementalConnectivity(model_of([ns, a, b, deny]))
    assert not any(c.dst.name == "b" for c in inc.connections())  # nothing reaches b
    d = inc.set_policy(allow)
    assert d.lost == () and d.changed == ()
    assert [(c.src.describe(), c.dst.describe(), c.conn_text()) for c in d.gained] == [
        ("n/a[Pod]", "n/b[Pod]", "TCP 80")
    ]
    d = inc.remove_policy("n", "a-to-b")
    assert d.gained == () and d.changed == ()
    assert [(c.src.describe(), c.dst.describe()) for c in d.lost] == [("n/a[Pod]", "n/b[Pod]")]
    # relabelling a so the rule no longer selects it, with the policy back: lost again
    inc.set_policy(allow)
    d = inc.set_pod_labels("n", "a", {"app": "z"})
    assert [(c.src.describe(), c.dst.describe()) for c in d.lost] == [("n/a[Pod]", "n/b[Pod]")]
    assert d.gained == () and d.changed == ()


def test_delta_refuses_a_relabel_that_moves_a_pod_to_another_owner() -> None:
    """Its ReplicaSet absent, a pod belongs to Deployment web by its pod-template-hash label
    (the naming convention): changing that label makes the ReplicaSet its owner. That is
    not a label change the incremental state can take (owners are fixed): the diff is the
    full one."""
    ns = Namespace(meta=Meta(name="a", labels={"kubernetes.io/metadata.name": "a"}))
    web = Workload(kind="Deployment", meta=Meta(name="web", namespace="a"))
    ref = (OwnerRef(kind="ReplicaSet", name="web-abc", controller=True),)
    p = Pod(
        meta=Meta(
            name="web-abc-1",
            namespace="a",
            labels={"app": "web", "pod-template-hash": "abc"},
            owner_refs=ref,
        ),
        phase="Running",
        pod_ips=("10.0.0.1",),
    )
    q = Pod(meta=Meta(name="q", namespace="a", labels={"app": "q"}), pod_ips=("10.0.0.2",))
    moved = dataclasses.replace(
        p, meta=dataclasses.replace(p.meta, labels={"app": "web", "pod-template-hash": "xyz"})
    )
    before, after = model_of([ns, web, p, q]), model_of([ns, web, moved, q])
    assert before.owner(p).kind == "Deployment" and after.owner(moved).kind == "ReplicaSet"
    assert model_delta(before, after) is None
    assert diff_incremental(before, after) is None


@st.composite
def replica_clusters(draw: Any) -> list[ModelObject]:
    """Workloads whose replicas share their label map, owner references and containers
    objects, as the loader shares them (the incremental state groups pods by these
    objects): some replicas carry labels of their own, and one owner-reference tuple and
    label map are shared by same-named workloads of two namespaces."""
    objs: list[ModelObject] = []
    for ns in NAMESPACES:
        labels = {"kubernetes.io/metadata.name": ns, **draw(labels_st)}
        objs.append(Namespace(meta=Meta(name=ns, labels=labels)))
    shared_refs = {w: (OwnerRef(kind="Deployment", name=w, controller=True),) for w in WORKLOADS}
    shared_labels = {w: draw(labels_st) for w in WORKLOADS}
    n = 0
    for ns in draw(st.lists(st.sampled_from(NAMESPACES), min_size=1, max_size=2, unique=True)):
        for w in WORKLOADS:
            objs.append(Workload(kind="Deployment", meta=Meta(name=w, namespace=ns)))
            cports = tuple(
                ContainerPort(
                    container_port=draw(st.sampled_from((53, 80, 8080))),
                    name=draw(st.sampled_from((*PORT_NAMES, None))),
                )
                for _ in range(draw(st.integers(0, 2)))
            )
            containers = (Container(name="c", ports=cports),)
            for j in range(draw(st.integers(1, 3))):
                own = draw(st.integers(0, 3)) == 0
                objs.append(
                    Pod(
                        meta=Meta(
                            name=f"{w}-{j}",
                            namespace=ns,
                            labels=draw(labels_st) if own else shared_labels[w],
                            owner_refs=shared_refs[w],
                        ),
                        spec=PodSpec(containers=containers),
                        phase="Running",
                        pod_ips=(f"10.0.{n // 200}.{n % 200 + 1}",),
                    )
                )
                n += 1
    objs.append(Pod(meta=Meta(name="bare", namespace="a", labels=draw(labels_st))))
    for k in range(draw(st.integers(1, 4))):
        objs.append(draw(policies(f"np{k}")))
    return objs


@settings(max_examples=EQUIVALENCE_EXAMPLES)
@given(st.data())
def test_replicas_sharing_objects_equal_a_full_recompute(data: st.DataObject) -> None:
    """Re-check and diff where pods are grouped by shared objects; the AFTER side of the
    diff is sometimes a copy (a reload: equal values, its own shared objects)."""
    objs = data.draw(replica_clusters())
    model = model_of(objs)
    inc = IncrementalConnectivity(model)
    assert inc.connections() == connectivity(model)
    after_objs = objs
    for _ in range(data.draw(st.integers(1, 3))):
        ch = data.draw(changes(after_objs))
        got = inc.apply([ch])
        prev_model = model_of(after_objs)
        after_objs = apply_objects(after_objs, ch)
        now_model = model_of(after_objs)
        assert inc.connections() == connectivity(now_model), ch
        assert got == diff(*connectivity_pair(prev_model, now_model)), ch
    if data.draw(st.booleans()):
        after_objs = copy.deepcopy(after_objs)
    after = model_of(after_objs)
    want = diff(*connectivity_pair(model, after))
    assert diff_incremental(model, after) == want
    assert model_delta(model, model_of(copy.deepcopy(objs))) == []


def test_a_port_name_used_twice_resolves_to_the_first_in_container_order() -> None:
    """Two containers of a pod both name a port http (80, then 53; the API server would
    refuse it, the files may hold it): the full engine resolves http to 80, the first in
    container order, and so must the incremental state (it once took the lowest)."""
    ns = Namespace(meta=Meta(name="a", labels={"kubernetes.io/metadata.name": "a"}))
    web = Pod(
        meta=Meta(name="web", namespace="a", labels={"app": "web"}),
        spec=PodSpec(
            containers=(
                Container(name="c1", ports=(ContainerPort(container_port=80, name="http"),)),
                Container(name="c2", ports=(ContainerPort(container_port=53, name="http"),)),
            )
        ),
        pod_ips=("10.0.0.1",),
    )
    client = Pod(meta=Meta(name="client", namespace="a"), pod_ips=("10.0.0.2",))
    to_http = NetworkPolicy(
        meta=Meta(name="to-http", namespace="a"),
        pod_selector=LabelSelector(),
        policy_types=("Egress",),
        egress=(PolicyRule(ports=(PolicyPort(protocol="TCP", port="http"),)),),
    )
    model = model_of([ns, web, client, to_http])
    inc = IncrementalConnectivity(model)
    assert inc.connections() == connectivity(model)
    [conn] = [c for c in inc.connections() if (c.src.name, c.dst.name) == ("client", "web")]
    assert conn.conn_text() == "TCP 80"
    d = inc.remove_policy("a", "to-http")
    after = model_of([ns, web, client])
    assert d == diff(*connectivity_pair(model, after))
