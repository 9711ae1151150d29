"""build_model: indexes, owner walking, derived pods, Endpoints fallback."""

from __future__ import annotations

from pathlib import Path

from netsleuth.model import WorkloadRef
from netsleuth.sources.load import load_offline

DEPLOY_CHAIN = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: pay, uid: d1}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: api:1, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-5d9c
  namespace: pay
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: d1, controller: true}]
spec:
  selector: {matchLabels: {app: api, pod-template-hash: 5d9c}}
  template:
    metadata: {labels: {app: api, pod-template-hash: 5d9c}}
    spec: {containers: [{name: api, image: api:1}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-5d9c-x1
  namespace: pay
  labels: {app: api, pod-template-hash: 5d9c}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-5d9c, controller: true}]
spec: {nodeName: n1, containers: [{name: api, image: api:1}]}
status: {phase: Running, podIP: 10.1.0.5, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: orphan-rs-pod
  namespace: pay
  labels: {app: batch}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: batch-77f, controller: true}]
spec: {nodeName: n2, containers: [{name: b, image: b:1}]}
status: {phase: Running, podIP: 10.1.1.9}
---
apiVersion: v1
kind: Pod
metadata: {name: bare, namespace: pay, labels: {app: api}}
spec: {nodeName: n1, containers: [{name: c, image: c:1}]}
status: {phase: Running, podIP: 10.1.0.6}
"""


def test_owner_walk_and_indexes(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(DEPLOY_CHAIN)
    m = load_offline([str(tmp_path)])
    pod = m.pod("pay", "api-5d9c-x1")
    assert pod is not None
    # Pod -> ReplicaSet -> Deployment: the top-level owner is the Deployment.
    assert m.owner(pod) == WorkloadRef("Deployment", "pay", "api")
    # The ReplicaSet of this pod is absent from the input: the pod belongs to the ReplicaSet.
    orphan = m.pod("pay", "orphan-rs-pod")
    assert orphan is not None and m.owner(orphan) == WorkloadRef("ReplicaSet", "pay", "batch-77f")
    bare = m.pod("pay", "bare")
    assert bare is not None and m.owner(bare) == WorkloadRef("Pod", "pay", "bare")
    # Indexes.
    assert [p.name for p in m.pods_by_ip["10.1.0.5"]] == ["api-5d9c-x1"]
    assert sorted(p.name for p in m.pods_by_node["n1"]) == ["api-5d9c-x1", "bare"]
    assert sorted(p.name for p in m.pods_matching("pay", {"app": "api"})) == ["api-5d9c-x1", "bare"]
    assert [p.name for p in m.pods_of_workload(WorkloadRef("Deployment", "pay", "api"))] == [
        "api-5d9c-x1"
    ]
    # Pods exist, so nothing is derived.
    assert not any(p.meta.derived for p in m.pods)


def test_pods_are_derived_from_templates_when_only_manifests_are_given(tmp_path: Path) -> None:
    only_workloads = DEPLOY_CHAIN.split("---\napiVersion: v1\nkind: Pod")[0]
    (tmp_path / "d.yaml").write_text(only_workloads)
    m = load_offline([str(tmp_path)])
    # One derived pod for the Deployment; none for the ReplicaSet it owns.
    assert [(p.name, p.meta.derived) for p in m.pods] == [("api-derived", True)]
    pod = m.pods[0]
    assert pod.labels == {"app": "api"}
    assert pod.spec.resolve_named_port("http") is not None
    assert m.owner(pod) == WorkloadRef("Deployment", "pay", "api")


ENDPOINTS_ONLY = """\
apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: old}
spec: {selector: {app: legacy}, clusterIP: 10.96.7.7, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: legacy, namespace: old}
subsets:
- addresses: [{ip: 10.1.2.3, nodeName: n1, targetRef: {kind: Pod, name: legacy-1, namespace: old}}]
  notReadyAddresses: [{ip: 10.1.2.4, nodeName: n2}]
  ports: [{port: 8080, protocol: TCP}]
"""


def test_v1_endpoints_fallback_when_no_slice(tmp_path: Path) -> None:
    (tmp_path / "e.yaml").write_text(ENDPOINTS_ONLY)
    m = load_offline([str(tmp_path)])
    svc = m.service("old", "legacy")
    assert svc is not None and m.services_by_cluster_ip["10.96.7.7"] is svc
    (sl,) = m.slices_for(svc)
    assert sl.meta.derived
    assert [e.addresses for e in m.ready_endpoints(svc)] == [("10.1.2.3",)]
    assert [e.is_ready for e in sl.endpoints] == [True, False]


def test_namespace_label_default_and_duplicates(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {team: x}}\n"
    (tmp_path / "n.yaml").write_text(text)
    m = load_offline([str(tmp_path)])
    # The API server sets kubernetes.io/metadata.name on every namespace.
    assert m.namespaces["a"].labels == {"team": "x", "kubernetes.io/metadata.name": "a"}
    # A namespace absent from the input still answers with that label.
    assert m.namespace_labels("zzz") == {"kubernetes.io/metadata.name": "zzz"}
    assert any("duplicate" in p.message for p in m.problems)
