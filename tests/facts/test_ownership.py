"""Workload ownership: the object a person changes for a pod, from ownerReferences and,
where the dump lacks the middle object, from the controllers' naming conventions."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsleuth.facts import Facts
from netsleuth.facts.ownership import pod_ownership, workload_ownership, workload_subject
from netsleuth.model.cluster import ClusterModel
from netsleuth.sources.load import load_offline

DATA = Path(__file__).parent / "ownership.yaml"


@pytest.fixture(scope="module")
def model() -> ClusterModel:
    m = load_offline([str(DATA)])
    assert not [p for p in m.problems if p.level.name != "WARNING"], m.problems
    return m


def _chain(model: ClusterModel, ns: str, name: str) -> list[tuple[str, str, bool, str]]:
    pod = model.pod(ns, name)
    assert pod is not None
    return [(o.kind, o.name, o.present, o.via) for o in pod_ownership(model, pod).chain]


def test_replicaset_to_deployment(model: ClusterModel) -> None:
    assert _chain(model, "shop", "web-5d9c7f6b8-x2k4p") == [
        ("ReplicaSet", "web-5d9c7f6b8", True, "ownerReferences"),
        ("Deployment", "web", True, "ownerReferences"),
    ]


def test_absent_replicaset_linked_by_pod_template_hash(model: ClusterModel) -> None:
    # The Deployment controller names a ReplicaSet <deployment>-<pod-template-hash>.
    assert _chain(model, "shop", "api-7f8b9c6d5-qq7rn") == [
        ("ReplicaSet", "api-7f8b9c6d5", False, "ownerReferences"),
        ("Deployment", "api", True, "pod-template-hash label"),
    ]


def test_job_to_cronjob(model: ClusterModel) -> None:
    assert _chain(model, "shop", "report-28391040-7xk2d") == [
        ("Job", "report-28391040", True, "ownerReferences"),
        ("CronJob", "report", True, "ownerReferences"),
    ]


def test_absent_job_linked_to_cronjob_by_name(model: ClusterModel) -> None:
    # The CronJob controller names a Job <cronjob>-<scheduled time in minutes>.
    assert _chain(model, "shop", "backup-28391100-hw9zq") == [
        ("Job", "backup-28391100", False, "ownerReferences"),
        ("CronJob", "backup", True, "CronJob job name"),
    ]


def test_operator_custom_resource_owns_pods(model: ClusterModel) -> None:
    pod = model.pod("db", "pg-1")
    assert pod is not None
    own = pod_ownership(model, pod)
    assert own.ref() == "Cluster/db/pg"
    assert own.top is not None and own.top.api_version == "postgresql.cnpg.io/v1"
    assert Facts(model).managing_object(pod)[0] == "Cluster"
    # A workload subject stays a workload kind: the pod itself here.
    assert workload_subject(model, pod) == ("Pod", pod.meta)


def test_absent_operator_resource_is_named_but_not_present(model: ClusterModel) -> None:
    assert _chain(model, "db", "events-kafka-0") == [
        ("StatefulSet", "events-kafka", True, "ownerReferences"),
        ("Kafka", "events", False, "ownerReferences"),
    ]
    pod = model.pod("db", "events-kafka-0")
    assert pod is not None
    own = pod_ownership(model, pod)
    assert own.ref() == "Kafka/db/events"
    assert own.top_present is not None and own.top_present.ref() == "StatefulSet/db/events-kafka"
    assert Facts(model).managing_object(pod)[0] == "StatefulSet"
    assert workload_ownership(model, "StatefulSet", "db", "events-kafka")[0].kind == "Kafka"


def test_static_and_bare_pods_are_their_own_top(model: ClusterModel) -> None:
    for ns, name in (("kube-system", "kube-apiserver-cp-1"), ("shop", "debug")):
        pod = model.pod(ns, name)
        assert pod is not None
        own = pod_ownership(model, pod)
        assert own.chain == ()
        assert own.ref() == f"Pod/{ns}/{name}"


def test_workload_subject_matches_model_owner(model: ClusterModel) -> None:
    """``workload_subject`` names the same top workload the model's owner index does, and
    one step further when the pod-template-hash closes a gap."""
    for pod in model.pods:
        kind, meta = workload_subject(model, pod)
        owner = model.owner(pod)
        if (
            owner.kind == "ReplicaSet"
            and model.workload("ReplicaSet", pod.namespace, owner.name) is None
        ):
            assert (kind, meta.name) in (("Deployment", "api"), ("Pod", pod.name))
        elif owner.kind in ("Job",) and model.workload("Job", pod.namespace, owner.name) is None:
            assert (kind, meta.name) in (("CronJob", "backup"), ("Pod", pod.name))
        elif owner.kind == "Pod" or model.workload(owner.kind, owner.namespace, owner.name) is None:
            assert kind == "Pod"
        else:
            assert (kind, meta.name) == (owner.kind, owner.name)
