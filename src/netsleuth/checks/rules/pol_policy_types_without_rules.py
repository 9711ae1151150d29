"""POL312: a policy lists a direction in policyTypes but has no rule for it, and that takes the
direction away from its pods."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.policy_facts import DNS_EGRESS_SNIPPET
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import NetworkPolicy
from netsleuth.policy import Direction, policies_selecting


def _rules(p: NetworkPolicy, d: Direction) -> int:
    return len(p.egress if d is Direction.EGRESS else p.ingress)


@register(
    id="POL312",
    layer=Layer.POLICY_EGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("NetworkPolicy", "Pod")),
)
def policy_types_without_rules(model: ClusterModel) -> Iterator[Finding]:
    """A policy lists a direction in policyTypes with no rule for it, and is the only policy isolating its pods there.

    What it checks: NetworkPolicies whose written ``policyTypes`` lists a
    direction (``Egress``, ``Ingress``) for which the policy has no rule,
    while it has rules for the other direction (so it is not a deliberate
    default-deny), and that are the only policy isolating some of the pods
    they select in that direction: for those pods every connection in that
    direction is denied, DNS included. Filed under the direction's layer
    (policy-egress or policy-ingress); the policy is the object to change.

    Why it breaks traffic: a policy whose ``policyTypes`` lists a direction
    isolates its pods in that direction even with no rule for it. Written
    for ingress with ``policyTypes: [Ingress, Egress]`` copied from an
    example, it silently cuts all egress: DNS times out, every outgoing call
    fails.

    Example:
      spec:
        podSelector: {matchLabels: {app: checkout-web}}
        policyTypes: [Ingress, Egress]     # no egress rules
        ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}]}]

    Fix: add the rules the pods need in that direction (at least DNS for
    egress). Removing the direction from ``policyTypes`` would also end
    the isolation, but it admits everything again: only when isolation in
    that direction was never intended.

    Confirm live:
      kubectl get networkpolicy -n <ns> <name> -o yaml
      kubectl exec -n <ns> <pod> -- nslookup kubernetes.default

    References:
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-egress-traffic
    """
    for pol in model.network_policies:
        declared = pol.declared_policy_types or ()
        for d, name in ((Direction.EGRESS, "Egress"), (Direction.INGRESS, "Ingress")):
            other = Direction.INGRESS if d is Direction.EGRESS else Direction.EGRESS
            if name not in declared or _rules(pol, d) or not _rules(pol, other):
                continue
            cut = []
            for pod in model.pods_by_namespace.get(pol.namespace, ()):
                if pod.host_network or not pol.pod_selector.matches(pod.labels):
                    continue
                if not any(
                    p is not pol and _rules(p, d) for p in policies_selecting(model, pod, d)
                ):
                    cut.append(pod)
            if not cut:
                continue
            shown = ", ".join(p.name for p in cut[:3]) + (
                f" and {len(cut) - 3} more" if len(cut) > 3 else ""
            )
            yield finding(
                "POL312",
                model,
                kind="NetworkPolicy",
                meta=pol.meta,
                layer=Layer.POLICY_EGRESS if d is Direction.EGRESS else Layer.POLICY_INGRESS,
                also=(cut[0].meta,),
                message=f"{pol.namespace}/{pol.name} lists {name} in policyTypes but has no {name.lower()} "
                f"rule (only {other.lower()} rules): {len(cut)} pod(s) ({shown}) are isolated for "
                f"{name.lower()} by it alone, so all their {name.lower()} traffic is denied"
                + (", DNS included." if d is Direction.EGRESS else "."),
                evidence=[
                    Evidence(
                        ref("NetworkPolicy", pol.meta), "spec.policyTypes", ",".join(declared)
                    ),
                    Evidence(ref("NetworkPolicy", pol.meta), f"spec.{name.lower()}", "no rules"),
                    Evidence(
                        ref("NetworkPolicy", pol.meta),
                        f"spec.{other.lower()}",
                        f"{_rules(pol, other)} rule(s)",
                    ),
                ],
                confirm=(
                    kubectl("get", "networkpolicy", "-n", pol.namespace, pol.name, "-o", "yaml"),
                    kubectl(
                        "exec",
                        "-n",
                        cut[0].namespace,
                        cut[0].name,
                        "--",
                        "nslookup",
                        "kubernetes.default",
                    )
                    if d is Direction.EGRESS
                    else kubectl("get", "pods", "-n", pol.namespace, "--show-labels"),
                ),
                fix=Fix(
                    text=f"Add the {name.lower()} rules the pods need to {pol.name}"
                    + (
                        " (DNS at least, below, and the Services they call)"
                        if d is Direction.EGRESS
                        else ""
                    )
                    + f". Remove {name} from its policyTypes only if isolating {name.lower()} was never "
                    "intended: that admits everything again.",
                    snippet=DNS_EGRESS_SNIPPET if d is Direction.EGRESS else None,
                ),
            )
