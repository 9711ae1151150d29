"""Which policy rules are "meant for DNS": one predicate for POL303, POL304 and the trace."""

from __future__ import annotations

import pytest

from netsleuth.facts.policy_facts import rule_aims_at_dns
from netsleuth.model.objects import PolicyPeer, PolicyPort, PolicyRule
from netsleuth.model.selectors import LabelSelector, Operator, Requirement

KUBE_SYSTEM = LabelSelector.from_match_labels({"kubernetes.io/metadata.name": "kube-system"})
KUBE_DNS_PODS = LabelSelector.from_match_labels({"k8s-app": "kube-dns"})
NOT_KUBE_SYSTEM = LabelSelector(
    expressions=(
        Requirement("kubernetes.io/metadata.name", Operator.NOT_IN, frozenset({"kube-system"})),
    )
)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (PolicyRule(ports=(PolicyPort(protocol="UDP", port=53),)), True),
        (PolicyRule(ports=(PolicyPort(protocol="TCP", port="dns-tcp"),)), True),
        (PolicyRule(ports=(PolicyPort(protocol="UDP", port=1, end_port=1024),)), True),
        (PolicyRule(peers=(PolicyPeer(namespace_selector=KUBE_SYSTEM),)), True),
        (PolicyRule(peers=(PolicyPeer(pod_selector=KUBE_DNS_PODS),)), True),
        # Every namespace but kube-system: the opposite of a DNS rule.
        (PolicyRule(peers=(PolicyPeer(namespace_selector=NOT_KUBE_SYSTEM),)), False),
        (PolicyRule(ports=(PolicyPort(protocol="TCP", port=443),)), False),
        (PolicyRule(ports=(PolicyPort(protocol="UDP", port=54, end_port=100),)), False),
    ],
)
def test_rule_aims_at_dns(rule: PolicyRule, expected: bool) -> None:
    assert rule_aims_at_dns(rule) is expected
