"""MESH901: pods where Istio injection is expected run without an istio-proxy sidecar."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.mesh_membership import sidecar_missing
from netsleuth.model.cluster import ClusterModel, WorkloadRef
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta, Pod


@register(
    id="MESH901",
    layer=Layer.MESH,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Pod", "Namespace")),
)
def mesh_sidecar_missing(model: ClusterModel) -> Iterator[Finding]:
    """Pods where Istio injection is expected run without an istio-proxy sidecar.

    What it checks:
        Pods read from the cluster (not implied by a template), running or
        pending, not host-network, outside the system namespaces, for which
        Istio's injection rules say a sidecar is injected (namespace label
        ``istio-injection=enabled`` or ``istio.io/rev``, or the pod's
        ``sidecar.istio.io/inject=true``; any disabled/false wins) but that
        have neither an ``istio-proxy`` container nor an ``istio-proxy``
        native-sidecar init container. One finding per workload.

    Why it breaks traffic:
        A pod without its proxy is outside the mesh: calls to it from meshed
        clients lose mTLS, and its own calls to services under STRICT mTLS
        are reset ("connection reset by peer", "upstream connect error");
        routing rules and AuthorizationPolicies do not apply to it.

    Example:
        Namespace ``shop`` labeled ``istio-injection=enabled`` after its pods
        were created: ``web-7d9f`` still runs only ``web``.

    Fix:
        Restart the workload so the injector sees its pods
        (``kubectl rollout restart``); if new pods still lack the sidecar,
        check that istiod and its mutating webhook are up and that the
        revision in ``istio.io/rev`` exists.

    Confirm live:
        ``kubectl get pod -n <ns> <pod> -o jsonpath='{.spec.containers[*].name}'``;
        ``istioctl x check-inject -n <ns> <pod>``;
        ``kubectl get mutatingwebhookconfiguration | grep istio``.

    References:
        https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/ ;
        https://istio.io/latest/docs/ops/common-problems/injection/
    """
    groups: dict[WorkloadRef, list[tuple[Pod, str, str]]] = {}
    for pod in model.pods:
        inj = sidecar_missing(model, pod)
        if inj is None:
            continue
        groups.setdefault(model.owner(pod), []).append((pod, inj.reason, inj.field))
    for ref, pods in sorted(
        groups.items(), key=lambda kv: (kv[0].namespace, kv[0].kind, kv[0].name)
    ):
        pod, reason, field = pods[0]
        w = model.workload(ref.kind, ref.namespace, ref.name)
        meta = (
            w.meta
            if w is not None
            else (pod.meta if ref.kind == "Pod" else Meta(name=ref.name, namespace=ref.namespace))
        )
        containers = ", ".join(c.name for c in pod.spec.containers)
        restart = (
            kubectl("-n", ref.namespace, "rollout", "restart", f"{ref.kind.lower()}/{ref.name}")
            if ref.kind in ("Deployment", "StatefulSet", "DaemonSet")
            else kubectl("-n", ref.namespace, "delete", "pod", pod.name)
        )
        yield finding(
            "MESH901",
            model,
            kind=ref.kind,
            meta=meta,
            message=f"{ref.kind.lower()} {ref.namespace}/{ref.name}: {len(pods)} pod(s) have no istio-proxy sidecar although "
            f"{reason}: they are outside the mesh",
            evidence=[
                Evidence(field.split(" ", 1)[0], field.split(" ", 1)[-1], reason),
                Evidence(f"Pod/{pod.namespace}/{pod.name}", "spec.containers[*].name", containers),
            ],
            confirm=(
                kubectl(
                    "get",
                    "pod",
                    "-n",
                    pod.namespace,
                    pod.name,
                    "-o",
                    "jsonpath={.spec.containers[*].name}",
                ),
                cmd("istioctl", "x", "check-inject", "-n", pod.namespace, pod.name),
                kubectl("get", "mutatingwebhookconfiguration").pipe("grep", "istio"),
            ),
            fix=Fix(
                text="Recreate the pods so the injector adds the sidecar; if it still does not, check istiod and "
                "its mutating webhook.",
                command=restart,
            ),
        )
