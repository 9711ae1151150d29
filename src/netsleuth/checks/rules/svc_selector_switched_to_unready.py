"""SVC212: a Service was switched (blue/green) to pods that are not Ready; the old ones are."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.attribution import workloads_of
from netsleuth.facts.rollouts import premature_switch
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl, merge_patch
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC212",
    layer=Layer.SERVICE,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "Pod")),
)
def selector_switched_to_unready(model: ClusterModel) -> Iterator[Finding]:
    """A Service's selector was switched to pods that are not Ready, while the pods it left are.

    What it checks: Services whose selected pods are all not Ready while Ready
    pods of the same application differ from the selector in exactly one key
    (``version: green`` selected, ``version: blue`` Ready and unselected): a
    blue/green switch made before the new side was ready. Live state only
    (pods with status); SVC202 stays quiet for these Services.

    Why it breaks traffic: the Service has no ready endpoint, so every client
    gets ``connection refused`` (or 503 through an Ingress), although a
    complete, Ready set of the previous version is running next to it.

    Example:
      selector: {app: ledger, version: green}   # ledger-green pods: 0/2 Ready
      # ledger-blue pods (version: blue): 2/2 Ready, selected by nothing

    Fix: roll back the switch (set the selector key back to the Ready side's
    value), then switch again once the new pods are Ready.

    Confirm live:
      kubectl get pods -n <ns> -l app=<app> -L version
      kubectl get svc -n <ns> <svc> -o jsonpath='{.spec.selector}'

    References:
      https://kubernetes.io/docs/concepts/workloads/controllers/deployment/
      https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service
    """
    for svc in model.services:
        if svc.publish_not_ready_addresses or not svc.has_selector:
            continue
        sw = premature_switch(model, svc)
        if sw is None:
            continue
        new = workloads_of(model, list(sw.selected))
        old = workloads_of(model, list(sw.ready))
        yield finding(
            "SVC212",
            model,
            kind="Service",
            meta=svc.meta,
            also=tuple(p.meta for p in sw.selected[:1]),
            message=f"Service {svc.namespace}/{svc.name} selects {sw.key}={sw.selected_value} "
            f"({', '.join(o.ref() for o in new[:2])}: {len(sw.selected)} pod(s), none Ready) while "
            f"{len(sw.ready)} Ready pod(s) of {', '.join(o.ref() for o in old[:2])} carry "
            f"{sw.key}={sw.ready_value}: the switch was made before the new side was ready; roll it back.",
            evidence=[
                Evidence(ref("Service", svc.meta), f"spec.selector.{sw.key}", sw.selected_value),
                *(
                    Evidence(ref("Pod", p.meta), "status.conditions[Ready]", "False")
                    for p in sw.selected[:2]
                ),
                *(
                    Evidence(
                        ref("Pod", p.meta), f"metadata.labels.{sw.key}", f"{sw.ready_value} (Ready)"
                    )
                    for p in sw.ready[:2]
                ),
            ],
            confirm=(
                kubectl("get", "pods", "-n", svc.namespace, "-L", sw.key, "-o", "wide"),
                kubectl("describe", "pod", "-n", svc.namespace, sw.selected[0].name),
            ),
            fix=Fix(
                text=f"Roll the Service back to {sw.key}={sw.ready_value} (the Ready side); switch to "
                f"{sw.selected_value} again once its pods are Ready.",
                command=merge_patch(
                    "svc", svc.namespace, svc.name, {"spec": {"selector": {sw.key: sw.ready_value}}}
                ),
            ),
        )
