"""Turn a ``probe SRC DST`` question into what the agent sends, from the model.

The source is a pod (``ns/pod``, or a workload: its first usable pod). The
destination decides the probes, following the triage order (DNS, Service,
endpoints, pod IP, MTU):

- a Service (``ns/svc``, a DNS name the model resolves to one, or its
  ClusterIP): the lookup of the name as the app would write it, TCP
  connects (or UDP exchanges) to ClusterIP:port several times to see every
  endpoint behind it, one to each ready endpoint at its targetPort, and a DF
  ping sweep to each endpoint;
- a pod or an IP: connects to IP:port and the sweep;
- any other DNS name: the lookup only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netsleuth.errors import QueryError
from netsleuth.facts.cluster_domain import DEFAULT_CLUSTER_DOMAIN, cluster_domain
from netsleuth.facts.dns_resolution import resolve as simulate_resolution
from netsleuth.lab.plan import service_endpoints
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Pod, Service
from netsleuth.model.targets import Target, parse_target

SERVICE_REPEAT = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectTarget:
    kind: str  # service, endpoint, pod, ip
    label: str
    protocol: str
    ip: str
    port: int
    repeat: int = 1
    pod: str | None = None
    """``ns/name`` of the pod behind an endpoint or a pod target."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeRequest:
    src: Pod
    dst_text: str
    dst: Target
    dns_names: tuple[str, ...] = ()
    expected_addresses: tuple[str, ...] = ()
    connects: tuple[ConnectTarget, ...] = ()
    mtu_targets: tuple[str, ...] = ()
    service: Service | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    """The cluster's DNS domain (derived, or ``--cluster-domain``): the agent's DNS query to a
    port 53 is for a name under it."""

    def agent_plan(
        self, *, timeout: float, dns_timeout: float | None, mtu_max: int | None
    ) -> dict[str, Any]:
        plan: dict[str, Any] = {
            "timeout": timeout,
            "cluster_domain": self.cluster_domain,
            "dns": [{"name": n} for n in self.dns_names],
            "connect": [
                {"proto": c.protocol, "ip": c.ip, "port": c.port, "repeat": c.repeat}
                for c in self.connects
            ],
            "mtu": [
                {"ip": ip, "max": mtu_max, "tcp_port": self._tcp_port(ip)}
                for ip in self.mtu_targets
            ],
        }
        if dns_timeout is not None:
            plan["dns_timeout"] = dns_timeout
        return plan

    def _tcp_port(self, ip: str) -> int | None:
        """A TCP port of ``ip`` being probed: the MTU sweep's fallback when ICMP is dropped."""
        return next(
            (
                c.port
                for c in self.connects
                if c.ip == ip and c.protocol == "TCP" and c.kind != "service"
            ),
            None,
        )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def pick_source(model: ClusterModel, text: str, usable: Callable[[Pod], bool]) -> Pod:
    target = parse_target(model, text, role="src")
    if target.form == "external":
        raise QueryError("a probe needs a source pod, not 'external'")
    pods = list(target.pods)
    if not pods and target.ip:
        pods = list(model.pods_by_ip.get(target.ip, ()))
    for p in pods:
        if usable(p):
            return p
    if pods:
        raise QueryError(
            f"no pod of {text!r} can send probes here (hostNetwork, no IP, or not in the lab): "
            + ", ".join(f"{p.namespace}/{p.name}" for p in pods[:5])
        )
    raise QueryError(f"{text!r} is not a pod or workload with pods")


def _service_connects(
    model: ClusterModel, svc: Service, port: int | None, protocol: str | None
) -> tuple[list[ConnectTarget], list[str], list[str]]:
    connects: list[ConnectTarget] = []
    mtu: list[str] = []
    notes: list[str] = []
    ports = [
        sp
        for sp in svc.ports
        if (port is None or sp.port == port)
        and (protocol is None or sp.protocol == protocol)
        and sp.protocol in ("TCP", "UDP")
    ]
    if port is not None and not ports:
        notes.append(f"Service {svc.namespace}/{svc.name} has no port {port}")
    for sp in ports:
        eps = service_endpoints(model, svc, sp.name, sp.protocol)
        spn = f"{svc.namespace}/{svc.name}:{sp.name or sp.port}"
        if not svc.headless and svc.cluster_ip:
            connects.append(
                ConnectTarget(
                    kind="service",
                    label=f"{spn} ClusterIP {svc.cluster_ip}:{sp.port}/{sp.protocol}",
                    protocol=sp.protocol,
                    ip=svc.cluster_ip,
                    port=sp.port,
                    repeat=SERVICE_REPEAT,
                )
            )
        if not eps:
            notes.append(f"{spn} has no ready endpoints in the EndpointSlices")
        for ip, eport, _node in eps:
            owner = next(iter(model.pods_by_ip.get(ip, ())), None)
            connects.append(
                ConnectTarget(
                    kind="endpoint",
                    label=f"endpoint {ip}:{eport}/{sp.protocol}"
                    + (f" ({owner.namespace}/{owner.name})" if owner else ""),
                    protocol=sp.protocol,
                    ip=ip,
                    port=eport,
                    pod=f"{owner.namespace}/{owner.name}" if owner else None,
                )
            )
            if ip not in mtu:
                mtu.append(ip)
    return connects, mtu, notes


