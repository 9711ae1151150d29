"""Table tests for the Service/EndpointSlice/targetPort checks beyond the fixtures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netsleuth.checks.base import load_all, run_checks
from netsleuth.model.findings import Finding, Severity
from netsleuth.sources.load import load_offline

sys.path.insert(0, str(Path(__file__).parent))
from fixture_builders import namespace, port, svc_port
from make_fixtures import app

Obj = dict[str, Any]


def scan(tmp_path: Path, objs: list[Obj], *ids: str) -> list[Finding]:
    (tmp_path / "c.yaml").write_text("---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objs))
    model = load_offline([str(tmp_path)])
    return list(run_checks(model, [load_all()[i] for i in ids]).findings)


def test_named_target_port_needs_the_same_protocol(tmp_path: Path) -> None:
    # the pod names its UDP port "dns"; a TCP Service port targeting "dns" resolves to nothing
    objs = app(
        "resolver",
        ports=[port(5353, "dns", "UDP")],
        svc_ports=[svc_port(53, "dns", "dns-tcp", "TCP")],
    )
    [f] = scan(tmp_path, objs, "SVC203")
    assert "'dns' (TCP)" in f.message and f.severity is Severity.ERROR


def test_numeric_string_target_port_is_a_number(tmp_path: Path) -> None:
    objs = app("web", ports=[port(8080, "http")], svc_ports=[svc_port(80, "8080", "http")])
    assert scan(tmp_path, objs, "SVC203", "SVC204") == []


def test_pods_without_declared_ports_are_not_judged_for_numbers(tmp_path: Path) -> None:
    objs = app("web", ports=[], svc_ports=[svc_port(80, 9999, "http")])
    assert scan(tmp_path, objs, "SVC204") == []


def test_publish_not_ready_addresses(tmp_path: Path) -> None:
    objs = app("db", ready=[False, False], svc_extra={"publishNotReadyAddresses": True})
    assert scan(tmp_path, objs, "SVC202", "SVC206") == []


def test_selector_near_miss_is_named(tmp_path: Path) -> None:
    objs = app("cart", svc_selector={"app": "cart", "tier": "backend"})
    [f] = scan(tmp_path, objs, "SVC201")
    assert "differs only in tier=<absent>" in f.message


@pytest.mark.parametrize(
    ("spec", "severity"),
    [
        ({"externalName": "10.1.2.3"}, Severity.ERROR),
        ({"externalName": "cart.shop.svc.cluster.local"}, Severity.WARNING),
        (
            {"externalName": "db.example.com", "ports": [{"port": 5432, "protocol": "TCP"}]},
            Severity.INFO,
        ),
        ({"externalName": "db.example.com"}, None),
    ],
)
def test_externalname(tmp_path: Path, spec: Obj, severity: Severity | None) -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "alias", "namespace": "shop"},
        "spec": {"type": "ExternalName", **spec},
    }
    found = scan(tmp_path, [namespace("shop"), svc], "SVC210")
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_external_traffic_local_on_load_balancer_is_info(tmp_path: Path) -> None:
    objs = app("gw", replicas=1, svc_extra={"externalTrafficPolicy": "Local"})
    for o in objs:
        if o["kind"] == "Service":
            o["spec"]["type"] = "LoadBalancer"
    [f] = scan(tmp_path, objs, "SVC208")
    assert f.severity is Severity.INFO and "health check" in f.message
