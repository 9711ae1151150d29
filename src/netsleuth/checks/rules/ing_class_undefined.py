"""ING801: an Ingress names an IngressClass that does not exist, or names none and there is no default."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.ingress_refs import covers
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl, merge_patch
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="ING801",
    layer=Layer.INGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Ingress", "IngressClass"), require_present=False),
)
def ing_class_undefined(model: ClusterModel) -> Iterator[Finding]:
    """An Ingress names an IngressClass that does not exist, or names none and there is no default.

    What it checks:
        Each Ingress's ``spec.ingressClassName`` against the IngressClasses
        (error when it names one that does not exist), and Ingresses with
        neither ``ingressClassName`` nor the legacy
        ``kubernetes.io/ingress.class`` annotation when no IngressClass is
        marked ``ingressclass.kubernetes.io/is-default-class: "true"``
        (warning). Offline, only when the input holds IngressClasses (a
        dump without them says nothing).

    Why it breaks traffic:
        Ingress controllers only serve Ingresses of their class. An Ingress
        of an unknown class, or a classless one with no default, is served by
        nobody: no address appears in ``kubectl get ingress`` and requests
        to its host hit nothing or a default 404 backend.

    Example:
        ``ingressClassName: nginx-internal`` while the only IngressClass is
        ``nginx``.

    Fix:
        Set ``spec.ingressClassName`` to an existing class, or mark one class
        as the default with the ``ingressclass.kubernetes.io/is-default-class``
        annotation.

    Confirm live:
        ``kubectl get ingressclass``; ``kubectl describe ingress -n <ns> <name>``
        (no Address, no events from a controller).

    References:
        https://kubernetes.io/docs/concepts/services-networking/ingress/#ingress-class ;
        https://kubernetes.io/docs/concepts/services-networking/ingress/#default-ingress-class
    """
    if not covers(model, "IngressClass"):
        return
    classes = {c.meta.name: c for c in model.ingress_classes}
    defaults = [c.meta.name for c in model.ingress_classes if c.is_default]
    known = ", ".join(sorted(classes)) or "none"
    for ing in model.ingresses:
        obj = f"Ingress/{ing.namespace}/{ing.name}"
        name = ing.ingress_class_name
        if name is not None:
            if name in classes:
                continue
            yield finding(
                "ING801",
                model,
                kind="Ingress",
                meta=ing.meta,
                message=f"Ingress {ing.namespace}/{ing.name} uses ingressClassName {name!r}, which does not exist "
                f"(IngressClasses: {known}): no controller serves it",
                evidence=[
                    Evidence(obj, "spec.ingressClassName", name),
                    Evidence("IngressClass", "names", known),
                ],
                confirm=(
                    kubectl("get", "ingressclass"),
                    kubectl("describe", "ingress", "-n", ing.namespace, ing.name),
                ),
                fix=Fix(
                    text=f"Set spec.ingressClassName to an existing class ({known}) or create the {name!r} IngressClass.",
                    command=merge_patch(
                        "ingress",
                        ing.namespace,
                        ing.name,
                        {"spec": {"ingressClassName": sorted(classes)[0]}},
                    )
                    if classes
                    else None,
                ),
            )
        elif ing.meta.annotations.get("kubernetes.io/ingress.class") is None and not defaults:
            yield finding(
                "ING801",
                model,
                kind="Ingress",
                meta=ing.meta,
                severity=Severity.WARNING,
                message=f"Ingress {ing.namespace}/{ing.name} names no ingress class and no IngressClass is the default "
                f"(IngressClasses: {known}): only a controller started to watch classless Ingresses will serve it",
                evidence=[
                    Evidence(obj, "spec.ingressClassName", "<unset>"),
                    Evidence("IngressClass", "is-default-class", "none"),
                ],
                confirm=(
                    kubectl(
                        "get",
                        "ingressclass",
                        "-o",
                        "custom-columns=NAME:.metadata.name,DEFAULT:.metadata.annotations.ingressclass.kubernetes.io/is-default-class",
                    ),
                    kubectl("describe", "ingress", "-n", ing.namespace, ing.name),
                ),
                fix=Fix(
                    text="Set spec.ingressClassName, or mark one IngressClass as the default.",
                    command=merge_patch(
                        "ingress",
                        ing.namespace,
                        ing.name,
                        {"spec": {"ingressClassName": sorted(classes)[0]}},
                    )
                    if classes
                    else kubectl(
                        "annotate",
                        "ingressclass",
                        "<class>",
                        "ingressclass.kubernetes.io/is-default-class=true",
                    ),
                ),
            )
