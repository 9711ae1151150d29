"""SVC201: a Service's selector matches no pods."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.service_backends import selected_pods
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC201",
    layer=Layer.SERVICE,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "Pod")),
)
def selector_matches_no_pods(model: ClusterModel) -> Iterator[Finding]:
    """A Service's selector matches no pods, so it has no endpoints.

    What it checks: Services with a selector (not ExternalName, not
    selector-less Services whose endpoints are managed by hand) for which no
    pod in the namespace carries all the selector's labels. When the input
    holds pods only in other namespaces than the Service's, nothing is said.
    The message names pods whose labels nearly match (one label differs).

    Why it breaks traffic: the EndpointSlice controller publishes no
    endpoint, so the ClusterIP has no backend: kube-proxy rejects
    connections (`connection refused`) or drops them, and DNS still resolves
    the name, which makes it look like an application problem.

    Example:
      selector: {app: checkout}        # the pods are labelled app: checkout-api
      kubectl get endpointslices -l kubernetes.io/service-name=checkout
      checkout-abc12   IPv4   <unset>   <unset>

    Fix: make the selector equal to the pod template labels (or the other
    way round); check the namespace.

    Confirm live:
      kubectl get svc <svc> -n <ns> -o jsonpath='{.spec.selector}'
      kubectl get pods -n <ns> --show-labels

    References:
      https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service
      https://kubernetes.io/docs/tasks/debug/debug-application/debug-service/#does-the-service-have-any-endpoints
    """
    for svc in model.services:
        if not svc.has_selector or svc.type == "ExternalName":
            continue
        ns_pods = model.pods_by_namespace.get(svc.namespace, ())
        if not ns_pods or selected_pods(model, svc):
            continue
        selector = svc.selector or {}
        sel_text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        near = [
            p for p in ns_pods if sum(1 for k, v in selector.items() if p.labels.get(k) != v) == 1
        ]
        evidence = [Evidence(ref("Service", svc.meta), "spec.selector", sel_text)]
        hint = ""
        if near:
            p = near[0]
            diff = next(k for k, v in selector.items() if p.labels.get(k) != v)
            evidence.append(
                Evidence(
                    ref("Pod", p.meta),
                    f"metadata.labels.{diff}",
                    str(p.labels.get(diff, "<absent>")),
                )
            )
            hint = f"; pod {p.name} differs only in {diff}={p.labels.get(diff, '<absent>')}"
        yield finding(
            "SVC201",
            model,
            kind="Service",
            meta=svc.meta,
            message=f"Service {svc.namespace}/{svc.name} selects {sel_text} but no pod in {svc.namespace} has "
            f"these labels: it has no endpoints{hint}.",
            evidence=evidence,
            confirm=(
                kubectl(
                    "get",
                    "endpointslices",
                    "-n",
                    svc.namespace,
                    "-l",
                    f"kubernetes.io/service-name={svc.name}",
                ),
                kubectl("get", "pods", "-n", svc.namespace, "-l", sel_text),
            ),
            fix=Fix(text="Make the Service selector match the pod template labels."),
        )
