"""ING804: an Ingress TLS section names a Secret that is not in the Ingress's namespace."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, inconclusive, register
from netsleuth.facts.coverage import coverage
from netsleuth.facts.ingress_refs import tls_secret_state
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Inconclusive, Layer, Severity


@register(
    id="ING804",
    layer=Layer.INGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Ingress", "Secret")),
)
def ing_tls_secret_missing(model: ClusterModel) -> Iterator[Finding | Inconclusive]:
    """An Ingress TLS section names a Secret that is not in the Ingress's namespace.

    What it checks:
        Each ``spec.tls[].secretName`` against the Secrets of the Ingress's
        namespace (names and types only; netsleuth never reads Secret data),
        saying when a Secret of that name exists in another namespace, and
        when the Secret is not of type ``kubernetes.io/tls``. Offline, when
        the input holds Secrets of that namespace, or when the only Secrets
        of that name are in other namespaces (which the Ingress cannot use
        whatever else exists). The trace's ingress hop reads the same fact.
        Secrets listed across namespaces (``kubectl get secrets -A``) count as
        complete for every namespace; otherwise the check is inconclusive for
        that Ingress and says why.

    Why it breaks traffic:
        An Ingress can only use a Secret from its own namespace. Without it
        the controller serves its default self-signed certificate
        ("Kubernetes Ingress Controller Fake Certificate"), so clients fail
        the TLS handshake with an unknown-authority or name-mismatch error.

    Example:
        ``spec.tls[0].secretName: shop-tls`` in namespace ``shop`` while
        ``shop-tls`` lives in ``cert-manager``.

    Fix:
        Create the Secret in the Ingress's namespace (cert-manager:
        a Certificate in that namespace, or the
        ``cert-manager.io/cluster-issuer`` annotation), or copy it there.

    Confirm live:
        ``kubectl get secret -n <ns> <secret>``;
        ``kubectl describe ingress -n <ns> <name>``;
        ``openssl s_client -connect <lb-address>:443 -servername <host> </dev/null | openssl x509 -noout -subject -issuer``.

    References:
        https://kubernetes.io/docs/concepts/services-networking/ingress/#tls ;
        https://kubernetes.github.io/ingress-nginx/user-guide/tls/
    """
    for ing in model.ingresses:
        for i, tls in enumerate(ing.tls):
            name = tls.secret_name
            if not name:
                continue
            st = tls_secret_state(model, ing.namespace, name)
            if st.state == "not-checked":
                # The absence proves nothing here: say so instead of staying silent.
                yield inconclusive(
                    "ING804",
                    kind="Ingress",
                    meta=ing.meta,
                    reason=f"TLS Secret {name} is not in the input, but "
                    f"{coverage(model, 'Secret', ing.namespace).reason}",
                    confirm=(kubectl("get", "secret", "-n", ing.namespace, name),),
                )
                continue
            field = f"spec.tls[{i}].secretName"
            hosts = ", ".join(tls.hosts) or "(all hosts)"
            confirm = (
                kubectl("get", "secret", "-n", ing.namespace, name),
                kubectl("describe", "ingress", "-n", ing.namespace, ing.name),
            )
            if st.state == "present":
                if st.type not in ("kubernetes.io/tls", "Opaque"):
                    yield finding(
                        "ING804",
                        model,
                        kind="Ingress",
                        meta=ing.meta,
                        severity=Severity.WARNING,
                        message=f"Ingress {ing.namespace}/{ing.name} TLS Secret {name} has type {st.type}, not kubernetes.io/tls",
                        evidence=[
                            Evidence(f"Ingress/{ing.namespace}/{ing.name}", field, name),
                            Evidence(f"Secret/{ing.namespace}/{name}", "type", str(st.type)),
                        ],
                        confirm=confirm,
                        fix=Fix(
                            text=f"Recreate {name} with kubectl create secret tls {name} -n {ing.namespace} --cert=... --key=..."
                        ),
                    )
                continue
            elsewhere = list(st.elsewhere)
            where = (
                f"; a Secret of that name exists in {', '.join(elsewhere)}, but an Ingress can only use its own namespace"
                if elsewhere
                else ""
            )
            yield finding(
                "ING804",
                model,
                kind="Ingress",
                meta=ing.meta,
                message=f"Ingress {ing.namespace}/{ing.name} TLS for {hosts} uses Secret {name!r}, which is not in "
                f"namespace {ing.namespace}{where}: the controller serves its default certificate",
                evidence=[
                    Evidence(f"Ingress/{ing.namespace}/{ing.name}", field, name),
                    *(Evidence(f"Secret/{ns}/{name}", "exists", "yes") for ns in elsewhere[:3]),
                ],
                confirm=confirm,
                fix=Fix(
                    text=f"Create the TLS Secret {name} in namespace {ing.namespace} (cert-manager Certificate there, "
                    "or copy it)."
                ),
            )
