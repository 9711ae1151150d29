"""``explain`` as a JSON document (stable keys; endpoints as names, not whole pods)."""

from __future__ import annotations

from typing import Any

from netsleuth.policy.decision import (
    DirectionDecision,
    DirectionPorts,
    Endpoint,
    IngressControllerEndpoint,
    IPEndpoint,
    PeerMiss,
    PodEndpoint,
    RuleMatch,
    TierDecision,
)
from netsleuth.policy.explain import ExplainReport
from netsleuth.policy.provenance import direction_lines, explain_text
from netsleuth.render.jsonout import dumps_json, problems_json
from netsleuth.render.output import Output


def endpoint_json(ep: Endpoint) -> dict[str, Any]:
    if isinstance(ep, PodEndpoint):
        return {
            "kind": "pod",
            "namespace": ep.pod.namespace,
            "name": ep.pod.name,
            "ips": list(ep.pod.pod_ips),
            "host_network": ep.pod.host_network,
            "derived": ep.pod.meta.derived,
        }
    if isinstance(ep, IPEndpoint):
        if ep.label:  # 'external' without an address: see the document's "external" key
            return {"kind": "external", "ip": None, "label": ep.label}
        return {"kind": "ip", "ip": ep.ip}
    assert isinstance(ep, IngressControllerEndpoint)
    return {"kind": "ingress-controller", "ingress_class": ep.ingress_class, "ip": ep.ip}


def _match(m: RuleMatch) -> dict[str, Any]:
    return {
        "policy": m.policy.describe(),
        "rule": m.rule,
        "peer": m.peer,
        "port": m.port,
        "rule_name": m.rule_name,
        "action": m.action,
        "text": m.describe(),
    }


def _miss(m: PeerMiss) -> dict[str, Any]:
    return {
        "policy": m.policy.describe(),
        "rule": m.rule,
        "peer": m.peer,
        "rule_name": m.rule_name,
        "reason": m.reason,
    }


def _tier(t: TierDecision | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "tier": t.tier,
        "action": t.action,
        "rule": _match(t.rule) if t.rule is not None else None,
        "subjects": [r.describe() for r in t.subjects],
        "misses": [_miss(m) for m in t.misses],
    }


def _direction(d: DirectionDecision) -> dict[str, Any]:
    return {
        "allowed": d.allowed,
        "isolated": d.isolated,
        "decided_by": d.decided_by,
        "reason": d.reason,
        "selecting": [r.describe() for r in d.selecting],
        "allowed_by": [_match(m) for m in d.allowed_by],
        "misses": [_miss(m) for m in d.misses],
        "admin": _tier(d.admin),
        "baseline": _tier(d.baseline),
        "lines": direction_lines(d),
    }


def _ports_side(d: DirectionPorts) -> dict[str, Any]:
    return {
        "allowed": {p: s.describe() for p, s in d.allowed.items()},
        "isolated": d.isolated,
        "selecting": [r.describe() for r in d.selecting],
        "decided_by": list(d.decided_by),
        "allowed_by": [_match(m) for m in d.allowed_by],
        "reasons": list(d.reasons),
        "misses": [_miss(m) for m in d.misses],
    }


def explain_document(report: ExplainReport, problems: list[dict[str, object]]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "src": endpoint_json(report.src),
        "dst": endpoint_json(report.dst),
        "notes": list(report.notes),
        # null when policy kinds could not be read: the computed answer is not a verdict
        "allowed": None if report.verdict == "unknown" else report.allowed,
        "verdict": report.verdict,
        "unreadable_policy_resources": list(report.unreadable),
        "undetermined": report.undetermined or None,
        "external": report.external,
    }
    if report.decision is not None:
        d = report.decision
        doc.update(
            mode="port",
            protocol=d.protocol,
            port=d.port,
            egress=_direction(d.egress),
            ingress=_direction(d.ingress),
            lines=explain_text(d),
        )
    else:
        pd = report.ports
        assert pd is not None
        doc.update(
            mode="all-ports",
            egress=_ports_side(pd.egress),
            ingress=_ports_side(pd.ingress),
            combined={p: s.describe() for p, s in pd.combined.items()},
            unresolved_named_ports=list(pd.unresolved_named_ports),
        )
    doc["problems"] = problems
    return doc


def explain_json(report: ExplainReport, out: Output) -> None:
    """``explain -o json``."""
    out.write(dumps_json(explain_document(report, problems_json(report.problems))))
