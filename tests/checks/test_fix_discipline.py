"""Fix discipline: every printed fix targets the attributed object, is not a no-op on the input,
and never widens policy or mesh scope beyond the pair in question.

For every scenario, every bad check fixture and the demo: each finding's fix is
applied to the input as the API server would (``fixapply``), the model is
rebuilt and the check re-run: the finding must be gone. Fixes that touch a
NetworkPolicy are also held to the connectivity they change: a connection that
becomes allowed must involve the pods of the patched policy (NetworkPolicies
are additive, so nothing another policy decides may change), and DNS fixes may
only open DNS to CoreDNS. Trace hops are held to the same: a broken hop's fix
command targets the hop's object to change, and a policy snippet applied to it
repairs the path while allowing nothing beyond the traced pair (and DNS).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from fixapply import NotSimulated, apply_command, apply_snippet, build, collect, target_of

from netsleuth.checks.base import load_all, run_checks
from netsleuth.facts.attribution import workload_of
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Subject, Verdict
from netsleuth.policy.connlist import connectivity, diff
from netsleuth.trace import trace

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
FIXTURES = ROOT / "tests" / "checks" / "fixtures"
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
CHECKS = load_all()

# Fixes whose effect is on running processes or nodes, not on objects: they cannot be
# re-run on a model. Each must still name its object (checked below by kind of command).
# Commands run on a node (ip route, modprobe, sysctl: printed with "# as root on <node>")
# change no Kubernetes object, so the model cannot replay them.
NOT_ON_OBJECTS = ("rollout restart", "delete pod", "sysctl", "edit configmap", "# as root on ")

INPUTS = (
    [p for p in sorted(SCENARIOS.iterdir()) if (p / "scenario.yaml").is_file()]
    + sorted(FIXTURES.glob("*/bad"))
    + [DEMO]
)


def _id(p: Path) -> str:
    return str(p.relative_to(ROOT))


def _fixable(folder: Path) -> list[tuple[Path, Finding]]:
    model = build(collect([str(folder)]))
    result = run_checks(model, CHECKS.values())
    return [
        (folder, f)
        for f in result.findings
        if f.fix is not None and (f.fix.command or f.fix.snippet)
    ]


CASES = [
    pytest.param(folder, f, id=f"{_id(folder)}:{f.rule_id}:{f.subject.ref()}")
    for folder in INPUTS
    for folder, f in _fixable(folder)
]


def _still_there(model: ClusterModel, f: Finding) -> list[Finding]:
    return [
        g
        for g in run_checks(model, [CHECKS[f.rule_id]]).findings
        if g.rule_id == f.rule_id and g.subject == f.subject
    ]


def _selected_workloads(model: ClusterModel, policy: Subject) -> set[str]:
    pol = next(p for p in model.policies_in(policy.namespace or "") if p.name == policy.name)
    return {
        workload_of(model, p).ref()
        for p in model.pods_by_namespace.get(pol.namespace, ())
        if pol.pod_selector.matches(p.labels)
    }


def _peer_ref(peer: Any) -> str:
    kind = getattr(peer, "kind", None)
    ns = getattr(peer, "namespace", None)
    name = getattr(peer, "name", None)
    return f"{kind}/{ns}/{name}" if kind and name else str(peer)


@pytest.mark.parametrize(("folder", "finding"), CASES)
def test_fix_targets_its_object_and_removes_the_finding(folder: Path, finding: Finding) -> None:
    fix = finding.fix
    assert fix is not None
    items = collect([str(folder)])
    if fix.command is not None:
        target = target_of(fix.command)
        text = str(fix.command)
        if target is None:
            assert any(v in text for v in NOT_ON_OBJECTS), f"unexpected command: {text}"
            pytest.skip(f"acts on processes or nodes, not objects: {text}")
        assert target == finding.subject, (
            f"the fix changes {target.ref()}, the finding names {finding.subject.ref()}"
        )
        try:
            after = apply_command(items, fix.command)
        except NotSimulated as exc:
            pytest.skip(str(exc))
    else:
        assert fix.snippet is not None
        after = apply_snippet(items, finding.subject, fix.snippet)
    before_model, after_model = build(items), build(after)
    assert not _still_there(after_model, finding), (
        f"applying the fix left the finding in place (a no-op on the input): {fix.command or fix.snippet}"
    )
    if finding.subject.kind == "NetworkPolicy":
        selected = _selected_workloads(after_model, finding.subject)
        d = diff(connectivity(before_model), connectivity(after_model))
        for c in (*d.gained, *(new for _, new in d.changed)):
            src, dst = _peer_ref(c.src), _peer_ref(c.dst)
            assert src in selected or dst in selected, (
                f"{finding.rule_id}'s fix to {finding.subject.ref()} allows {src} -> {dst}, "
                "which that policy does not select: it overrides what another policy decides"
            )


def _trace_cases() -> list[Any]:
    out = []
    for spec_file in sorted(SCENARIOS.glob("*/scenario.yaml")):
        spec = yaml.safe_load(spec_file.read_text()) or {}
        t = spec.get("trace")
        if isinstance(t, dict) and t.get("src") != "external":
            out.append(pytest.param(spec_file.parent, t, id=spec_file.parent.name))
    return out


@pytest.mark.parametrize(("folder", "query"), _trace_cases())
def test_trace_fixes_target_the_hop_object_and_stay_within_the_pair(
    folder: Path, query: dict[str, Any]
) -> None:
    items = collect([str(folder)])
    model = build(items)
    res = trace(model, str(query["src"]), str(query["dst"]), port=query.get("port"))
    for hop in res.hops:
        if hop.status is not Verdict.BROKEN or hop.fix is None:
            continue
        if hop.fix.command is not None and hop.change is not None:
            target = target_of(hop.fix.command)
            if target is not None:
                assert target == hop.change, (
                    f"{hop.layer}: the fix changes {target.ref()}, the hop names {hop.change.ref()}"
                )
        if (
            hop.fix.snippet is not None
            and hop.change is not None
            and hop.change.kind == "NetworkPolicy"
        ):
            after = build(apply_snippet(items, hop.change, hop.fix.snippet))
            res2 = trace(after, str(query["src"]), str(query["dst"]), port=query.get("port"))
            assert not any(
                h.status is Verdict.BROKEN and h.summary == hop.summary for h in res2.hops
            ), f"the {hop.layer} fix did not repair what the hop reports"
            src = workload_of(model, _pod(model, str(query["src"])))
            d = diff(connectivity(model), connectivity(after))
            for c in (*d.gained, *(new for _, new in d.changed)):
                ends = {_peer_ref(c.src), _peer_ref(c.dst)}
                dns = any("coredns" in e for e in ends)
                assert src.ref() in ends or dns, (
                    f"the {hop.layer} fix allows {ends}, beyond the traced pair"
                )


def _pod(model: ClusterModel, ref: str) -> Any:
    ns, name = ref.split("/", 1)
    for p in model.pods_by_namespace.get(ns, ()):
        if workload_of(model, p).name == name or p.name == name:
            return p
    raise LookupError(ref)
