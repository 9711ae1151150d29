"""A policy the API server would reject never makes a verdict "allowed".

Read tolerantly, ``podSelector: {matchLabels: [app, api]}`` became "no labels"
(every pod), ``port: 70000`` was dropped (every port) and ``endPort < port``
was accepted: ``explain`` said allowed, ``diff`` reported a gain with exit 0
and its table did not show the load problem. Now such a policy is dropped
with a problem naming the field, and every verdict it could change (the
policy verdicts of its namespace's pods) is unknown.

Base cluster: ``healthy-cross-node`` (payments is default-deny; only
checkout-web reaches payments-api, on 8080). CoreDNS (kube-system, no policy)
is the client: no valid policy admits it to payments-api.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from netsleuth.cli import app
from netsleuth.cli.errors import EXIT_USAGE
from netsleuth.model.problems import Origin
from netsleuth.sources.base import RawObject
from netsleuth.sources.decode import decode
from netsleuth.sources.load import load_offline

ROOT = Path(__file__).resolve().parents[2]
HEALTHY = ROOT / "tests" / "scenarios" / "healthy-cross-node"
runner = CliRunner()


def _policy(name: str, spec: dict[str, object]) -> dict[str, object]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "payments"},
        "spec": spec,
    }


ALLOW_ALL_FROM = [{"from": [{"namespaceSelector": {}}]}]
INVALID = {
    # matchLabels as a list: read as {} it selected every pod of payments
    "selector-list": _policy(
        "allow-api",
        {"podSelector": {"matchLabels": ["app", "payments-api"]}, "ingress": ALLOW_ALL_FROM},
    ),
    # port 70000: dropped, the rule allowed every port
    "port-70000": _policy(
        "allow-api-metrics",
        {
            "podSelector": {"matchLabels": {"app": "payments-api"}},
            "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": 70000}]}],
        },
    ),
    # endPort below port: accepted before
    "endport-below-port": _policy(
        "allow-api-range",
        {
            "podSelector": {"matchLabels": {"app": "payments-api"}},
            "ingress": [
                {"from": [{"namespaceSelector": {}}], "ports": [{"port": 9000, "endPort": 8000}]}
            ],
        },
    ),
    # a quoted number is a port *name*, and not a valid one
    "quoted-port": _policy(
        "allow-api-quoted",
        {
            "podSelector": {"matchLabels": {"app": "payments-api"}},
            "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": "8080"}]}],
        },
    ),
    # lowercase protocol: the API enum is case-sensitive
    "protocol-case": _policy(
        "allow-api-tcp",
        {
            "podSelector": {"matchLabels": {"app": "payments-api"}},
            "ingress": [
                {"from": [{"namespaceSelector": {}}], "ports": [{"protocol": "tcp", "port": 8080}]}
            ],
        },
    ),
    # an unknown key in a port entry: read leniently, an empty entry allows every port
    "unknown-port-field": _policy(
        "allow-api-typo",
        {
            "podSelector": {"matchLabels": {"app": "payments-api"}},
            "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"prot": 8080}]}],
        },
    ),
}
FIELDS = {
    "selector-list": "spec.podSelector.matchLabels",
    "port-70000": "spec.ingress[0].ports[0].port",
    "endport-below-port": "spec.ingress[0].ports[0].endPort",
    "quoted-port": "spec.ingress[0].ports[0].port",
    "protocol-case": "spec.ingress[0].ports[0].protocol",
    "unknown-port-field": "spec.ingress[0].ports[0].prot",
}


def _cluster_with(tmp_path: Path, extra: dict[str, object] | None) -> Path:
    d = tmp_path / "cluster"
    shutil.copytree(HEALTHY, d)
    if extra is not None:
        (d / "extra-policy.yaml").write_text(yaml.safe_dump(extra))
    return d


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def explain_json(folder: Path, port: str) -> dict[str, object]:
    code, out = run(
        "explain",
        "kube-system/coredns",
        "payments/payments-api",
        "--port",
        port,
        "-f",
        str(folder),
        "-o",
        "json",
    )
    assert code == 0, out
    doc = json.loads(out)
    assert isinstance(doc, dict)
    return doc


def test_baseline_is_denied(tmp_path: Path) -> None:
    doc = explain_json(_cluster_with(tmp_path, None), "tcp/8080")
    assert doc["verdict"] == "denied" and doc["allowed"] is False


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_policy_is_dropped_and_verdict_unknown(case: str, tmp_path: Path) -> None:
    folder = _cluster_with(tmp_path, INVALID[case])
    model = load_offline([str(folder)])
    name = INVALID[case]["metadata"]["name"]  # type: ignore[index]
    assert all(p.name != name for p in model.network_policies)
    dropped = [p for p in model.problems if p.key == ("NetworkPolicy", "payments", name)]
    assert len(dropped) == 1 and FIELDS[case] in dropped[0].message, dropped
    for port in ("tcp/8080", "tcp/8500", "tcp/9999"):
        doc = explain_json(folder, port)
        assert doc["verdict"] == "unknown", (port, doc["verdict"])
        assert doc["allowed"] is None
        assert any(name in u for u in doc["unreadable_policy_resources"])  # type: ignore[union-attr]


def test_verdicts_of_other_namespaces_stay_known(tmp_path: Path) -> None:
    folder = _cluster_with(tmp_path, INVALID["selector-list"])
    code, out = run(
        "explain",
        "payments/payments-api",
        "kube-system/coredns",
        "--port",
        "udp/53",
        "-f",
        str(folder),
        "-o",
        "json",
    )
    # payments' own egress is decided by its (valid) policies... but its namespace is the gap
    assert json.loads(out)["verdict"] == "unknown"
    code, out = run(
        "explain",
        "checkout/checkout-web",
        "kube-system/coredns",
        "--port",
        "udp/53",
        "-f",
        str(folder),
        "-o",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["verdict"] == "allowed" and doc["unreadable_policy_resources"] == []


def test_trace_policy_hop_is_unknown(tmp_path: Path) -> None:
    folder = _cluster_with(tmp_path, INVALID["port-70000"])
    _, out = run(
        "trace",
        "checkout/checkout-web",
        "payments/payments-api",
        "--port",
        "8080",
        "-f",
        str(folder),
        "-o",
        "json",
    )
    doc = json.loads(out)
    assert doc["verdict"] == "unknown", doc["verdict"]
    hops = {h["layer"]: h for h in doc["hops"]}
    assert hops["policy-ingress"]["status"] == "unknown"
    assert "allow-api-metrics (invalid, left out)" in hops["policy-ingress"]["summary"]
    assert any(
        "get networkpolicy -n payments allow-api-metrics" in c
        for c in hops["policy-ingress"]["confirm"]
    )


def test_diff_reports_no_gain_shows_the_problem_and_fails(tmp_path: Path) -> None:
    before = _cluster_with(tmp_path / "a", None)
    after = _cluster_with(tmp_path / "b", INVALID["selector-list"])
    code, out = run("diff", str(before), str(after))
    assert code == EXIT_USAGE, out
    assert not any(line.strip().startswith("gained") for line in out.splitlines()), out
    assert "0 lost, 0 gained, 0 changed" in out
    assert "Input problems" in out and "invalid NetworkPolicy" in out
    assert "spec.podSelector.matchLabels" in out
    code, md = run("diff", str(before), str(after), "-o", "md")
    assert code == EXIT_USAGE
    assert "invalid NetworkPolicy" in md and "| gained |" not in md
    code, js = run("diff", str(before), str(after), "-o", "json")
    doc = json.loads(js)
    assert doc["gained"] == [] and doc["notes"] and doc["problems"]


def test_connectivity_holds_back_the_namespace(tmp_path: Path) -> None:
    folder = _cluster_with(tmp_path, INVALID["selector-list"])
    code, out = run("connectivity", "-f", str(folder), "-o", "json")
    assert code == 0
    doc = json.loads(out)
    for c in doc["connections"]:
        assert "payments" not in (c["src"].get("namespace"), c["dst"].get("namespace")), c
    assert any("payments" in n for n in doc["notes"])
    code, table = run("connectivity", "-f", str(folder))
    assert "unknown, not listed" in table and "invalid NetworkPolicy" in table


def test_null_namespace_selector_is_absent_not_all_namespaces() -> None:
    raw = _policy(
        "p",
        {
            "podSelector": {},
            "ingress": [
                {"from": [{"namespaceSelector": None, "podSelector": {"matchLabels": {"a": "b"}}}]}
            ],
        },
    )
    obj, problems = decode(RawObject(data=raw, origin=Origin(file="x.yaml")))
    assert not problems
    peer = obj.ingress[0].peers[0]  # type: ignore[union-attr]
    assert peer.namespace_selector is None and peer.pod_selector is not None


NCA_BAD = Path("network-config-analyzer/tests/k8s_testcases/network-policy-checks-bad-path")
# NCA's checks are stricter than the API server in these cases; netsleuth follows the API server.
NCA_STRICTER = {
    "metadata_wrong_keys": "an unknown metadata field changes no policy meaning",
    "spec_empty_map": "spec: {} is valid: podSelector defaults to {} (every pod, ingress isolated)",
    "spec_podselector_does_not_exist": "a missing podSelector is the empty selector",
    "spec_podselector_has_no_value": "podSelector: null is the empty selector",
    "spec_podselector_null": "podSelector: null is the empty selector",
    "spec_policytypes_missing_egress": "egress rules with policyTypes [Ingress] are accepted (and ignored)",
    "spec_policytypes_missing_ingress": "ingress rules with policyTypes [Egress] are accepted (and ignored)",
}


def test_nca_bad_path_policies_are_rejected(corpus_dir: Path) -> None:
    """NCA's bad-path suite: each policy NCA rejects is dropped, unless NCA is stricter than the API."""
    d = corpus_dir / NCA_BAD
    scheme = yaml.safe_load((d / "network-policy-check-bad-path-scheme.yaml").read_text())
    seen = set()
    for cfg in scheme["networkConfigList"]:
        name = cfg["name"]
        model = load_offline([str(d / f) for f in cfg["networkPolicyList"]])
        dropped = (
            bool([p for p in model.problems if p.skipped in ("object", "document")])
            or not model.network_policies
        )
        want = bool(cfg.get("expectedError", 0))
        if name in NCA_STRICTER:
            seen.add(name)
            assert want and not dropped, f"{name} is now rejected: drop it from NCA_STRICTER"
            continue
        assert dropped == want, name
    assert seen == set(NCA_STRICTER)
