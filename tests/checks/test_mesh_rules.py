"""Istio injection and host resolution rules (MESH901-MESH904) as tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from netsleuth.checks.base import load_all
from netsleuth.checks.rules.mesh_host_matches_no_service import resolve_host
from netsleuth.facts.mesh_membership import effective_mtls, injection
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import CustomObject, Meta, Namespace, Pod
from netsleuth.sources.load import load_offline

FIXTURES = Path(__file__).parent / "fixtures"


def _model_with_ns(labels: dict[str, str]) -> ClusterModel:
    return ClusterModel(namespaces={"shop": Namespace(meta=Meta(name="shop", labels=labels))})


@pytest.mark.parametrize(
    ("ns_labels", "pod_labels", "pod_ann", "expected"),
    [
        ({}, {}, {}, None),  # nothing asks for a sidecar
        ({"istio-injection": "enabled"}, {}, {}, True),
        ({"istio.io/rev": "1-23"}, {}, {}, True),  # revision-based injection
        ({}, {"sidecar.istio.io/inject": "true"}, {}, True),  # the pod label alone injects
        (
            {"istio-injection": "enabled"},
            {"sidecar.istio.io/inject": "false"},
            {},
            False,
        ),  # pod opt-out wins
        (
            {"istio-injection": "enabled"},
            {},
            {"sidecar.istio.io/inject": "false"},
            False,
        ),  # older annotation
        (
            {"istio-injection": "disabled"},
            {"sidecar.istio.io/inject": "true"},
            {},
            False,
        ),  # any "disabled" wins
    ],
)
def test_injection_rules(
    ns_labels: dict[str, str],
    pod_labels: dict[str, str],
    pod_ann: dict[str, str],
    expected: bool | None,
) -> None:
    pod = Pod(meta=Meta(name="p", namespace="shop", labels=pod_labels, annotations=pod_ann))
    assert injection(_model_with_ns(ns_labels), pod).expected is expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("reviews", ("reviews", "shop")),  # short name: the rule's namespace
        ("reviews.prod.svc.cluster.local", ("reviews", "prod")),
        ("reviews.prod.svc", ("reviews", "prod")),
        ("reviews.prod", None),  # not expanded by Istio: treated as an external FQDN
        ("api.example.com", None),
        ("*.shop.svc.cluster.local", None),  # wildcards are not judged
        ("reviews.prod.svc.corp.local", None),  # another cluster domain than ours
    ],
)
def test_resolve_host(host: str, expected: tuple[str, str] | None) -> None:
    assert resolve_host(host, "shop", "cluster.local") == expected


def _pa(name: str, ns: str, mode: str, selector: dict[str, str] | None = None) -> CustomObject:
    spec: dict[str, object] = {"mtls": {"mode": mode}}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    return CustomObject(
        api_version="security.istio.io/v1",
        kind="PeerAuthentication",
        meta=Meta(name=name, namespace=ns),
        spec=spec,
    )


def test_effective_mtls_most_specific_wins() -> None:
    pod = Pod(meta=Meta(name="orders-1", namespace="shop", labels={"app": "orders"}))
    mesh = ClusterModel(custom=(_pa("default", "istio-system", "STRICT"),))
    assert effective_mtls(mesh, pod).mode == "STRICT"
    ns_override = ClusterModel(
        custom=(_pa("default", "istio-system", "STRICT"), _pa("default", "shop", "PERMISSIVE"))
    )
    assert effective_mtls(ns_override, pod).mode == "PERMISSIVE"
    workload = ClusterModel(
        custom=(
            _pa("default", "shop", "PERMISSIVE"),
            _pa("orders", "shop", "STRICT", {"app": "orders"}),
        )
    )
    assert effective_mtls(workload, pod).mode == "STRICT"
    assert effective_mtls(ClusterModel(), pod).mode == "PERMISSIVE"  # Istio's default


def test_mesh903_mesh_wide_strict_from_istio_system() -> None:
    base = load_offline([str(FIXTURES / "MESH903" / "good")])
    custom = (
        *tuple(c for c in base.custom if c.kind != "PeerAuthentication"),
        _pa("default", "istio-system", "STRICT"),
    )
    (f,) = load_all()["MESH903"].execute(replace(base, custom=custom))
    assert "mesh-wide" in f.message and "legacy/cron-55d6-a" in f.message


def test_mesh903_needs_evidence_of_a_call() -> None:
    """A non-mesh pod that never names the Service is not taken as a client."""
    base = load_offline([str(FIXTURES / "MESH903" / "bad")])
    pods = tuple(
        p
        if p.name != "cron-55d6-a"
        else replace(
            p, spec=replace(p.spec, containers=tuple(replace(c, env=()) for c in p.spec.containers))
        )
        for p in base.pods
    )
    assert list(load_all()["MESH903"].execute(replace(base, pods=pods))) == []


def test_mesh903_ambient_clients_are_in_the_mesh() -> None:
    """A client namespace in Istio ambient mode speaks mTLS through ztunnel, without a sidecar."""
    base = load_offline([str(FIXTURES / "MESH903" / "bad")])
    legacy = base.namespaces["legacy"]
    namespaces = {
        **base.namespaces,
        "legacy": replace(
            legacy,
            meta=replace(
                legacy.meta, labels={**legacy.labels, "istio.io/dataplane-mode": "ambient"}
            ),
        ),
    }
    assert list(load_all()["MESH903"].execute(replace(base, namespaces=namespaces))) == []
