"""POL303: an egress rule meant for DNS does not match CoreDNS."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.policy_facts import (
    DNS_EGRESS_SNIPPET,
    DnsEgressGap,
    describe_rule,
    dns_egress_gaps,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="POL303",
    layer=Layer.POLICY_EGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("NetworkPolicy", "Pod")),
)
def dns_allow_misses_coredns(model: ClusterModel) -> Iterator[Finding]:
    """An egress rule meant for DNS does not actually allow the pods to reach CoreDNS.

    What it checks: egress-isolated pods whose policies have a rule that aims
    at DNS (port 53/5353, or a kube-system / kube-dns peer), yet the policy
    engine finds UDP 53 (error) or TCP 53 (warning) to the CoreDNS pods
    denied. The message says why, from the engine's provenance. Common causes:
    `namespaceSelector: {matchLabels: {name: kube-system}}` where the namespace
    only has `kubernetes.io/metadata.name`; the namespace and pod selectors
    split into two peers (`- namespaceSelector` and `- podSelector`: the
    second means pods of the policy's own namespace); the Service port
    allowed where CoreDNS listens on another port (policies see the port after
    DNAT, e.g. 5353 vs 53); UDP allowed but not TCP.

    Why it breaks traffic: the rule looks right in review, so the outage is
    hard to find: every lookup times out (UDP denied), or only large answers
    fail (TCP denied: truncated responses retried over TCP, many records,
    DNSSEC) which shows as intermittent failures for some names.

    Example:
      egress:
      - to:
        - namespaceSelector:
            matchLabels: {name: kube-system}   # no namespace has this label
        ports:
        - {protocol: UDP, port: 53}

    Fix: select kube-system by `kubernetes.io/metadata.name: kube-system` and
    CoreDNS by `k8s-app: kube-dns` in the same peer, allow the port CoreDNS
    listens on, for UDP and TCP.

    Confirm live:
      kubectl get ns kube-system --show-labels
      kubectl get pods -n kube-system -l k8s-app=kube-dns -o jsonpath='{..containerPort}'
      kubectl exec -n <ns> <pod> -- nslookup kubernetes.default

    References:
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#behavior-of-to-and-from-selectors
      https://kubernetes.io/docs/concepts/services-namespaces/namespaces/#automatic-labelling
    """
    # One finding per rule that misses: a policy whose rule applies to several pod groups
    # (split by the other policies selecting them) is one fault, not one per group.
    by_rule: dict[tuple[str, str, int], list[DnsEgressGap]] = {}
    for gap in dns_egress_gaps(model):
        if not gap.attempts and not gap.udp_allowed:
            continue  # POL302
        pol, rule_index = gap.attempts[0] if gap.attempts else (gap.policies[0], 0)
        by_rule.setdefault((pol.namespace, pol.name, rule_index), []).append(gap)
    for gaps in by_rule.values():
        gap = min(gaps, key=lambda g: (g.udp_allowed, g.tcp_allowed))  # the worst group speaks
        pol, rule_index = gap.attempts[0] if gap.attempts else (gap.policies[0], 0)
        udp = "allowed" if gap.udp_allowed else "denied"
        tcp = "allowed" if gap.tcp_allowed else "denied"
        severity = Severity.WARNING if gap.udp_allowed else Severity.ERROR
        why = "; ".join(dict.fromkeys(r for g in gaps for r in g.reasons[:3]))
        pods = [p for g in gaps for p in g.pods]
        impact = (
            "every lookup times out"
            if not gap.udp_allowed
            else "DNS over TCP (truncated or large answers) fails"
        )
        yield finding(
            "POL303",
            model,
            kind="NetworkPolicy",
            meta=pol.meta,
            severity=severity,
            also=tuple(p.meta for p in pods[:1]),
            message=f"Egress rule #{rule_index + 1} of {gap.namespace}/{pol.name} is meant for DNS but "
            f"{len(pods)} pod(s) (e.g. {pods[0].name}) reach CoreDNS {gap.coredns.name}: "
            f"UDP {gap.udp_port} {udp}, TCP {gap.tcp_port} {tcp}; {impact}."
            + (f" Why: {why}." if why else ""),
            evidence=[
                Evidence(
                    ref("NetworkPolicy", pol.meta),
                    f"spec.egress[{rule_index}]",
                    describe_rule(pol.egress[rule_index]) if pol.egress else "<none>",
                ),
                Evidence(
                    f"Pod/kube-system/{gap.coredns.name}", "containerPort (UDP)", str(gap.udp_port)
                ),
                Evidence(
                    "Namespace/kube-system",
                    "metadata.labels",
                    ",".join(
                        f"{k}={v}" for k, v in sorted(model.namespace_labels("kube-system").items())
                    ),
                ),
            ],
            confirm=(
                kubectl("get", "ns", "kube-system", "--show-labels"),
                kubectl(
                    "exec",
                    "-n",
                    gap.namespace,
                    pods[0].name,
                    "--",
                    "nslookup",
                    "kubernetes.default",
                ),
            ),
            fix=Fix(
                text="Select CoreDNS with namespaceSelector kubernetes.io/metadata.name=kube-system and "
                "podSelector k8s-app=kube-dns in one peer, and allow its port for UDP and TCP.",
                snippet=DNS_EGRESS_SNIPPET,
            ),
        )
