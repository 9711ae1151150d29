"""POL309: Hubble shows connections dropped by policy; each group explained by the engine."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, confidence_for, register
from netsleuth.checks.flow_evidence import (
    decisions,
    explain_cmd,
    flow_evidence,
    hubble_cmd,
    ports_text,
    selector_labels,
    when_text,
)
from netsleuth.flows import DropGroup
from netsleuth.flows.reasons import drop_meaning, is_policy_reason
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command, Snippet, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity, Subject
from netsleuth.model.objects import Pod
from netsleuth.policy import Decision, DirectionDecision, PolicyRef, direction_lines

CNI_POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


def _deciding_policy(d: DirectionDecision) -> PolicyRef | None:
    """The policy a person would edit: the one whose rule came closest, else the first selecting."""
    for miss in d.misses:
        return miss.policy
    if d.admin is not None and d.admin.rule is not None:
        return d.admin.rule.policy
    return d.selecting[0] if d.selecting else None


def _allow_rule(direction: str, here: Pod, peer: Pod, protocol: str, port: int) -> Snippet:
    """A NetworkPolicy admitting exactly ``peer`` on ``protocol/port`` for ``here``."""
    peer_sel = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": peer.namespace}},
        "podSelector": {"matchLabels": selector_labels(peer)},
    }
    ports = [{"port": port, "protocol": protocol}]
    spec: dict[str, object] = {"podSelector": {"matchLabels": selector_labels(here)}}
    if direction == "INGRESS":
        spec["policyTypes"] = ["Ingress"]
        spec["ingress"] = [{"from": [peer_sel], "ports": ports}]
    else:
        spec["policyTypes"] = ["Egress"]
        spec["egress"] = [{"to": [peer_sel], "ports": ports}]
    doc = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": f"allow-{peer.namespace}-{peer.labels.get('app', 'client')}-{port}"[:63].rstrip(
                "-"
            ),
            "namespace": here.namespace,
        },
        "spec": spec,
    }
    return Snippet(doc)


def _denying_side(group: DropGroup, dec: Decision) -> DirectionDecision | None:
    order = (dec.ingress, dec.egress) if group.direction != "EGRESS" else (dec.egress, dec.ingress)
    for d in order:
        if not d.allowed:
            return d
    return None


@register(
    id="POL309",
    layer=Layer.POLICY_INGRESS,
    severity=Severity.WARNING,
    needs=Needs(observed="flows"),
    config=True,
)
def observed_policy_drops(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Hubble shows connections dropped by policy (POLICY_DENIED and kin).

    What it checks: every ``DROPPED`` Hubble flow whose reason is a policy
    decision (``POLICY_DENIED``, ``POLICY_DENY``, ``AUTH_REQUIRED``),
    grouped by source, destination, protocol and side; each group is put on
    the model (pods by name, labels or address) and the policy engine
    explains that pair and port: the isolating policies, the rule that came
    closest and why it did not match. A group whose drops were followed by a
    forwarded retry, or whose source was shown only by an address that is a
    pod of the model, is reported as transient.

    Why it breaks traffic: a policy drop is silent for the client: TCP SYNs
    are retransmitted (1 s, 3 s, 7 s…) until the connect times out, so the
    caller sees a timeout, never a refusal. When the engine allows the pair
    but the cluster dropped it, the cluster runs policies the model does not
    hold (CiliumNetworkPolicy, a newer version) or the drop happened while the
    source's identity was not yet known on the destination node (a new pod,
    the first seconds after a scale-up).

    Example:
      Nov 20 09:14:02.000: reports/report-job-8dp5nr684f-pp558:51734 (ID:33187) -> payments/payments-api-vg46bkjndx-tzpgm:8080 (ID:20514) Policy denied DROPPED (TCP Flags: SYN)

    Fix: if the traffic is wanted, allow exactly it (one peer, one port) in
    the policy the engine names, or a new policy beside it; if it is not,
    the policy is working: stop the client from calling. For transient drops
    nothing needs to change unless they recur: they clear when the identity
    reaches every node.

    Confirm live:
      hubble observe --verdict DROPPED --to-namespace payments
      netsleuth explain reports/report-job payments/payments-api --port tcp/8080
      kubectl get networkpolicy -n payments -o yaml

    References:
      https://docs.cilium.io/en/stable/observability/hubble/hubble-cli/
      https://kubernetes.io/docs/concepts/services-networking/network-policies/
      https://github.com/cilium/cilium/blob/main/api/v1/flow/flow.proto
    """
    summary = config.flows
    if summary is None:
        return
    cnp = [c for c in model.custom if c.kind in CNI_POLICY_KINDS]
    for group in summary.drops:
        if not is_policy_reason(group.reason) or group.src is None or group.dst is None:
            continue
        src, dst = group.src, group.dst
        where = f"{src.display} -> {dst.display} on {ports_text(group)}"
        count = f"{group.count} flow{'s' if group.count != 1 else ''}"
        evidence = flow_evidence(group, f"verdict=DROPPED drop_reason_desc={group.reason}")
        confirm: list[Command] = [hubble_cmd(model, group, "DROPPED")]
        ex = explain_cmd(group)
        if ex:
            confirm.append(ex)
        layer = Layer.POLICY_EGRESS if group.direction == "EGRESS" else Layer.POLICY_INGRESS
        decs = decisions(model, group)
        transient_bits = []
        if group.identity_unknown:
            transient_bits.append(
                f"{group.identity_unknown} showed the source only by its address "
                f"({', '.join(group.src_ips) or 'no address'}), which is a pod of the model: its "
                "identity was not yet known on the node that judged the packet"
            )
        if group.retried_forwarded:
            transient_bits.append(
                f"{group.retried_forwarded} were retransmitted on the same 5-tuple and forwarded "
                f"within {summary.window:g} s"
            )
        elif group.pair_forwarded_after:
            transient_bits.append(
                f"the same pair and port was forwarded within {summary.window:g} s afterwards"
            )
        allowed_ports = [p for p, d in decs if d.allowed]
        denied = [(p, d) for p, d in decs if not d.allowed]
        subject = Subject(
            dst.workload.kind if dst.workload else "Namespace",
            dst.namespace,
            dst.workload.name if dst.workload else (dst.namespace or dst.key),
        )
        severity = Severity.WARNING
        fix: Fix
        if transient_bits and (allowed_ports or not decs):
            severity = Severity.INFO
            message = (
                f"{count} {where} dropped by policy ({group.reason}) {when_text(group)} were "
                "transient: " + "; ".join(transient_bits) + "."
            )
            if allowed_ports:
                message += " The policies allow this connection."
            fix = Fix(
                text="Nothing to change unless it recurs: the drops clear once the source's "
                "identity reaches every node. If it recurs after scale-ups, check the agent's "
                "identity propagation (cilium-agent logs, `cilium identity list`)."
            )
        elif denied:
            port, dec = denied[0]
            d = _denying_side(group, dec)
            assert d is not None
            ref = _deciding_policy(d)
            if ref is not None:
                subject = Subject(ref.kind, ref.namespace, ref.name)
            lines = direction_lines(d, indent="")
            message = (
                f"{count} {where} dropped by policy ({group.reason}: {drop_meaning(group.reason)}) "
                f"{when_text(group)}. The engine agrees for port {port}: " + "; ".join(lines) + "."
            )
            if transient_bits:
                message += " Some drops looked transient: " + "; ".join(transient_bits) + "."
            evidence.append(
                Evidence(
                    ref.describe() if ref else "policy",
                    f"{d.direction.lower()} rules",
                    d.reason,
                )
            )
            here = dst.pod if d.direction == "Ingress" else src.pod
            peer = src.pod if d.direction == "Ingress" else dst.pod
            patch = None
            if here is not None and peer is not None:
                patch = _allow_rule(
                    "INGRESS" if d.direction == "Ingress" else "EGRESS",
                    here,
                    peer,
                    group.protocol,
                    port,
                )
            target = ref.describe() if ref else "the isolating policy"
            fix = Fix(
                text=f"If {src.display} should reach {dst.display} on {group.protocol} {port}, "
                f"allow exactly that peer and port ({target} selects the "
                f"{'destination' if d.direction == 'Ingress' else 'source'}; the patch is a new "
                "policy beside it). If it should not, the policy is doing its job: stop the "
                "client from calling.",
                snippet=patch,
            )
        elif allowed_ports:
            severity = Severity.ERROR
            message = (
                f"{count} {where} dropped by policy ({group.reason}) {when_text(group)}, but the "
                f"policies in the model allow it on port {allowed_ports[0]}: the cluster enforces "
                "policies the model does not hold"
                + (
                    f" ({len(cnp)} Cilium policies are in the input and not evaluated)"
                    if cnp
                    else " (CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy, or a newer "
                    "version of these NetworkPolicies)"
                )
                + "."
            )
            fix = Fix(
                text="Compare the live policies with the model: `kubectl get networkpolicy,"
                "ciliumnetworkpolicy -A` and `kubectl get ciliumclusterwidenetworkpolicy`; "
                "re-run with a fresh dump, then fix the policy that denies it."
            )
            confirm.append(kubectl("get", "ciliumnetworkpolicy", "-A"))
        else:
            not_model = [s.display for s in (src, dst) if not s.in_model]
            message = (
                f"{count} {where} dropped by policy ({group.reason}) {when_text(group)}; not "
                "checked against the policies: "
                + (
                    ", ".join(not_model) + " is not a pod of the model"
                    if not_model
                    else f"{group.protocol or 'this protocol'} is not evaluated"
                )
                + "."
            )
            fix = Fix(
                text="Load the namespaces of both ends (-f with their manifests) so the engine "
                "can name the policy, or run `hubble observe` with `-o json` to get pod names."
            )
        origin_file, origin_line = _origin(model, subject)
        yield Finding(
            rule_id="POL309",
            layer=layer,
            severity=severity,
            confidence=confidence_for(model, artifacts=True),
            subject=subject,
            message=message,
            evidence=tuple(evidence),
            confirm=tuple(confirm),
            fix=fix,
            origin_file=origin_file,
            origin_line=origin_line,
        )


def _origin(model: ClusterModel, subject: Subject) -> tuple[str | None, int | None]:
    """The manifest file and line of a NetworkPolicy subject (offline input), for SARIF."""
    if subject.kind != "NetworkPolicy" or subject.namespace is None:
        return None, None
    for np in model.policies_in(subject.namespace):
        if np.meta.name == subject.name and not np.meta.origin.live:
            return np.meta.origin.file, np.meta.origin.line
    return None, None
