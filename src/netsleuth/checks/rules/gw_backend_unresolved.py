"""ING809: a Gateway API route's backendRef cannot be resolved."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.ingress_refs import covers
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Route, find_condition


def _grant_allows(model: ClusterModel, route: Route, to_ns: str, name: str) -> bool:
    """A ReferenceGrant in ``to_ns`` lets routes of this kind from the route's namespace use Service ``name``."""
    rns = route.meta.namespace or "default"
    for g in model.custom_of_kind("ReferenceGrant"):
        if (g.meta.namespace or "default") != to_ns:
            continue
        froms = g.spec.get("from") or []
        tos = g.spec.get("to") or []
        ok_from = any(
            isinstance(f, dict) and f.get("kind") == route.kind and f.get("namespace") == rns
            for f in froms
        )
        ok_to = any(
            isinstance(t, dict)
            and t.get("kind") == "Service"
            and t.get("group", "") in ("", "core")
            and t.get("name") in (None, name)
            for t in tos
        )
        if ok_from and ok_to:
            return True
    return False


@register(
    id="ING809",
    layer=Layer.INGRESS,
    severity=Severity.ERROR,
    needs=Needs(any_kinds=("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")),
)
def gw_backend_unresolved(model: ClusterModel) -> Iterator[Finding]:
    """A Gateway API route's backendRef cannot be resolved.

    What it checks:
        For each route: ``status.parents[].conditions`` ``ResolvedRefs`` is
        not ``False``; and each Service backendRef exists (when the input
        covers its namespace), has the referenced ``port`` among the
        Service's ports, and, in another namespace, is allowed by a
        ReferenceGrant there (checked when the input holds ReferenceGrants).

    Why it breaks traffic:
        Requests matched by a rule whose backend cannot be resolved get a
        500 from the Gateway (the Gateway API requires it for invalid
        backendRefs); with weights, that share of requests fails.

    Example:
        HTTPRoute ``shop/web`` → backendRef ``web:8080`` while Service ``web``
        exposes port 80; status ``ResolvedRefs=False``.

    Fix:
        Reference an existing Service and one of its ports (the Service port,
        not the targetPort); for another namespace add a ReferenceGrant there.

    Confirm live:
        ``kubectl get httproute -n <ns> <name> -o jsonpath='{.status.parents[*].conditions}'``;
        ``kubectl get svc -n <ns> <svc> -o yaml``.

    References:
        https://gateway-api.sigs.k8s.io/reference/spec/#httpbackendref ;
        https://gateway-api.sigs.k8s.io/api-types/referencegrant/
    """
    grants_known = model.has_kind("ReferenceGrant")
    for route in model.routes:
        rns = route.meta.namespace or "default"
        obj = f"{route.kind}/{rns}/{route.meta.name}"
        problems: list[str] = []
        evidence: list[Evidence] = []
        for ps in route.parents_status:
            c = find_condition(ps.conditions, "ResolvedRefs")
            if c is not None and c.status == "False":
                problems.append(f"ResolvedRefs=False ({c.reason}: {c.message})".replace(": )", ")"))
                evidence.append(
                    Evidence(
                        obj,
                        "status.parents[].conditions[ResolvedRefs]",
                        f"False {c.reason}: {c.message}",
                    )
                )
                break
        for i, rule in enumerate(route.rules):
            for j, br in enumerate(rule.backend_refs):
                if br.kind != "Service" or br.group not in ("", "core"):
                    continue
                ns = br.namespace or rns
                field = f"spec.rules[{i}].backendRefs[{j}]"
                svc = model.service(ns, br.name)
                if svc is None:
                    if covers(model, "Service", ns):
                        problems.append(f"Service {ns}/{br.name} does not exist")
                        evidence.append(Evidence(obj, field + ".name", f"{ns}/{br.name}"))
                    continue
                if br.port is not None and all(p.port != br.port for p in svc.ports):
                    ports = ", ".join(str(p.port) for p in svc.ports) or "none"
                    problems.append(
                        f"Service {ns}/{br.name} has no port {br.port} (ports: {ports})"
                    )
                    evidence.append(Evidence(obj, field + ".port", str(br.port)))
                    evidence.append(Evidence(f"Service/{ns}/{br.name}", "spec.ports", ports))
                if ns != rns and grants_known and not _grant_allows(model, route, ns, br.name):
                    problems.append(
                        f"Service {ns}/{br.name} is in another namespace and no ReferenceGrant there allows it"
                    )
                    evidence.append(Evidence(obj, field + ".namespace", ns))
        if not problems:
            continue
        yield finding(
            "ING809",
            model,
            kind=route.kind,
            meta=route.meta,
            message=f"{route.kind} {rns}/{route.meta.name} has unresolvable backends: "
            + "; ".join(dict.fromkeys(problems)),
            evidence=evidence,
            confirm=(
                kubectl(
                    "get",
                    route.kind.lower(),
                    "-n",
                    rns,
                    route.meta.name,
                    "-o",
                    "jsonpath={.status.parents[*].conditions}",
                ),
                kubectl("get", "svc", "-n", rns),
            ),
            fix=Fix(
                text="Reference existing Services by their Service port; add a ReferenceGrant in the Service's "
                "namespace for cross-namespace backends."
            ),
        )
