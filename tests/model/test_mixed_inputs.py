"""Mixed inputs: real pods for some workloads, templates for the others, nothing silent.

Kubernetes facts used for the expected values:
- a Deployment's pods are owned by its ReplicaSet ``<deployment>-<pod-template-hash>``
  and carry the ``pod-template-hash`` label
  (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#pod-template-hash-label);
- ``spec.replicas: 0`` means the workload runs no pod;
- a live cluster's pod list is complete: a workload without pods has none.
"""

from __future__ import annotations

from netsleuth.model.cluster import ClusterModel, SourceInfo, SourceKind, WorkloadRef, build_model
from netsleuth.model.objects import (
    Meta,
    OwnerRef,
    Pod,
    PodTemplate,
    Workload,
)
from netsleuth.model.selectors import LabelSelector


def deployment(name: str, replicas: int | None = 2) -> Workload:
    return Workload(
        kind="Deployment",
        meta=Meta(name=name, namespace="shop"),
        selector=LabelSelector.from_match_labels({"app": name}),
        template=PodTemplate(labels={"app": name}),
        replicas=replicas,
    )


def replica_set(dep: str, h: str) -> Workload:
    return Workload(
        kind="ReplicaSet",
        meta=Meta(
            name=f"{dep}-{h}",
            namespace="shop",
            owner_refs=(OwnerRef(kind="Deployment", name=dep, controller=True),),
        ),
        selector=LabelSelector.from_match_labels({"app": dep, "pod-template-hash": h}),
        template=PodTemplate(labels={"app": dep, "pod-template-hash": h}),
        replicas=2,
    )


def pod(name: str, labels: dict[str, str], owner: OwnerRef | None = None) -> Pod:
    return Pod(
        meta=Meta(
            name=name,
            namespace="shop",
            labels=labels,
            owner_refs=(owner,) if owner is not None else (),
        ),
        phase="Running",
        pod_ips=("10.0.0.9",),
    )


def owners(model: ClusterModel) -> dict[str, WorkloadRef | None]:
    return {p.name: model.owner_of_pod.get(p.key) for p in model.pods}


def messages(model: ClusterModel) -> dict[str, str]:
    return {p.object or "": p.message for p in model.problems}


def test_workloads_without_pods_are_stood_for_by_their_template() -> None:
    """A dump of db (Deployment, ReplicaSet, pod), the web Deployment as a manifest,
    and one bare Helm test pod: web is represented by its template, with a note."""
    rs_owner = OwnerRef(kind="ReplicaSet", name="db-5d8f", controller=True)
    model = build_model(
        [
            deployment("web"),
            deployment("db"),
            replica_set("db", "5d8f"),
            pod("db-5d8f-x1", {"app": "db", "pod-template-hash": "5d8f"}, rs_owner),
            pod("web-test-connection", {"app.kubernetes.io/name": "shop"}),
        ]
    )
    assert owners(model) == {
        "db-5d8f-x1": WorkloadRef("Deployment", "shop", "db"),
        "web-test-connection": None,  # a bare pod is its own peer
        "web-derived": WorkloadRef("Deployment", "shop", "web"),
    }
    derived = model.pod("shop", "web-derived")
    assert derived is not None and derived.meta.derived and derived.labels == {"app": "web"}
    # db has its real pod: no template pod for it, nor for its ReplicaSet.
    assert model.pod("shop", "db-derived") is None and model.pod("shop", "db-5d8f-derived") is None
    notes = messages(model)
    assert set(notes) == {"Deployment/shop/web"}
    assert "pod template stands for them" in notes["Deployment/shop/web"]


def test_manifests_only_are_derived_without_notes() -> None:
    """No pod at all: every workload is its template, as before, and no note is added."""
    model = build_model([deployment("web"), deployment("db")])
    assert sorted(p.name for p in model.pods) == ["db-derived", "web-derived"]
    assert model.problems == ()


def test_pod_template_hash_bridges_an_absent_replica_set() -> None:
    """Deployment and pods without the ReplicaSet: the pods still belong to the Deployment,
    so no template pod is added beside them."""
    rs_owner = OwnerRef(kind="ReplicaSet", name="web-7c9d", controller=True)
    model = build_model(
        [
            deployment("web"),
            pod("web-7c9d-a", {"app": "web", "pod-template-hash": "7c9d"}, rs_owner),
        ]
    )
    assert owners(model) == {"web-7c9d-a": WorkloadRef("Deployment", "shop", "web")}
    assert model.problems == ()


def test_owner_reference_without_kind_groups_by_owner_name() -> None:
    """``ownerReferences: [{name: web-7c9d}]`` with no kind: matched by name to the
    ReplicaSet in the input, then up to its Deployment."""
    nameless = OwnerRef(kind="", name="web-7c9d", controller=True)
    model = build_model(
        [
            deployment("web"),
            replica_set("web", "7c9d"),
            pod("web-7c9d-a", {"app": "web", "pod-template-hash": "7c9d"}, nameless),
            pod("web-7c9d-b", {"app": "web", "pod-template-hash": "7c9d"}, nameless),
        ]
    )
    web = WorkloadRef("Deployment", "shop", "web")
    assert owners(model) == {"web-7c9d-a": web, "web-7c9d-b": web}


def test_owner_without_kind_and_absent_still_groups() -> None:
    """No kind and no object of that name: the pods are grouped under the owner name."""
    nameless = OwnerRef(kind="", name="batch-runner")
    model = build_model(
        [
            pod("batch-runner-a", {"app": "b"}, nameless),
            pod("batch-runner-b", {"app": "b"}, nameless),
        ]
    )
    ref = WorkloadRef("Owner", "shop", "batch-runner")
    assert owners(model) == {"batch-runner-a": ref, "batch-runner-b": ref}


def test_scaled_to_zero_has_no_pod_and_a_note() -> None:
    model = build_model([deployment("web", replicas=0), deployment("db")])
    assert [p.name for p in model.pods] == ["db-derived"]
    assert "scaled to zero" in messages(model)["Deployment/shop/web"]


def test_live_pod_list_is_the_truth() -> None:
    """Live, with pods listed: a Deployment without pods has none (no template pod)."""
    rs_owner = OwnerRef(kind="ReplicaSet", name="db-5d8f", controller=True)
    model = build_model(
        [
            deployment("web"),
            deployment("db"),
            replica_set("db", "5d8f"),
            pod("db-5d8f-x1", {"app": "db", "pod-template-hash": "5d8f"}, rs_owner),
        ],
        source=SourceInfo(kind=SourceKind.LIVE),
    )
    assert [p.name for p in model.pods] == ["db-5d8f-x1"]
