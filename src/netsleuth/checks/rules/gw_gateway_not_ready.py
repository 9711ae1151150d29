"""ING811: a Gateway's class does not exist or was not accepted, or the Gateway is not programmed."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.model.cluster import ClusterModel, SourceKind
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import find_condition


@register(
    id="ING811",
    layer=Layer.INGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Gateway",), require_present=True),
)
def gw_gateway_not_ready(model: ClusterModel) -> Iterator[Finding]:
    """A Gateway's class does not exist or was not accepted, or the Gateway is not programmed.

    What it checks:
        Each Gateway's ``gatewayClassName`` against the GatewayClasses (when
        the input holds any, or live), the class's ``Accepted`` condition,
        and the Gateway's own ``Accepted`` / ``Programmed`` conditions.

    Why it breaks traffic:
        A Gateway whose class no controller owns is never programmed: it gets
        no address and none of its routes serve traffic.

    Example:
        Gateway ``infra/public`` with ``gatewayClassName: istio`` where the
        only GatewayClass is ``cilium``.

    Fix:
        Use an existing, accepted GatewayClass (``kubectl get gatewayclass``),
        or install the controller the class names; read the Gateway's
        conditions for listener errors (port conflicts, invalid certificates).

    Confirm live:
        ``kubectl get gatewayclass``; ``kubectl describe gateway -n <ns> <name>``.

    References:
        https://gateway-api.sigs.k8s.io/api-types/gateway/ ;
        https://gateway-api.sigs.k8s.io/reference/spec/#gatewayconditiontype
    """
    classes = {c.meta.name: c for c in model.gateway_classes}
    known_classes = model.source.kind == SourceKind.LIVE or bool(classes)
    for gw in model.gateways:
        ns = gw.meta.namespace or "default"
        obj = f"Gateway/{ns}/{gw.meta.name}"
        problem: str | None = None
        evidence: list[Evidence] = [Evidence(obj, "spec.gatewayClassName", gw.gateway_class_name)]
        cls = classes.get(gw.gateway_class_name)
        if cls is None and known_classes:
            problem = f"GatewayClass {gw.gateway_class_name!r} does not exist (classes: {', '.join(sorted(classes)) or 'none'})"
        elif (
            cls is not None
            and (c := find_condition(cls.conditions, "Accepted")) is not None
            and not c.is_true
        ):
            problem = f"GatewayClass {cls.meta.name} is not accepted ({c.reason}: {c.message})"
            evidence.append(
                Evidence(
                    f"GatewayClass/{cls.meta.name}",
                    "status.conditions[Accepted]",
                    f"{c.status} {c.reason}",
                )
            )
        else:
            for t in ("Accepted", "Programmed"):
                c = find_condition(gw.conditions, t)
                if c is not None and c.status == "False":
                    problem = f"{t}=False ({c.reason}: {c.message})"
                    evidence.append(
                        Evidence(obj, f"status.conditions[{t}]", f"False {c.reason}: {c.message}")
                    )
                    break
        if problem is None:
            continue
        yield finding(
            "ING811",
            model,
            kind="Gateway",
            meta=gw.meta,
            message=f"Gateway {ns}/{gw.meta.name} is not serving: {problem}",
            evidence=evidence,
            confirm=(
                kubectl("get", "gatewayclass"),
                kubectl("describe", "gateway", "-n", ns, gw.meta.name),
            ),
            fix=Fix(
                text="Use an existing, accepted GatewayClass or install its controller; fix the listener errors "
                "the Gateway's conditions name."
            ),
        )
