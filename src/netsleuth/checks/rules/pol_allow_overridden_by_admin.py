"""POL311: a NetworkPolicy allow that an AdminNetworkPolicy Deny overrides."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.policy_facts import admin_overrides
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta
from netsleuth.policy import Direction


@register(
    id="POL311",
    layer=Layer.POLICY_INGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("NetworkPolicy",), require_present=True),
)
def pol_allow_overridden_by_admin(model: ClusterModel) -> Iterator[Finding]:
    """A NetworkPolicy rule allows traffic that an AdminNetworkPolicy denies first.

    What it checks:
        Each NetworkPolicy ingress and egress rule, on one pod it selects, one
        pod its peers admit and its first port: the connection it allows is
        evaluated through every tier; when an AdminNetworkPolicy rule with
        ``action: Deny`` decides it, the allow never takes effect.

    Why it breaks traffic:
        AdminNetworkPolicies are evaluated before NetworkPolicies and a Deny
        there is final. A namespace owner adds an allow, sees it in
        ``kubectl get netpol``, and the connection still times out: the
        cluster-scoped Deny is not where anyone looks.

    Example:
        AdminNetworkPolicy ``deny-legacy-to-payments`` (priority 10) denies
        ingress from namespace ``legacy`` to ``payments``;
        NetworkPolicy ``payments/allow-legacy-billing`` allows
        ``legacy/billing-cron`` on 8080. The billing job times out.

    Fix:
        Narrow the AdminNetworkPolicy's Deny (a peer or port that leaves this
        client out), add a higher-priority ANP rule with ``action: Pass`` so
        the NetworkPolicy decides, or remove the allow if the Deny is the
        intent.

    Confirm live:
        kubectl get adminnetworkpolicies -o wide
        kubectl describe adminnetworkpolicy <name>

    References:
        https://network-policy-api.sigs.k8s.io/api-overview/
        https://kubernetes.io/docs/concepts/services-networking/network-policies/
    """
    for o in admin_overrides(model):
        admin = Meta(name=o.admin_name)
        direction = "ingress" if o.direction is Direction.INGRESS else "egress"
        where = (
            f"from {o.src.namespace}/{o.src.name} to {o.dst.namespace}/{o.dst.name} "
            f"{o.port}/{o.protocol}"
        )
        yield finding(
            "POL311",
            model,
            kind=o.admin_kind,
            meta=next(
                (c.meta for c in model.custom_of_kind(o.admin_kind) if c.meta.name == o.admin_name),
                admin,
            ),
            also=(o.policy.meta,),
            layer=Layer.POLICY_INGRESS if direction == "ingress" else Layer.POLICY_EGRESS,
            message=f"{o.admin_kind} {o.admin_name} rule {o.admin_rule} denies what NetworkPolicy "
            f"{o.policy.namespace}/{o.policy.name} {direction} rule #{o.rule + 1} allows ({where}): "
            "the admin tier decides first, the allow never takes effect",
            evidence=[
                Evidence(f"{o.admin_kind}/{o.admin_name}", f"rule {o.admin_rule}", "Deny"),
                Evidence(
                    ref("NetworkPolicy", o.policy.meta), f"spec.{direction}[{o.rule}]", "allows"
                ),
            ],
            confirm=(
                kubectl("get", "adminnetworkpolicies", "-o", "wide"),
                kubectl("describe", "adminnetworkpolicy", o.admin_name),
            ),
            fix=Fix(
                text=f"Narrow {o.admin_kind} {o.admin_name}'s Deny so it leaves this client out, or "
                "add a higher-priority ANP rule with action Pass for it so the NetworkPolicy "
                f"decides; or remove the allow in {o.policy.namespace}/{o.policy.name} if the Deny "
                "is the intent."
            ),
        )
