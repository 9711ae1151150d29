"""POL307: a rule fully contained in another rule of the same policy and direction."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.policy_facts import describe_rule
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import PolicyPeer, PolicyPort, PolicyRule
from netsleuth.policy.semantics import normalise_protocol


def _port_within(a: PolicyPort, b: PolicyPort) -> bool:
    """Every port ``a`` allows, ``b`` allows (same protocol; b all ports, or b's range covers a's)."""
    if normalise_protocol(a.protocol) != normalise_protocol(b.protocol):
        return False
    if b.port is None:
        return True
    if a.port is None:
        return False
    if isinstance(a.port, str) or isinstance(b.port, str):
        return a.port == b.port and a.end_port is None and b.end_port is None
    a_hi = a.end_port if a.end_port is not None else a.port
    b_hi = b.end_port if b.end_port is not None else b.port
    return b.port <= a.port and a_hi <= b_hi


def _peer_within(a: PolicyPeer, b: PolicyPeer) -> bool:
    """Structural containment: equal peers, or ``b`` is ``namespaceSelector: {}`` alone and ``a`` is a pod peer
    (any namespace with optional podSelector), or ``b`` selects all pods of the same namespaces as ``a``."""
    if a == b:
        return True
    if a.ip_block is not None or b.ip_block is not None:
        return False
    if (
        b.namespace_selector is not None
        and b.namespace_selector.is_empty
        and (b.pod_selector is None or b.pod_selector.is_empty)
    ):
        return True  # every pod in every namespace
    same_ns = a.namespace_selector == b.namespace_selector
    return same_ns and b.pod_selector is not None and b.pod_selector.is_empty


def rule_within(a: PolicyRule, b: PolicyRule) -> bool:
    """Everything rule ``a`` allows, rule ``b`` allows too (a sufficient, not necessary, condition)."""
    peers_ok = not b.peers or (
        bool(a.peers) and all(any(_peer_within(pa, pb) for pb in b.peers) for pa in a.peers)
    )
    ports_ok = not b.ports or (
        bool(a.ports) and all(any(_port_within(pa, pb) for pb in b.ports) for pa in a.ports)
    )
    return peers_ok and ports_ok


@register(
    id="POL307",
    layer=Layer.POLICY_INGRESS,
    severity=Severity.INFO,
    needs=Needs(kinds=("NetworkPolicy",)),
)
def redundant_rule(model: ClusterModel) -> Iterator[Finding]:
    """A policy rule is redundant: another rule of the same policy and direction already allows all of it.

    What it checks: pairs of rules in one policy's `ingress` (or `egress`)
    list where every peer of one is contained in a peer of the other (equal
    peers, or the other is `namespaceSelector: {}` / `podSelector: {}` over
    the same namespaces, or has no peers at all) and every port is covered
    (same protocol, covering range, or no ports). Rules are additive, so the
    contained rule changes nothing.

    Why it breaks traffic: it does not by itself. But a shadowed rule is
    usually a sign that someone meant to restrict something (the narrow rule)
    while a broad rule still allows everything; readers trust the narrow one
    and are surprised by what is reachable.

    Example:
      ingress:
      - from: [{podSelector: {matchLabels: {app: frontend}}}]
        ports: [{port: 8080}]
      - from: [{podSelector: {}}]        # every pod of the namespace, every port

    Fix: delete the contained rule, or narrow the broad one if the narrow
    rule expresses the intent.

    Confirm live:
      kubectl get networkpolicy <name> -n <ns> -o yaml

    References:
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
    """
    for pol in model.network_policies:
        for direction, rules in (("ingress", pol.ingress), ("egress", pol.egress)):
            for i, a in enumerate(rules):
                for j, b in enumerate(rules):
                    if i == j or not rule_within(a, b):
                        continue
                    if rule_within(b, a) and j > i:
                        continue  # identical rules: report the later copy only
                    yield finding(
                        "POL307",
                        model,
                        kind="NetworkPolicy",
                        meta=pol.meta,
                        message=f"{pol.namespace}/{pol.name} {direction} rule #{i + 1} is redundant: rule #{j + 1} "
                        "already allows everything it allows.",
                        evidence=[
                            Evidence(
                                ref("NetworkPolicy", pol.meta),
                                f"spec.{direction}[{i}]",
                                describe_rule(a),
                            ),
                            Evidence(
                                ref("NetworkPolicy", pol.meta),
                                f"spec.{direction}[{j}]",
                                describe_rule(b),
                            ),
                        ],
                        confirm=(
                            kubectl(
                                "get", "networkpolicy", pol.name, "-n", pol.namespace, "-o", "yaml"
                            ),
                        ),
                        fix=Fix(
                            text=f"Delete {direction} rule #{i + 1}, or narrow rule #{j + 1} if the narrow rule "
                            "is the intent."
                        ),
                    )
                    break
