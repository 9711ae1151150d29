"""ING810: ingress controller pods are not ready."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.ingress_refs import controller_readiness
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta


@register(
    id="ING810",
    layer=Layer.INGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Pod",), require_present=True),
)
def ing_controller_not_ready(model: ClusterModel) -> Iterator[Finding]:
    """Ingress controller pods are not ready.

    What it checks:
        Pods of known ingress and gateway controllers (ingress-nginx's
        controller component, NGINX Ingress, Traefik, HAProxy, Kong, Contour
        and its Envoy, the Istio ingress gateway, the AWS Load Balancer
        Controller, the OpenShift router) found by their standard labels (the
        pods the policy engine treats as the ingress controller), grouped by
        workload: an error when none is Ready, a warning when some are not
        (terminating pods are going away and do not count). ``trace`` to an
        Ingress reads the same fact: its ingress hop is broken, or degraded.

    Why it breaks traffic:
        The controller is the proxy north-south traffic goes through. With no
        ready replica the load balancer has no healthy target and every
        request fails; with some down, capacity drops and the load
        balancer's health checks flap.

    Example:
        ``ingress-nginx/ingress-nginx-controller-6d7f`` in CrashLoopBackOff,
        0 of 2 ready.

    Fix:
        Read the controller pod's events and logs (a bad ConfigMap snippet,
        an admission webhook certificate, RBAC, OOMKilled) and fix the cause.

    Confirm live:
        ``kubectl get pods -n ingress-nginx -l app.kubernetes.io/component=controller -o wide``;
        ``kubectl logs -n ingress-nginx deploy/ingress-nginx-controller --tail=50``.

    References:
        https://kubernetes.github.io/ingress-nginx/troubleshooting/ ;
        https://kubernetes.io/docs/concepts/services-networking/ingress-controllers/
    """
    # One fact with the trace's ingress hop (facts.ingress_refs.controller_readiness).
    for g in controller_readiness(model):
        if not g.not_ready:
            continue
        kind, ns, name, controller, not_ready = (
            g.kind,
            g.namespace,
            g.name,
            g.controller,
            g.not_ready,
        )
        ready = g.ready
        w = model.workload(kind, ns, name)
        meta = (
            w.meta
            if w is not None
            else (g.pods[0].meta if kind == "Pod" else Meta(name=name, namespace=ns))
        )
        states = []
        for p in not_ready[:5]:
            reason = next((s.state_reason for s in p.container_statuses if s.state_reason), p.phase)
            states.append(
                Evidence(f"Pod/{p.namespace}/{p.name}", "status", f"not ready ({reason})")
            )
        yield finding(
            "ING810",
            model,
            kind=kind,
            meta=meta,
            severity=Severity.ERROR if ready == 0 else Severity.WARNING,
            message=f"{controller} {kind.lower()} {ns}/{name}: {ready} of {len(g.pods)} controller pods ready"
            + (" — north-south traffic through it fails" if ready == 0 else ""),
            evidence=states,
            confirm=(
                kubectl("get", "pods", "-n", ns, "-o", "wide").pipe("grep", name),
                kubectl("describe", "pod", "-n", ns, not_ready[0].name),
                kubectl("logs", "-n", ns, not_ready[0].name, "--tail=50"),
            ),
            fix=Fix(
                text=f"Read the events and logs of {ns}/{not_ready[0].name} and fix the cause (configuration "
                "snippet, webhook certificate, RBAC, OOM)."
            ),
        )
