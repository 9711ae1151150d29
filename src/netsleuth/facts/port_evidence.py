"""Weighing the evidence on which port a pod's application listens.

Declaring ``containerPort`` is optional, so a Service ``targetPort`` that no
container declares proves nothing by itself. Other facts in the same pod spec
do, and they are weighed here instead of calling the port "unverified":

- the containers declare *other* ports (a port changed in one place only) —
  suspicious, not proof;
- a readiness probe succeeds on another port (the pod is Ready and its probe
  targets that port): the application answers there;
- an environment variable named like a listen port (``PORT``,
  ``HTTP_PORT``, ``SERVER_PORT``, ``LISTEN_PORT``…) holds another number.

Either of the last two makes the target port a verified fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsleuth.model.objects import Container, Pod, Probe

# Env var names that set the port a server listens on (PORT is the Heroku/Cloud Run/Knative
# convention; the others are the common spellings).
_PORT_ENV = re.compile(r"^(?:[A-Z0-9]+_)*(?:HTTP_|SERVER_|LISTEN_|APP_|GRPC_|WEB_)?PORT$")


@dataclass(frozen=True, slots=True)
class PortClue:
    """One fact about where the app listens: ``what`` says where it was read."""

    pod: Pod
    container: str
    port: int
    what: str
    """``readinessProbe httpGet port 8080 (pod Ready)``, ``env PORT=8080``, ``containerPort 8080``."""
    field: str
    """The field path in the pod, for evidence."""


@dataclass(frozen=True, slots=True)
class TargetPortWeighing:
    """What the pods say about a numeric target port they do not declare."""

    target: int
    declared: tuple[PortClue, ...]
    """Ports the containers declare instead."""
    probes: tuple[PortClue, ...]
    """Ready pods whose readiness probe succeeds on another port."""
    env: tuple[PortClue, ...]
    """Listen-port env vars holding another number."""

    @property
    def verified(self) -> bool:
        """A probe or the app's own configuration says it listens elsewhere: a fault."""
        return bool(self.probes or self.env)

    @property
    def suspect(self) -> bool:
        return bool(self.declared or self.probes or self.env)

    def clues(self) -> tuple[PortClue, ...]:
        return (*self.probes, *self.env, *self.declared)


def probe_port(container: Container, probe: Probe | None) -> int | None:
    """The numeric port a probe targets (a named port resolved in its container)."""
    if probe is None or probe.port is None:
        return None
    if isinstance(probe.port, int):
        return probe.port
    if probe.port.isdigit():
        return int(probe.port)
    for cp in container.ports:
        if cp.name == probe.port:
            return cp.container_port
    return None


def weigh_target_port(pods: list[Pod], target: int, protocol: str = "TCP") -> TargetPortWeighing:
    """The clues that ``target`` is not where the pods' application listens."""
    declared: list[PortClue] = []
    probes: list[PortClue] = []
    env: list[PortClue] = []
    for pod in pods[:5]:
        containers = [c for c in pod.spec.containers]
        if any(cp.container_port == target for c in containers for cp in c.ports):
            continue
        for c in containers:
            for cp in c.ports:
                if cp.protocol == protocol and cp.container_port != target:
                    declared.append(
                        PortClue(
                            pod,
                            c.name,
                            cp.container_port,
                            f"containerPort {cp.container_port}"
                            + (f" ({cp.name})" if cp.name else ""),
                            f"spec.containers[{c.name}].ports",
                        )
                    )
            p = probe_port(c, c.readiness_probe)
            if p is not None and p != target and pod.ready and not pod.meta.derived:
                probes.append(
                    PortClue(
                        pod,
                        c.name,
                        p,
                        f"readinessProbe {c.readiness_probe.handler if c.readiness_probe else ''} "
                        f"port {p} succeeds (pod Ready)",
                        f"spec.containers[{c.name}].readinessProbe",
                    )
                )
            for name, value in c.env:
                if _PORT_ENV.match(name) and value.isdigit() and int(value) != target:
                    env.append(
                        PortClue(
                            pod,
                            c.name,
                            int(value),
                            f"env {name}={value}",
                            f"spec.containers[{c.name}].env",
                        )
                    )
    return TargetPortWeighing(target, tuple(declared), tuple(probes), tuple(env))


def undeclared_probe_ports(pod: Pod) -> list[tuple[Container, str, Probe, int | str]]:
    """``(container, 'readiness'|'liveness', probe, port)`` for probes on a port the container
    does not declare: a name that no port carries (the probe can never run), or a number
    while the container declares other ports."""
    out: list[tuple[Container, str, Probe, int | str]] = []
    for c in pod.spec.containers:
        numbers = {cp.container_port for cp in c.ports}
        names = {cp.name for cp in c.ports if cp.name}
        for kind, probe in (("readiness", c.readiness_probe), ("liveness", c.liveness_probe)):
            if (
                probe is None
                or probe.port is None
                or probe.handler not in ("httpGet", "tcpSocket", "grpc")
            ):
                continue
            port = probe.port
            if isinstance(port, str) and not port.isdigit():
                if port not in names:
                    out.append((c, kind, probe, port))
            elif numbers and int(port) not in numbers:
                out.append((c, kind, probe, int(port)))
    return out


__all__ = [
    "PortClue",
    "TargetPortWeighing",
    "probe_port",
    "undeclared_probe_ports",
    "weigh_target_port",
]
