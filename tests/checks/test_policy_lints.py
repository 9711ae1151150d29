"""Table tests for the policy lints' semantics, beyond the bad/good fixtures."""

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
from fixture_builders import network_policy
from make_fixtures import DNS_PEER, app, system

Obj = dict[str, Any]
UDP_TCP_53 = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def scan(tmp_path: Path, objs: list[Obj], *ids: str) -> list[Finding]:
    (tmp_path / "c.yaml").write_text("---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objs))
    model = load_offline([str(tmp_path)])
    checks = [load_all()[i] for i in ids]
    return list(run_checks(model, checks).findings)


def deny_egress_with(rule: Obj | None) -> Obj:
    return network_policy(
        "egress", "shop", {}, egress=[rule] if rule else [], policy_types=["Egress"]
    )


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # the correct rule: namespace AND pod selector in one peer, UDP and TCP
        ({"to": [DNS_PEER], "ports": UDP_TCP_53}, None),
        # split peers: a podSelector peer alone means pods of the policy's own namespace (shop)
        (
            {
                "to": [{"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": UDP_TCP_53,
            },
            ("POL303", Severity.ERROR),
        ),
        # a namespaceSelector peer alone is broader than needed, but works
        (
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                        }
                    }
                ],
                "ports": UDP_TCP_53,
            },
            None,
        ),
        # UDP only: lookups work, TCP fallback for truncated answers does not
        (
            {"to": [DNS_PEER], "ports": [{"protocol": "UDP", "port": 53}]},
            ("POL303", Severity.WARNING),
        ),
        # ports only, any destination: DNS allowed
        ({"ports": UDP_TCP_53}, None),
        # a rule for something else entirely: POL302, not POL303
        (
            {
                "to": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                "ports": [{"protocol": "TCP", "port": 5432}],
            },
            ("POL302", Severity.ERROR),
        ),
    ],
)
def test_dns_egress(tmp_path: Path, rule: Obj, expected: tuple[str, Severity] | None) -> None:
    found = scan(
        tmp_path, [*system(), *app("cart", nodes=False), deny_egress_with(rule)], "POL302", "POL303"
    )
    got = [(f.rule_id, f.severity) for f in found]
    assert got == ([expected] if expected else [])


def test_dns_rule_for_service_port_when_coredns_listens_elsewhere(tmp_path: Path) -> None:
    """Policies see the pod port after DNAT: allowing 53 does not admit CoreDNS listening on 5353."""
    objs = system()
    for o in objs:
        if o["kind"] in ("Pod", "Deployment") and o["metadata"]["name"].startswith("coredns"):
            spec = o["spec"] if o["kind"] == "Pod" else o["spec"]["template"]["spec"]
            for p in spec["containers"][0]["ports"]:
                if p["containerPort"] == 53:
                    p["containerPort"] = 5353
    found = scan(
        tmp_path,
        [
            *objs,
            *app("cart", nodes=False),
            deny_egress_with({"to": [DNS_PEER], "ports": UDP_TCP_53}),
        ],
        "POL302",
        "POL303",
    )
    [f] = found
    assert (f.rule_id, f.severity) == ("POL303", Severity.ERROR)
    assert "UDP 5353 denied" in f.message


def test_policy_for_other_pods_does_not_isolate(tmp_path: Path) -> None:
    pol = network_policy(
        "egress", "shop", {"matchLabels": {"app": "other"}}, egress=[], policy_types=["Egress"]
    )
    assert scan(tmp_path, [*system(), *app("cart", nodes=False), pol], "POL302", "POL303") == []


def test_host_network_and_default_dns_pods_are_not_judged(tmp_path: Path) -> None:
    objs = [*system(), *app("cart", nodes=False), deny_egress_with(None)]
    for o in objs:
        if o["kind"] == "Pod" and o["metadata"]["name"].startswith("cart"):
            o["spec"]["dnsPolicy"] = "Default"
    assert scan(tmp_path, objs, "POL302") == []


def test_redundant_identical_rules_reported_once(tmp_path: Path) -> None:
    rule = {
        "from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
        "ports": [{"protocol": "TCP", "port": 8080}],
    }
    pol = network_policy("p", "shop", {"matchLabels": {"app": "cart"}}, ingress=[rule, dict(rule)])
    found = scan(tmp_path, [*app("cart"), pol], "POL307")
    assert [f.message.split(" is redundant")[0] for f in found] == ["shop/p ingress rule #2"]


def test_port_range_containment(tmp_path: Path) -> None:
    narrow = {"ports": [{"protocol": "TCP", "port": 8080}]}
    wide = {"ports": [{"protocol": "TCP", "port": 8000, "endPort": 9000}]}
    udp = {"ports": [{"protocol": "UDP", "port": 8000, "endPort": 9000}]}
    assert (
        len(
            scan(
                tmp_path,
                [*app("cart"), network_policy("p", "shop", {}, ingress=[narrow, wide])],
                "POL307",
            )
        )
        == 1
    )
    assert (
        scan(
            tmp_path,
            [*app("cart"), network_policy("p", "shop", {}, ingress=[narrow, udp])],
            "POL307",
        )
        == []
    )


def test_named_target_port_allowed_by_name(tmp_path: Path) -> None:
    """A rule naming the container port (`port: http`) follows the pod: no POL305."""
    rule = {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": "http"}]}
    pol = network_policy("p", "shop", {"matchLabels": {"app": "cart"}}, ingress=[rule])
    assert scan(tmp_path, [*app("cart"), pol], "POL305") == []
