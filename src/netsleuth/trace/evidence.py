"""Small builders for evidence references and confirm commands (real names filled in)."""

from __future__ import annotations

from netsleuth.model.findings import Evidence
from netsleuth.model.objects import Pod, Service


def ref(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def pod_ref(pod: Pod) -> str:
    return ref("Pod", pod.namespace, pod.name)


def svc_ref(svc: Service) -> str:
    return ref("Service", svc.namespace, svc.name)


def ev(obj: str, field: str, value: object) -> Evidence:
    return Evidence(object=obj, field=field, value=str(value))


def exec_in(pod: Pod, command: str) -> str:
    return f"kubectl exec -n {pod.namespace} pod/{pod.name} -- {command}"


def slices_cmd(svc: Service) -> str:
    return f"kubectl get endpointslice -n {svc.namespace} -l kubernetes.io/service-name={svc.name} -o wide"


def selector_text(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
