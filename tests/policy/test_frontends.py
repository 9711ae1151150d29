"""The ingress-controller pseudo-peer for Ingress, Gateway API routes and OpenShift Routes.

Traffic for these objects reaches the backend pods from a controller whose
pods are not in the input: the pseudo-peer ``{ingress-controller}``, a pod
of an unknown namespace with unknown labels (only ``namespaceSelector: {}``
or an "any peer" rule admits it), reaching each backend on the pod port the
object sends to and nothing else.

Ports, from each API:
- Gateway API ``backendRefs[].port`` is the Service port; traffic lands on
  its ``targetPort`` (https://gateway-api.sigs.k8s.io/reference/spec/#backendref);
  a Service in another namespace needs a ReferenceGrant there.
- OpenShift Route ``spec.port.targetPort`` keeps the endpoints whose port name
  (= the Service port's name) or number (= the pod port) equals it; without
  ``port`` every Service port is used (openshift/router ``endpointsForAlias``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from netsleuth.policy.connlist import connectivity
from netsleuth.sources import load_offline

OPENSHIFT_LABEL = "ingresscontroller.operator.openshift.io/deployment-ingresscontroller"
BASE: list[dict[str, Any]] = [
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop"}},
    },
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "edge", "labels": {"kubernetes.io/metadata.name": "edge"}},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx",
                            "ports": [
                                {"name": "http", "containerPort": 8080},
                                {"name": "metrics", "containerPort": 9090},
                            ],
                        }
                    ]
                },
            },
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [
                {"name": "web-http", "port": 80, "targetPort": "http"},
                {"name": "metrics", "port": 9090, "targetPort": 9090},
            ],
        },
    },
]


def policy(from_: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web-ingress", "namespace": "shop"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": from_}]},
    }


ANY_NAMESPACE = policy([{"namespaceSelector": {}}])


def os_route(port: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"to": {"kind": "Service", "name": "web", "weight": 100}, **extra}
    if port is not None:
        spec["port"] = port
    return {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": spec,
    }


def http_route(ns: str, port: int = 80) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "parentRefs": [{"name": "gw", "namespace": "edge"}],
            "rules": [{"backendRefs": [{"name": "web", "namespace": "shop", "port": port}]}],
        },
    }


def pseudo_lines(tmp_path: Path, docs: list[dict[str, Any]]) -> list[str]:
    f = tmp_path / "in.yaml"
    f.write_text(yaml.safe_dump_all([*BASE, *docs]))
    model = load_offline([str(f)])
    return [
        f"{c.dst.describe()} : {c.conn_text()}"
        for c in connectivity(model)
        if c.src.kind == "pseudo"
    ]


def test_route_target_port_by_service_port_name(tmp_path: Path) -> None:
    # web-http is the Service port whose targetPort is the pod's "http" (8080)
    assert pseudo_lines(tmp_path, [ANY_NAMESPACE, os_route({"targetPort": "web-http"})]) == [
        "shop/web[Deployment] : TCP 8080"
    ]


def test_route_target_port_by_number(tmp_path: Path) -> None:
    assert pseudo_lines(tmp_path, [ANY_NAMESPACE, os_route({"targetPort": 9090})]) == [
        "shop/web[Deployment] : TCP 9090"
    ]


def test_route_without_port_uses_every_service_port(tmp_path: Path) -> None:
    assert pseudo_lines(tmp_path, [ANY_NAMESPACE, os_route(None)]) == [
        "shop/web[Deployment] : TCP 8080,9090"
    ]


def test_route_backend_with_weight_zero_gets_nothing(tmp_path: Path) -> None:
    route = os_route(None)
    route["spec"]["to"]["weight"] = 0
    assert pseudo_lines(tmp_path, [ANY_NAMESPACE, route]) == []


def test_route_blocked_by_a_namespace_label_policy(tmp_path: Path) -> None:
    """The router's namespace is not in the input: a policy naming its labels does not
    match the pseudo-peer (only namespaceSelector: {} would)."""
    only_edge = policy([{"namespaceSelector": {"matchLabels": {"team": "edge"}}}])
    assert pseudo_lines(tmp_path, [only_edge, os_route(None)]) == []


def test_http_route_lands_on_the_target_port(tmp_path: Path) -> None:
    assert pseudo_lines(tmp_path, [ANY_NAMESPACE, http_route("shop")]) == [
        "shop/web[Deployment] : TCP 8080"
    ]


def test_cross_namespace_http_route_needs_a_reference_grant(tmp_path: Path) -> None:
    assert pseudo_lines(tmp_path, [ANY_NAMESPACE, http_route("edge")]) == []
    grant = {
        "apiVersion": "gateway.networking.k8s.io/v1beta1",
        "kind": "ReferenceGrant",
        "metadata": {"name": "from-edge", "namespace": "shop"},
        "spec": {
            "from": [
                {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "edge"}
            ],
            "to": [{"group": "", "kind": "Service"}],
        },
    }
    assert pseudo_lines(tmp_path, [ANY_NAMESPACE, http_route("edge"), grant]) == [
        "shop/web[Deployment] : TCP 8080"
    ]


def test_router_pods_in_the_input_replace_the_pseudo_peer(tmp_path: Path) -> None:
    router = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "router-default-1",
            "namespace": "edge",
            "labels": {OPENSHIFT_LABEL: "default"},
        },
        "spec": {"containers": [{"name": "router", "image": "router"}]},
    }
    assert pseudo_lines(tmp_path, [ANY_NAMESPACE, os_route(None), router]) == []
