"""ING808: a Gateway API route is not attached to its Gateway (parentRef missing or not accepted)."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.ingress_refs import covers
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Gateway, ParentRef, Route, find_condition


def _status_for(route: Route, pr: ParentRef, ns: str) -> list[tuple[str, str, str]]:
    """``(status, reason, message)`` of the Accepted conditions the route's status gives for ``pr``."""
    out = []
    for ps in route.parents_status:
        p = ps.parent
        if (
            p.name == pr.name
            and (p.namespace or route.meta.namespace or "default") == ns
            and (pr.section_name is None or p.section_name in (None, pr.section_name))
        ):
            c = find_condition(ps.conditions, "Accepted")
            if c is not None:
                out.append((c.status, c.reason, c.message))
    return out


def _listener_problem(gw: Gateway, pr: ParentRef, route_ns: str) -> str | None:
    listeners = [
        lst
        for lst in gw.listeners
        if pr.section_name in (None, lst.name) and (pr.port is None or lst.port == pr.port)
    ]
    if not listeners:
        what = f"sectionName {pr.section_name!r}" if pr.section_name else f"port {pr.port}"
        return f"Gateway {gw.meta.name} has no listener {what} (NoMatchingParent)"
    gw_ns = gw.meta.namespace or "default"
    if all(lst.allowed_namespaces == "Same" for lst in listeners) and route_ns != gw_ns:
        return (
            f"the listener(s) of Gateway {gw_ns}/{gw.meta.name} only admit routes from namespace {gw_ns} "
            "(allowedRoutes.namespaces.from: Same; NotAllowedByListeners)"
        )
    return None


@register(
    id="ING808",
    layer=Layer.INGRESS,
    severity=Severity.ERROR,
    needs=Needs(any_kinds=("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")),
)
def gw_route_parent_not_accepted(model: ClusterModel) -> Iterator[Finding]:
    """A Gateway API route is not attached to its Gateway (parentRef missing or not accepted).

    What it checks:
        For each HTTPRoute/GRPCRoute/TLSRoute/TCPRoute/UDPRoute parentRef to a
        Service (a mesh route, GAMMA): that the Service exists. To a Gateway:
        the route's ``status.parents[].conditions`` ``Accepted`` is
        not ``False``; without status, that the Gateway exists (when the
        input covers its namespace), has a listener matching ``sectionName``
        / ``port``, and that the listener admits routes from the route's
        namespace (``allowedRoutes.namespaces.from: Same`` admits only its own).

    Why it breaks traffic:
        A route the Gateway does not accept is not programmed: requests for
        its hostnames get 404 from the Gateway, or go to whichever other
        route matches.

    Example:
        HTTPRoute ``shop/web`` → parentRef ``infra/public-gw`` whose listener
        allows routes from ``Same`` namespace only; status
        ``Accepted=False, reason NotAllowedByListeners``.

    Fix:
        Point parentRefs at an existing Gateway and listener; on the Gateway
        allow the route's namespace (``allowedRoutes.namespaces.from: All``
        or ``Selector``); match the listener's hostname.

    Confirm live:
        ``kubectl get httproute -n <ns> <name> -o jsonpath='{.status.parents}'``;
        ``kubectl describe gateway -n <gw-ns> <gateway>``.

    References:
        https://gateway-api.sigs.k8s.io/reference/spec/#routeparentstatus ;
        https://gateway-api.sigs.k8s.io/guides/multiple-ns/
    """
    gateways = {(g.meta.namespace or "default", g.meta.name): g for g in model.gateways}
    for route in model.routes:
        rns = route.meta.namespace or "default"
        kind = route.kind
        for i, pr in enumerate(route.parent_refs):
            ns = pr.namespace or rns
            field = f"spec.parentRefs[{i}]"
            obj = f"{kind}/{rns}/{route.meta.name}"
            if pr.kind == "Service":
                # A mesh (GAMMA) route attaches to a Service; it must exist.
                if model.service(ns, pr.name) is None and covers(model, "Service", ns):
                    yield finding(
                        "ING808",
                        model,
                        kind=kind,
                        meta=route.meta,
                        message=f"{kind} {rns}/{route.meta.name} is not attached to Service {ns}/{pr.name}: "
                        f"Service {ns}/{pr.name} does not exist",
                        evidence=[Evidence(obj, field, f"Service {ns}/{pr.name}")],
                        confirm=(kubectl("get", "svc", "-n", ns, pr.name),),
                        fix=Fix(
                            text="Point the parentRef at an existing Service (mesh routes) or a Gateway."
                        ),
                    )
                continue
            if pr.kind != "Gateway":
                continue
            statuses = _status_for(route, pr, ns)
            rejected = [s for s in statuses if s[0] == "False"]
            problem: str | None = None
            evidence = [Evidence(obj, field + ".name", f"{ns}/{pr.name}")]
            if rejected:
                _, reason, msg = rejected[0]
                problem = f"the Gateway did not accept it: Accepted=False, {reason}: {msg}".rstrip(
                    ": "
                )
                evidence.append(
                    Evidence(obj, "status.parents[].conditions[Accepted]", f"False {reason}: {msg}")
                )
            elif not statuses:
                gw = gateways.get((ns, pr.name))
                if gw is None:
                    if covers(model, "Gateway", ns):
                        problem = f"Gateway {ns}/{pr.name} does not exist"
                else:
                    problem = _listener_problem(gw, pr, rns)
                    if problem:
                        evidence.append(
                            Evidence(
                                f"Gateway/{ns}/{pr.name}",
                                "spec.listeners",
                                ", ".join(
                                    f"{lst.name}:{lst.port} from={lst.allowed_namespaces}"
                                    for lst in gw.listeners
                                ),
                            )
                        )
            if problem is None:
                continue
            yield finding(
                "ING808",
                model,
                kind=kind,
                meta=route.meta,
                message=f"{kind} {rns}/{route.meta.name} is not attached to Gateway {ns}/{pr.name}: {problem}",
                evidence=evidence,
                confirm=(
                    kubectl(
                        "get",
                        kind.lower(),
                        "-n",
                        rns,
                        route.meta.name,
                        "-o",
                        "jsonpath={.status.parents}",
                    ),
                    kubectl("describe", "gateway", "-n", ns, pr.name),
                ),
                fix=Fix(
                    text="Point spec.parentRefs at an existing Gateway listener that admits this namespace "
                    "(allowedRoutes.namespaces.from: All or Selector) and hostname."
                ),
            )