def _pod_ports(pod: Pod, port: int | None, protocol: str | None) -> list[tuple[str, int]]:
    if port is not None:
        return [(protocol or "TCP", port)]
    out = []
    for cp in pod.spec.all_ports():
        if cp.protocol in ("TCP", "UDP") and (protocol is None or cp.protocol == protocol):
            out.append((cp.protocol, cp.container_port))
    return sorted(set(out))


def plan_probe(
    model: ClusterModel,
    src_text: str,
    dst_text: str,
    *,
    port: int | None = None,
    protocol: str | None = None,
    usable: Callable[[Pod], bool] = lambda p: bool(p.ip) and not p.host_network,
    domain: str | None = None,
) -> ProbeRequest:
    """What to probe from ``src_text`` towards ``dst_text``; ``domain`` is the user's
    ``--cluster-domain`` (else the one the input shows, else ``cluster.local``)."""
    src = pick_source(model, src_text, usable)
    dst = parse_target(model, dst_text, role="dst")
    port = port if port is not None else dst.port
    notes: list[str] = []
    dns_names: list[str] = []
    expected: list[str] = []
    connects: list[ConnectTarget] = []
    mtu: list[str] = []
    svc = dst.service
    if dst.form == "dns" and dst.dns_name:
        dns_names.append(dst.dns_name)
    elif dst.form == "service" and svc is not None:
        # the name as an app in another namespace writes it; the short name in its own
        dns_names.append(
            svc.name if svc.namespace == src.namespace else f"{svc.name}.{svc.namespace}"
        )
    if dst.form == "ip" and dst.ip:
        svc = svc or model.services_by_cluster_ip.get(dst.ip)
    if svc is None and dst.dns_name:
        # what the pod's resolver should find (the model's answer), to probe behind it
        res = simulate_resolution(model, src, dst.dns_name)
        if res.answer is not None and res.answer.service is not None:
            svc = res.answer.service
    if svc is not None:
        if svc.headless:
            expected = sorted({a for ep in model.ready_endpoints(svc) for a in ep.addresses})
        elif svc.cluster_ip:
            expected = [svc.cluster_ip]
        c, m, n = _service_connects(model, svc, port, protocol)
        connects += c
        mtu += m
        notes += n
    elif dst.form in ("pod", "workload") and dst.pods:
        pod = next((p for p in dst.pods if p.ip and not p.host_network), None)
        if pod is None or pod.ip is None:
            raise QueryError(f"{dst_text!r} has no pod with an IP to probe")
        for proto, prt in _pod_ports(pod, port, protocol):
            connects.append(
                ConnectTarget(
                    kind="pod",
                    label=f"pod {pod.namespace}/{pod.name} {pod.ip}:{prt}/{proto}",
                    protocol=proto,
                    ip=pod.ip,
                    port=prt,
                    pod=f"{pod.namespace}/{pod.name}",
                )
            )
        if not connects:
            notes.append(f"pod {pod.namespace}/{pod.name} declares no port: give --port")
        mtu.append(pod.ip)
    elif dst.form == "ip" and dst.ip:
        owner = next(iter(model.pods_by_ip.get(dst.ip, ())), None)
        if port is not None:
            connects.append(
                ConnectTarget(
                    kind="ip",
                    label=f"{dst.ip}:{port}/{protocol or 'TCP'}",
                    protocol=protocol or "TCP",
                    ip=dst.ip,
                    port=port,
                    pod=f"{owner.namespace}/{owner.name}" if owner else None,
                )
            )
        mtu.append(dst.ip)
    return ProbeRequest(
        src=src,
        dst_text=dst_text,
        dst=dst,
        dns_names=tuple(dns_names),
        expected_addresses=tuple(expected),
        connects=tuple(connects),
        mtu_targets=tuple(mtu),
        service=svc,
        notes=tuple(notes),
        cluster_domain=cluster_domain(model, domain),
    )
