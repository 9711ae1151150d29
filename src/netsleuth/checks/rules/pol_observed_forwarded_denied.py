"""POL310: Hubble shows connections forwarded that the NetworkPolicies deny."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, confidence_for, register
from netsleuth.checks.flow_evidence import (
    decisions,
    explain_cmd,
    flow_evidence,
    hubble_cmd,
    ports_text,
    when_text,
)
from netsleuth.checks.rules.pol_observed_policy_drops import _deciding_policy, _origin
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity, Subject
from netsleuth.policy import direction_lines


@register(
    id="POL310",
    layer=Layer.POLICY_INGRESS,
    severity=Severity.ERROR,
    needs=Needs(observed="flows"),
    config=True,
)
def observed_forwarded_denied(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Hubble shows connections forwarded that the NetworkPolicies deny.

    What it checks: every ``FORWARDED`` Hubble flow that opens a connection
    (not a reply; ``is_reply`` false, or a TCP SYN without ACK) between a
    source and a destination pod of the model, held against the policy
    engine: seen where the destination receives it (``INGRESS``,
    ``TO_ENDPOINT``), both sides must allow it; seen at the source node,
    its egress side must. What the engine denies but the cluster forwarded is
    reported, grouped by pair with counts and ports.

    Why it breaks traffic: the isolation the policies describe is not the
    one the cluster enforces. Either the CNI does not enforce NetworkPolicy
    there (plain Flannel, Cilium with ``policy-enforcement: never``, a node
    whose agent is down), or the model is stale and the live policies allow
    more. Either way a reviewed "deny" is not true, and the day enforcement
    starts (a CNI migration, an agent restart) these connections break.

    Example:
      Nov 20 09:14:24.000: checkout/checkout-web-c9szjmm8q6-h5w2v:40300 (ID:48211) -> payments/payments-api-vg46bkjndx-tzpgm:9090 (ID:20514) to-endpoint FORWARDED (TCP Flags: SYN)
      while payments/default-deny isolates payments-api and allow-from-checkout admits only TCP 8080.

    Fix: compare the live policies with the input (``kubectl get
    networkpolicy -n NS -o yaml``); if they are the same, make the CNI
    enforce them (Cilium ``policy-enforcement: default``, a policy engine
    beside Flannel); if the connection is wanted, allow it explicitly before
    enforcement starts.

    Confirm live:
      hubble observe --verdict FORWARDED --to-namespace payments --to-port 9090
      kubectl -n kube-system exec ds/cilium -- cilium-dbg config | grep -i PolicyEnforcement

    References:
      https://docs.cilium.io/en/stable/security/policy/intro/#policy-enforcement-modes
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#prerequisites
      https://github.com/cilium/cilium/blob/main/api/v1/flow/flow.proto
    """
    summary = config.flows
    if summary is None:
        return
    for group in summary.forwarded_denied:
        if group.src is None or group.dst is None:
            continue
        decs = [(p, d) for p, d in decisions(model, group) if not d.allowed]
        if not decs:
            continue
        port, dec = decs[0]
        side = dec.ingress if not dec.ingress.allowed else dec.egress
        ref = _deciding_policy(side)
        subject = (
            Subject(ref.kind, ref.namespace, ref.name)
            if ref is not None
            else Subject("Namespace", None, group.dst.namespace or "?")
        )
        count = f"{group.count} connection{'s' if group.count != 1 else ''}"
        message = (
            f"{count} {group.src.display} -> {group.dst.display} on {ports_text(group)} were "
            f"forwarded {when_text(group)}, but the policies deny port {port}: "
            + "; ".join(direction_lines(side, indent=""))
            + ". The CNI does not enforce them there, or the live policies differ from the input."
        )
        confirm: list[Command] = [hubble_cmd(model, group, "FORWARDED")]
        ex = explain_cmd(group)
        if ex:
            confirm.append(ex)
        if group.dst.namespace:
            confirm.append(kubectl("get", "networkpolicy", "-n", group.dst.namespace))
        origin_file, origin_line = _origin(model, subject)
        yield Finding(
            rule_id="POL310",
            layer=Layer.POLICY_INGRESS if side is dec.ingress else Layer.POLICY_EGRESS,
            severity=Severity.ERROR,
            confidence=confidence_for(model, artifacts=True),
            subject=subject,
            message=message,
            evidence=(
                *flow_evidence(group, "verdict=FORWARDED (new connection)"),
                Evidence(ref.describe() if ref else "policy", "verdict", side.reason),
            ),
            confirm=tuple(confirm),
            fix=Fix(
                text="Compare the live policies with the input; if they match, make the CNI "
                "enforce them (Cilium policy-enforcement: default; a policy engine beside "
                "Flannel). If the connection is wanted, allow it explicitly before enforcement "
                "starts.",
            ),
            origin_file=origin_file,
            origin_line=origin_line,
        )
