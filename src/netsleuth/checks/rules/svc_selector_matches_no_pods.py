"""SVC201: a Service's selector matches no pods."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, inconclusive, ref, register
from netsleuth.facts.coverage import coverage
from netsleuth.facts.operators import custom_resource_meta, operator_for_selector
from netsleuth.facts.service_backends import selected_pods, selector_near_miss
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Inconclusive, Layer, Severity


@register(
    id="SVC201",
    layer=Layer.SERVICE,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "Pod")),
)
def selector_matches_no_pods(model: ClusterModel) -> Iterator[Finding | Inconclusive]:
    """A Service's selector matches no pods, so it has no endpoints.

    What it checks: Services with a selector (not ExternalName, not
    selector-less Services whose endpoints are managed by hand) for which no
    pod in the namespace carries all the selector's labels. The message
    names the pod whose labels come nearest (the one ``trace`` names too:
    most selector labels right, then fewest differences) and how it differs. A Service
    that selects the pods an operator creates for a custom resource in its
    namespace (prometheus-operator's Prometheus, Alertmanager, ThanosRuler)
    has its workload in applied manifests; in a dump with pods but none of
    those, the CR is named. When the input holds no pod of the namespace
    and pods were not listed across namespaces, the check is inconclusive.

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
        if ns_pods and selected_pods(model, svc):
            continue
        selector = svc.selector or {}
        sel_text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        op = operator_for_selector(model, svc.namespace, selector)
        if op is not None and not any(not p.meta.derived for p in ns_pods):
            # Manifests: an operator CR (prometheus-operator's Prometheus…) creates the pods this
            # Service selects when it is applied; it is the Service's workload.
            continue
        if not ns_pods:
            cov = coverage(model, "Pod", svc.namespace)
            if not cov.complete:
                yield inconclusive(
                    "SVC201",
                    kind="Service",
                    meta=svc.meta,
                    reason=f"the input holds no pod or workload of namespace {svc.namespace}, and {cov.reason}",
                    confirm=(kubectl("get", "pods", "-n", svc.namespace, "-l", sel_text),),
                )
                continue
        if op is not None:
            # A dump with pods, but none of those the operator should have created: the CR (and
            # its operator) is what to look at, not the Service.
            yield finding(
                "SVC201",
                model,
                kind=op.kind,
                meta=custom_resource_meta(model, op),
                message=f"Service {svc.namespace}/{svc.name} selects the pods {op.operator} creates for "
                f"{op.ref()}, and none is in the input: the operator has not created them (is "
                f"{op.operator} running, does it watch namespace {op.namespace}?).",
                evidence=[
                    Evidence(ref("Service", svc.meta), "spec.selector", sel_text),
                    Evidence(op.ref(), "pods", "0"),
                ],
                confirm=(
                    kubectl("get", "pods", "-n", svc.namespace, "-l", sel_text),
                    kubectl("get", "pods", "-A", "-l", f"app.kubernetes.io/name={op.operator}"),
                ),
                fix=Fix(
                    text=f"Make {op.operator} reconcile {op.ref()} (running, watching {op.namespace})."
                ),
            )
            continue
        # The nearest pod (label drift): one fact with the trace's service hop.
        near = selector_near_miss(model, svc.namespace, selector)
        evidence = [Evidence(ref("Service", svc.meta), "spec.selector", sel_text)]
        hint = ""
        if near is not None:
            for k, _want, have in near.differences:
                evidence.append(
                    Evidence(
                        ref("Pod", near.pod.meta),
                        f"metadata.labels.{k}",
                        have if have is not None else "<absent>",
                    )
                )
            if len(near.differences) == 1:
                k, _want, have = near.differences[0]
                shown = have if have is not None else "<absent>"
                hint = f"; pod {near.pod.name} differs only in {k}={shown}"
            else:
                hint = f"; the nearest pod, {near.pod.name}, has {near.describe()}"
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
