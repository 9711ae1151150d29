"""POL302: egress isolation without any rule for DNS."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.attribution import isolating_policy
from netsleuth.facts.policy_facts import DNS_EGRESS_SNIPPET, dns_egress_gaps
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.policy import Direction


@register(
    id="POL302",
    layer=Layer.POLICY_EGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("NetworkPolicy", "Pod")),
)
def default_deny_egress_without_dns(model: ClusterModel) -> Iterator[Finding]:
    """Pods are isolated for egress and no rule of their policies is meant for DNS.

    What it checks: pods using cluster DNS that NetworkPolicies select for
    Egress (a default-deny egress, or any policy with `policyTypes: [Egress]`)
    where no egress rule of those policies allows UDP 53 to the CoreDNS pods
    and none even aims at DNS (port 53/5353 or a kube-system/kube-dns peer).
    Rules that aim at DNS but miss are POL303.

    Why it breaks traffic: egress isolation denies everything not allowed,
    including the pod's DNS queries to CoreDNS. Every name lookup then times
    out, so every connection by name fails, although the policy was only
    meant to restrict application traffic. Connections by IP still work,
    which makes it look like a DNS outage.

    Example:
      kind: NetworkPolicy
      spec:
        podSelector: {}
        policyTypes: [Egress]       # no egress rules: deny all, DNS included

    Fix: add an egress rule allowing UDP and TCP 53 to the CoreDNS pods
    (namespaceSelector `kubernetes.io/metadata.name: kube-system` AND
    podSelector `k8s-app: kube-dns` in one peer).

    Confirm live:
      kubectl exec -n <ns> <pod> -- nslookup kubernetes.default
      kubectl get networkpolicy -n <ns> -o yaml

    References:
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-egress-traffic
      https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/
    """
    for gap in dns_egress_gaps(model):
        if gap.attempts or gap.udp_allowed:
            continue
        # Name the policy whose policyTypes took DNS away (a default-deny covers every pod of
        # the namespace, so a DNS rule there serves them all), not the first one listed.
        pol = isolating_policy(model, gap.pods[0], Direction.EGRESS) or gap.policies[0]
        names = ", ".join(p.name for p in gap.policies)
        pods = gap.pods
        shown = ", ".join(p.name for p in pods[:3]) + (
            f" and {len(pods) - 3} more" if len(pods) > 3 else ""
        )
        yield finding(
            "POL302",
            model,
            kind="NetworkPolicy",
            meta=pol.meta,
            also=tuple(p.meta for p in pods[:1]),
            message=f"{len(pods)} pod(s) in {gap.namespace} ({shown}) are isolated for egress by {names} and "
            f"no egress rule allows DNS (UDP/TCP {gap.udp_port} to kube-system/{gap.coredns.name}): "
            "every lookup by name times out.",
            evidence=[
                Evidence(ref("NetworkPolicy", p.meta), "spec.policyTypes", ",".join(p.policy_types))
                for p in gap.policies[:3]
            ]
            + [
                Evidence(
                    ref("NetworkPolicy", p.meta),
                    "spec.egress",
                    f"{len(p.egress)} rule(s), none for DNS",
                )
                for p in gap.policies[:3]
            ],
            confirm=(
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
                text=f"Add an egress rule to {pol.name} allowing UDP and TCP 53 to the kube-dns pods.",
                snippet=DNS_EGRESS_SNIPPET,
            ),
        )
