"""One rule finds the ingress controller's pods: the policy engine's ingress-controller peer,
ING810 and the trace's ingress hop read ``model.ingress_controllers`` and see the same pods.

Before, ``policy/ingress_controller.py`` had its own list: a Traefik labelled only
``app: traefik`` and the OpenShift router were the policy engine's controller, but ING810
and the trace did not see them (and so could not say they were down)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from checks.owner_chain import complete
from netsleuth.checks.base import load_all, run_checks
from netsleuth.facts.ingress_refs import controller_pods, serving_controller_pods
from netsleuth.policy import ingress_controller_endpoints
from netsleuth.policy.decision import PodEndpoint
from netsleuth.sources.load import load_offline
from netsleuth.trace.ingress_hops import controller_pods as trace_controller_pods


def _pod(
    ns: str,
    rs: str,
    suffix: str,
    labels: dict[str, str],
    *,
    ready: bool = True,
    phase: str = "Running",
) -> dict[str, Any]:
    status = "True" if ready else "False"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{rs}-{suffix}",
            "namespace": ns,
            "labels": {**labels, "pod-template-hash": rs.rsplit("-", 1)[1]},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs}],
        },
        "spec": {"nodeName": "worker-1", "containers": [{"name": "c", "image": "proxy:1"}]},
        "status": {
            "phase": phase,
            "podIP": f"10.244.1.{len(suffix) + len(rs)}",
            "conditions": [{"type": "Ready", "status": status}],
            "containerStatuses": [{"name": "c", "ready": ready, "restartCount": 0}],
        },
    }


def _namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
    }


def _ingress_class(name: str, controller: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": name},
        "spec": {"controller": controller},
    }


def _ingress(cls: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": f"via-{cls}", "namespace": "shop"},
        "spec": {
            "ingressClassName": cls,
            "rules": [{"host": f"{cls}.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}],
        },
    }  # fmt: skip


def _model(tmp_path: Path, *, traefik_ready: tuple[bool, ...] = (True,)) -> Any:
    nginx = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
    admission = {**nginx, "app.kubernetes.io/component": "admission-webhook"}
    objs = [
        *(_namespace(n) for n in ("ingress-nginx", "traefik", "openshift-ingress", "shop")),
        _pod("ingress-nginx", "ingress-nginx-controller-5d9f7c8b4", "x2k9p", nginx),
        # the admission Job's pod (here as a ReplicaSet's to keep the fixture small): not the proxy
        _pod("ingress-nginx", "ingress-nginx-admission-7f8d6c5b9", "q7w4e", admission),
        *(
            _pod("traefik", "traefik-6c7b9d8f5", f"t{i}abcd", {"app": "traefik"}, ready=r)
            for i, r in enumerate(traefik_ready)
        ),
        _pod(
            "openshift-ingress",
            "router-default-84f7c9d6b5",
            "r5t6y",
            {"ingresscontroller.operator.openshift.io/deployment-ingresscontroller": "default"},
        ),
        _ingress_class("nginx", "k8s.io/ingress-nginx"),
        _ingress_class("traefik", "traefik.io/ingress-controller"),
        _ingress("nginx"),
        _ingress("traefik"),
    ]
    doc = {"apiVersion": "v1", "kind": "List", "items": complete(objs)}
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(doc))
    return load_offline([str(tmp_path)])


def _names(pods: Any) -> set[str]:
    return {p.name for p in pods}


def test_policy_engine_scan_and_trace_see_the_same_controller_pods(tmp_path: Path) -> None:
    model = _model(tmp_path)
    found = controller_pods(model)
    assert sorted(found) == ["ingress-nginx", "openshift-router", "traefik"]
    every = {p.name for pods in found.values() for p in pods}
    assert "ingress-nginx-admission-7f8d6c5b9-q7w4e" not in every
    policy = ingress_controller_endpoints(model)
    assert all(isinstance(e, PodEndpoint) for e in policy)
    assert {e.pod.name for e in policy if isinstance(e, PodEndpoint)} == every
    # Per Ingress: its class's controller, for the policy peer and the trace's hop alike.
    for ing in model.ingresses:
        peer = {
            e.pod.name
            for e in ingress_controller_endpoints(model, ing)
            if isinstance(e, PodEndpoint)
        }
        assert (
            peer
            == _names(trace_controller_pods(model, ing))
            == _names(serving_controller_pods(model, ing))
        )
        want = "traefik" if ing.class_name == "traefik" else "ingress-nginx"
        assert peer == _names(found[want])


def test_a_traefik_labelled_app_only_that_is_down_is_reported(tmp_path: Path) -> None:
    model = _model(tmp_path, traefik_ready=(False, False))
    scan = run_checks(model, [load_all()["ING810"]])
    assert [(f.subject.ref(), f.severity.value) for f in scan.findings] == [
        ("Deployment/traefik/traefik", "error")
    ]
