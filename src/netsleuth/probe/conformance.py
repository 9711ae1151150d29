"""Predicted versus observed: the policy engine's verdicts checked with real packets.

For every ordered pair of lab pods (source running, destination built) and
every port the destination serves (its containerPorts and the numeric
targetPorts of Services selecting it; DNS pods on UDP and TCP 53), the
engine predicts allowed or denied
(:func:`netsleuth.policy.evaluate`, the reference evaluator), and the agent
in the source pod connects (TCP) or exchanges a datagram (UDP) with the
destination's pod IP:

- connected, or refused (the packet arrived; nothing answered): observed
  allowed;
- timeout: observed blocked (the lab drops what policy denies);
- anything else: observed unknown, reported, never counted as agreement.

Each disagreement is a finding (``CONF001``) carrying both sides' evidence:
the engine's deciding policies and rules, and the probe attempts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from netsleuth.lab.plan import LabPlan, PodPlan
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Confidence, Evidence, Finding, Layer, Severity, Subject
from netsleuth.policy import PodEndpoint, evaluate, explain_text

RULE_ID = "CONF001"


@dataclass(frozen=True, slots=True, kw_only=True)
class PairProbe:
    src: str
    dst: str
    dst_ip: str
    protocol: str
    port: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PairResult:
    src: str
    dst: str
    dst_ip: str
    protocol: str
    port: int
    predicted: str  # allowed / denied
    observed: str  # allowed / blocked / unknown
    observed_detail: str
    prediction_reasons: tuple[str, ...] = ()

    @property
    def agree(self) -> bool:
        return (self.predicted == "allowed" and self.observed == "allowed") or (
            self.predicted == "denied" and self.observed == "blocked"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConformanceReport:
    lab: str
    results: tuple[PairResult, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()
    not_probed: tuple[str, ...] = field(default_factory=tuple)

    @property
    def pairs(self) -> int:
        return len(self.results)

    @property
    def agree(self) -> int:
        return sum(1 for r in self.results if r.agree)

    @property
    def disagree(self) -> tuple[PairResult, ...]:
        return tuple(r for r in self.results if not r.agree)


def probe_ports(plan: LabPlan, pod: PodPlan) -> list[tuple[str, int]]:
    ports = set(pod.listen)
    if pod.dns_server:
        ports |= {("UDP", 53), ("TCP", 53)}
    return sorted(ports)


def plan_pairs(model: ClusterModel, plan: LabPlan) -> tuple[list[PairProbe], list[str]]:
    pairs: list[PairProbe] = []
    not_probed: list[str] = []
    sources = []
    for pp in plan.pods:
        pod = model.pod(pp.namespace, pp.name)
        if pod is None or pod.phase != "Running":
            not_probed.append(f"{pp.key}: not Running, sends nothing")
            continue
        sources.append(pp)
    for src in sources:
        for dst in plan.pods:
            if dst.key == src.key:
                continue
            for proto, port in probe_ports(plan, dst):
                pairs.append(
                    PairProbe(src=src.key, dst=dst.key, dst_ip=dst.ip, protocol=proto, port=port)
                )
    return pairs, not_probed


def predict(model: ClusterModel, pair: PairProbe) -> tuple[str, tuple[str, ...]]:
    sn, sname = pair.src.split("/", 1)
    dn, dname = pair.dst.split("/", 1)
    src, dst = model.pod(sn, sname), model.pod(dn, dname)
    assert src is not None and dst is not None
    d = evaluate(model, PodEndpoint(src), PodEndpoint(dst), pair.protocol, pair.port)
    return ("allowed" if d.allowed else "denied"), tuple(explain_text(d))


def observe(attempt: dict[str, Any]) -> tuple[str, str]:
    status = attempt.get("status", "error")
    if status == "connected":
        return "allowed", "connected" + (f" ({attempt['banner']})" if attempt.get("banner") else "")
    if status == "refused":
        return "allowed", "refused (the packet arrived; nothing listens)"
    if status == "timeout":
        return "blocked", f"timed out after {attempt.get('ms')} ms"
    return "unknown", f"{status}: {attempt.get('error', '')}".strip()


def agent_plans(
    pairs: list[PairProbe], timeout: float, cluster_domain: str
) -> dict[str, dict[str, Any]]:
    """One agent plan per source pod; ``cluster_domain`` names the DNS query a UDP probe to
    port 53 sends."""
    by_src: dict[str, list[PairProbe]] = defaultdict(list)
    for p in pairs:
        by_src[p.src].append(p)
    return {
        src: {
            "timeout": timeout,
            "cluster_domain": cluster_domain,
            "connect": [{"proto": p.protocol, "ip": p.dst_ip, "port": p.port} for p in lst],
        }
        for src, lst in by_src.items()
    }


def compare(
    model: ClusterModel,
    lab: str,
    pairs: list[PairProbe],
    observed: dict[str, dict[str, Any]],
    *,
    notes: tuple[str, ...] = (),
    not_probed: tuple[str, ...] = (),
) -> ConformanceReport:
    """Join predictions with the agents' results (``observed``: source -> agent output)."""
    by_src: dict[str, list[PairProbe]] = defaultdict(list)
    for p in pairs:
        by_src[p.src].append(p)
    results: list[PairResult] = []
    findings: list[Finding] = []
    for src, lst in by_src.items():
        conns = observed.get(src, {}).get("connect", [])
        for pair, c in zip(lst, conns, strict=False):
            attempt = (c.get("attempts") or [{}])[0]
            obs, detail = observe(attempt)
            pred, reasons = predict(model, pair)
            r = PairResult(
                src=pair.src,
                dst=pair.dst,
                dst_ip=pair.dst_ip,
                protocol=pair.protocol,
                port=pair.port,
                predicted=pred,
                observed=obs,
                observed_detail=detail,
                prediction_reasons=reasons,
            )
            results.append(r)
            if not r.agree:
                findings.append(disagreement_finding(r))
    return ConformanceReport(
        lab=lab,
        results=tuple(results),
        findings=tuple(findings),
        notes=notes,
        not_probed=not_probed,
    )


def disagreement_finding(r: PairResult) -> Finding:
    dn, dname = r.dst.split("/", 1)
    layer = Layer.POLICY_INGRESS
    return Finding(
        rule_id=RULE_ID,
        layer=layer,
        severity=Severity.ERROR,
        confidence=Confidence.OBSERVED,
        subject=Subject(kind="Pod", namespace=dn, name=dname),
        message=(
            f"{r.src} -> {r.dst} {r.port}/{r.protocol}: the policy engine predicts "
            f"{r.predicted}, the packets were {r.observed} ({r.observed_detail})"
        ),
        evidence=(
            Evidence(object=f"Pod/{r.src}", field="predicted", value=r.predicted),
            *(
                Evidence(object=f"Pod/{r.dst}", field="engine", value=line)
                for line in r.prediction_reasons
            ),
            Evidence(
                object=f"Pod/{r.dst}",
                field=f"probe {r.dst_ip}:{r.port}/{r.protocol}",
                value=r.observed_detail,
            ),
        ),
    )
