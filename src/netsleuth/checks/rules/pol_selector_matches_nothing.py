"""POL304: policy selectors that match nothing."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.policy_facts import rule_aims_at_dns
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import NetworkPolicy
from netsleuth.model.selectors import LabelSelector, Operator


def _keys_no_namespace_has(model: ClusterModel, sel: LabelSelector) -> list[str]:
    keys = {r.key for r in sel.requirements() if r.operator in (Operator.IN, Operator.EXISTS)}
    present = {k for ns in model.namespaces.values() for k in ns.labels} | {
        "kubernetes.io/metadata.name"
    }
    return sorted(keys - present)


def _problems(model: ClusterModel, pol: NetworkPolicy) -> list[tuple[str, Evidence]]:
    out: list[tuple[str, Evidence]] = []
    obj = ref("NetworkPolicy", pol.meta)
    ns_pods = model.pods_by_namespace.get(pol.namespace, ())
    if (
        ns_pods
        and not pol.pod_selector.is_empty
        and not any(pol.pod_selector.matches(p.labels) for p in ns_pods)
    ):
        out.append(
            (
                f"spec.podSelector {pol.pod_selector.describe()} selects no pod in {pol.namespace}: "
                "the policy does nothing",
                Evidence(obj, "spec.podSelector", pol.pod_selector.describe()),
            )
        )
    for direction, rules in (("ingress", pol.ingress), ("egress", pol.egress)):
        word = "from" if direction == "ingress" else "to"
        for ri, rule in enumerate(rules):
            if direction == "egress" and rule_aims_at_dns(rule):
                continue  # DNS rules are judged by POL303, with the reason
            for pi, peer in enumerate(rule.peers):
                field = f"spec.{direction}[{ri}].{word}[{pi}]"
                nss = peer.namespace_selector
                if nss is not None and not nss.is_empty and model.namespaces:
                    missing = _keys_no_namespace_has(model, nss)
                    matched = [n for n, o in model.namespaces.items() if nss.matches(o.labels)]
                    if missing or not matched:
                        why = (
                            f"no namespace has label key(s) {', '.join(missing)}"
                            if missing
                            else "no namespace has these labels"
                        )
                        out.append(
                            (
                                f"{field}.namespaceSelector {nss.describe()} matches no namespace ({why}); "
                                "namespaces carry kubernetes.io/metadata.name=<name>",
                                Evidence(obj, f"{field}.namespaceSelector", nss.describe()),
                            )
                        )
                        continue
                pods_sel = peer.pod_selector
                if pods_sel is None or pods_sel.is_empty or not model.pods:
                    continue
                if nss is None:
                    scope = [pol.namespace]
                else:
                    scope = [
                        n for n in model.pods_by_namespace if nss.matches(model.namespace_labels(n))
                    ]
                # pods_matching looks the first matchLabels pair up in the label index.
                if not any(model.pods_matching(n, pods_sel) for n in scope):
                    where = pol.namespace if nss is None else "the selected namespaces"
                    out.append(
                        (
                            f"{field}.podSelector {pods_sel.describe()} matches no pod in {where}",
                            Evidence(obj, f"{field}.podSelector", pods_sel.describe()),
                        )
                    )
    return out


@register(
    id="POL304",
    layer=Layer.POLICY_INGRESS,
    severity=Severity.WARNING,
    needs=Needs(kinds=("NetworkPolicy", "Pod", "Namespace")),
)
def selector_matches_nothing(model: ClusterModel) -> Iterator[Finding]:
    """A NetworkPolicy's podSelector or a peer's selectors match nothing in the cluster.

    What it checks: a policy `podSelector` (not `{}`) that selects no pod of
    its namespace; a peer `namespaceSelector` that matches no namespace, in
    particular one using a label key no namespace has (`name: prod` where
    namespaces carry `kubernetes.io/metadata.name`); a peer `podSelector`
    matching no pod in the namespaces it applies to. Judged only when the
    input holds pods and Namespace objects. Egress rules for DNS ports are
    left to POL303, which explains the DNS case.

    Why it breaks traffic: a peer that matches nothing allows nothing, so the
    traffic it was written for is denied by the isolation the policy creates.
    A podSelector that selects nothing protects nothing. Both usually come
    from a typo or a label renamed in the Deployment only.

    Example:
      ingress:
      - from:
        - namespaceSelector:
            matchLabels: {name: monitoring}   # namespaces only have kubernetes.io/metadata.name

    Fix: select namespaces by `kubernetes.io/metadata.name: <name>` (set by
    the API server on every namespace since 1.21) or label the namespace;
    fix the pod labels or the selector.

    Confirm live:
      kubectl get ns --show-labels
      kubectl get pods -A -l <selector>

    References:
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#targeting-a-namespace-by-its-name
      https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
    """
    for pol in model.network_policies:
        problems = _problems(model, pol)
        if not problems:
            continue
        yield finding(
            "POL304",
            model,
            kind="NetworkPolicy",
            meta=pol.meta,
            message=f"NetworkPolicy {pol.namespace}/{pol.name}: "
            + "; ".join(t for t, _ in problems[:3])
            + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
            + ".",
            evidence=[e for _, e in problems[:5]],
            confirm=(
                kubectl("get", "ns", "--show-labels"),
                kubectl("get", "pods", "-n", pol.namespace, "--show-labels"),
            ),
            fix=Fix(
                text="Select namespaces by kubernetes.io/metadata.name (or label them) and make pod selectors "
                "match the pod template labels."
            ),
        )
