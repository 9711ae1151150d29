"""Small builders for evidence references and confirm commands (real names filled in)."""

from __future__ import annotations

from netsleuth.model import commands
from netsleuth.model.commands import Command, kubectl
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


def exec_in(pod: Pod, command: Command) -> Command:
    """``command`` run inside ``pod`` (``kubectl exec -n NS pod/NAME -- …``); its pipe stages run locally."""
    inner = commands.exec_in(pod.namespace, pod.name, *command.argv)
    return Command(inner.argv, command.stages, command.comment)


def slices_cmd(svc: Service) -> Command:
    return kubectl(
        "get",
        "endpointslice",
        "-n",
        svc.namespace,
        "-l",
        f"kubernetes.io/service-name={svc.name}",
        "-o",
        "wide",
    )


def selector_text(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
