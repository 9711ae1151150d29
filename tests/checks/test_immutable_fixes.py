"""Immutable fields say "recreate": no printed fix patches a field the API server refuses to
change on an existing object.

Every check's findings on every scenario, every check fixture and the demo, and
every trace hop of the scenarios and the demo's traces, are scanned: a
``kubectl patch`` command must not touch an immutable field
(:mod:`netsleuth.model.immutable`), a YAML snippet that does must say
"recreate", and a fix whose prose changes a field immutable on its object
(``loadBalancerClass``, ``clusterIP``, ``ipFamilies``, ``podCIDR``) must say
"recreate" (or re-register, for nodes).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from fixapply import build, collect

from netsleuth.checks.base import load_all, run_checks
from netsleuth.errors import NetsleuthError
from netsleuth.model.commands import Snippet, kubectl, merge_patch
from netsleuth.model.findings import Fix
from netsleuth.model.immutable import (
    command_changes_immutable,
    guard_fix,
    immutable_paths,
    snippet_changes_immutable,
)
from netsleuth.trace import trace

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
FIXTURES = ROOT / "tests" / "checks" / "fixtures"
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
INPUTS = (
    [p for p in sorted(SCENARIOS.iterdir()) if (p / "scenario.yaml").is_file()]
    + sorted(FIXTURES.glob("*/bad"))
    + sorted(FIXTURES.glob("*/good"))
    + [DEMO]
)

# Prose that changes a field immutable on its object: it must say how to recreate it.
IMMUTABLE_PROSE = re.compile(
    r"\b(?:remove|set|change|unset|switch|use)\b[^.;]*\b(?:loadBalancerClass|clusterIPs?|"
    r"ipFamilies|podCIDRs?)\b",
    re.IGNORECASE,
)
RECREATE = re.compile(r"recreat|re-register|re-join|replace --force", re.IGNORECASE)


# --------------------------------------------------------------------------- the table


@pytest.mark.parametrize(
    ("kind", "paths", "expected"),
    [
        ("Service", [("spec", "clusterIP")], ["spec.clusterIP"]),
        ("Service", [("spec", "selector", "app")], []),  # a Service selector may change
        ("Service", [("spec", "ipFamilies")], ["spec.ipFamilies[0]"]),  # merge replaces the list
        ("Service", [("spec", "ipFamilies", 1)], []),  # adding the secondary family is allowed
        ("Service", [("spec", "loadBalancerClass")], ["spec.loadBalancerClass"]),
        (
            "Service",
            [("spec",)],
            ["spec.clusterIP", "spec.clusterIPs", "spec.ipFamilies[0]", "spec.loadBalancerClass"],
        ),  # a whole-spec replace
        ("Deployment", [("spec", "selector", "matchLabels", "app")], ["spec.selector"]),
        ("Deployment", [("spec", "template", "metadata", "labels", "app")], []),
        ("StatefulSet", [("spec", "serviceName")], ["spec.serviceName"]),
        ("StatefulSet", [("spec", "template", "spec", "dnsPolicy")], []),
        ("Pod", [("spec", "containers", 0, "ports")], ["spec.containers[0].ports"]),
        ("Pod", [("spec", "containers", 0, "image")], []),
        ("PersistentVolumeClaim", [("spec", "storageClassName")], ["spec.storageClassName"]),
        ("PersistentVolumeClaim", [("spec", "resources", "requests", "storage")], []),
        ("Node", [("spec", "podCIDR")], ["spec.podCIDR"]),
        ("NetworkPolicy", [("spec", "podSelector")], []),
        ("ConfigMap", [("metadata", "name")], ["metadata.name"]),
    ],
)
def test_immutable_paths(kind: str, paths: list[Any], expected: list[str]) -> None:
    assert immutable_paths(kind, paths) == expected


def test_commands_and_snippets() -> None:
    assert command_changes_immutable(
        merge_patch("svc", "shop", "web", {"spec": {"clusterIP": "10.96.0.20"}})
    ) == ["spec.clusterIP"]
    assert command_changes_immutable(
        kubectl(
            "-n",
            "shop",
            "patch",
            "deployment/web",
            "--type",
            "json",
            "-p",
            '[{"op":"replace","path":"/spec/selector/matchLabels/app","value":"web2"}]',
        )
    ) == ["spec.selector"]
    # an RFC 6902 "test" changes nothing
    assert (
        command_changes_immutable(
            kubectl(
                "patch",
                "svc",
                "web",
                "--type",
                "json",
                "-p",
                '[{"op":"test","path":"/spec/clusterIP","value":"10.96.0.20"}]',
            )
        )
        == []
    )
    assert command_changes_immutable(kubectl("get", "svc", "web")) == []
    assert snippet_changes_immutable(
        "Deployment", Snippet({"spec": {"selector": {"matchLabels": {"app": "x"}}}})
    ) == ["spec.selector"]


def test_guard_turns_a_rejected_patch_into_recreate() -> None:
    fix = Fix(
        text="Use the default load balancer.",
        command=merge_patch("svc", "shop", "web", {"spec": {"loadBalancerClass": None}}),
    )
    guarded = guard_fix(fix, "Service", "Service/shop/web")
    assert guarded is not None and guarded.command is None
    assert "immutable" in guarded.text and "recreate Service/shop/web" in guarded.text
    ok = Fix(
        text="x", command=merge_patch("svc", "shop", "web", {"spec": {"selector": {"a": "b"}}})
    )
    assert guard_fix(ok, "Service", "Service/shop/web") is ok


# --------------------------------------------------------------------------- every printed fix


def _fixes() -> list[Any]:
    out: list[Any] = []
    checks = load_all()
    for folder in INPUTS:
        model = build(collect([str(folder)]))
        rel = folder.relative_to(ROOT)
        for f in run_checks(model, checks.values()).findings:
            if f.fix is not None:
                out.append(
                    pytest.param(f.fix, f.subject.kind, id=f"{rel}:{f.rule_id}:{f.subject.ref()}")
                )
        queries: list[dict[str, Any]] = []
        spec_file = folder / "scenario.yaml"
        if spec_file.is_file():
            t = (yaml.safe_load(spec_file.read_text()) or {}).get("trace")
            if isinstance(t, dict):
                queries.append(t)
        if folder == DEMO:
            faults = yaml.safe_load((DEMO / "faults.yaml").read_text()) or []
            queries += [f["trace"] for f in faults if isinstance(f.get("trace"), dict)]
        for q in queries:
            try:
                res = trace(model, str(q["src"]), str(q["dst"]), port=q.get("port"))
            except NetsleuthError:
                continue
            for n, hop in enumerate(res.hops):
                if hop.fix is not None:
                    kind = hop.change.kind if hop.change is not None else ""
                    out.append(pytest.param(hop.fix, kind, id=f"{rel}:trace:{n}:{hop.layer}"))
    return out


@pytest.mark.parametrize(("fix", "kind"), _fixes())
def test_no_printed_fix_patches_an_immutable_field(fix: Fix, kind: str) -> None:
    if fix.command is not None:
        assert command_changes_immutable(fix.command) == [], (
            f"the API server rejects this patch: {fix.command}"
        )
    if fix.snippet is not None and kind and snippet_changes_immutable(kind, fix.snippet):
        assert RECREATE.search(fix.text), f"snippet on an immutable field: {fix.text}"
    if IMMUTABLE_PROSE.search(fix.text):
        assert RECREATE.search(fix.text), (
            f"changes an immutable field without 'recreate': {fix.text}"
        )
