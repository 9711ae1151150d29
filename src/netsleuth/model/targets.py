"""The one parser of SRC and DST (``trace``, ``explain``, ``report --trace``) into cluster objects.

Forms: ``ns/pod``, ``ns/workload``, ``kind/ns/name``, ``ns/service``, a DNS
name as the app would use it (``backend``, ``backend.payments``,
``backend.payments.svc.cluster.local``, ``api.stripe.com``, with or without
a trailing dot), an IP, ``external`` (SRC only), and a URL (DST, for
north-south traffic). When ``ns/name`` names both a Service and a
workload, DST means the Service and SRC means the workload: that is how
people ask the question ("why can't checkout reach payments?").

With a default namespace (``-n shop``, as kubectl reads it), a bare name is
``shop/name`` and ``kind/name`` is ``kind/shop/name``. A bare DST that names
nothing in that namespace is still a DNS name (``api.stripe.com``, or a short
name the app resolves from its own namespace).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from netsleuth.errors import QueryError
from netsleuth.model.cluster import WORKLOAD_KINDS, ClusterModel, WorkloadRef
from netsleuth.model.objects import Pod, Service

KIND_ALIASES = {
    "pod": "Pod",
    "po": "Pod",
    "pods": "Pod",
    "deployment": "Deployment",
    "deploy": "Deployment",
    "deployments": "Deployment",
    "statefulset": "StatefulSet",
    "sts": "StatefulSet",
    "daemonset": "DaemonSet",
    "ds": "DaemonSet",
    "replicaset": "ReplicaSet",
    "rs": "ReplicaSet",
    "job": "Job",
    "cronjob": "CronJob",
    "service": "Service",
    "svc": "Service",
    "services": "Service",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A resolved SRC or DST."""

    form: str  # pod, workload, service, dns, ip, external, url
    text: str
    pods: tuple[Pod, ...] = ()
    workload: WorkloadRef | None = None
    service: Service | None = None
    dns_name: str | None = None
    ip: str | None = None
    url_host: str | None = None
    url_path: str | None = None
    url_scheme: str | None = None
    port: int | None = None

    def describe(self) -> str:
        if self.form == "pod" and self.pods:
            return f"pod {self.pods[0].namespace}/{self.pods[0].name}"
        if self.form == "workload" and self.workload:
            return f"{self.workload.kind.lower()} {self.workload.namespace}/{self.workload.name}"
        if self.form == "service" and self.service:
            return f"service {self.service.namespace}/{self.service.name}"
        if self.form == "dns":
            return f"name {self.dns_name}"
        if self.form == "ip":
            return f"IP {self.ip}"
        if self.form == "url":
            return f"URL {self.text}"
        return self.form


def _split_port(text: str) -> tuple[str, int | None]:
    if text.count(":") == 1 and not text.startswith("["):
        host, _, port = text.partition(":")
        if port.isdigit():
            return host, int(port)
    return text, None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _workload_pods(model: ClusterModel, ref: WorkloadRef) -> tuple[Pod, ...]:
    pods = model.pods_of_workload(ref)
    # Running and Ready first: a trace should start from a pod that could send.
    pods.sort(key=lambda p: (not p.running, not p.ready, p.name))
    return tuple(pods)


def _find_workload(
    model: ClusterModel, ns: str, name: str, kind: str | None = None
) -> WorkloadRef | None:
    kinds = (kind,) if kind else WORKLOAD_KINDS
    for k in kinds:
        if model.workload(k, ns, name) is not None:
            return WorkloadRef(k, ns, name)
    # A workload known only through its pods' ownerReferences.
    for p in model.pods_by_namespace.get(ns, ()):
        ref = model.owner(p)
        if ref.name == name and (kind is None or ref.kind == kind) and ref.kind != "Pod":
            return ref
    return None


def close_matches(model: ClusterModel, text: str) -> list[str]:
    import difflib

    names = [f"{p.namespace}/{p.name}" for p in model.pods]
    names += [f"{s.namespace}/{s.name}" for s in model.services]
    names += [f"{w.namespace}/{w.name}" for w in model.workloads]
    return difflib.get_close_matches(text, sorted(set(names)), n=3, cutoff=0.6)


def _exists_in(model: ClusterModel, ns: str, name: str) -> bool:
    return (
        model.service(ns, name) is not None
        or model.pod(ns, name) is not None
        or _find_workload(model, ns, name) is not None
    )


def qualify(model: ClusterModel, text: str, namespace: str | None, *, role: str) -> str:
    """``text`` with the default namespace applied to a bare name or ``kind/name``.

    >>> qualify(ClusterModel(), "deploy/web", "shop", role="src")
    'deploy/shop/web'
    """
    raw = text.strip()
    if namespace is None or not raw or raw == "external" or "://" in raw:
        return raw
    host, port = _split_port(raw)
    parts = host.split("/")
    suffix = f":{port}" if port is not None else ""
    if len(parts) == 2 and parts[0].lower() in KIND_ALIASES:
        return f"{parts[0]}/{namespace}/{parts[1]}{suffix}"
    if len(parts) != 1 or _is_ip(host):
        return raw
    if role == "src" or _exists_in(model, namespace, host):
        return f"{namespace}/{host}{suffix}"
    return raw


def parse_target(
    model: ClusterModel, text: str, *, role: str, namespace: str | None = None
) -> Target:
    """Resolve ``text`` as SRC (``role="src"``) or DST (``role="dst"``).

    ``namespace``: the default namespace (``-n``) for bare names (see :func:`qualify`).
    """
    raw = qualify(model, text, namespace, role=role)
    if not raw:
        raise QueryError(f"empty {role}")
    if raw == "external":
        if role != "src":
            raise QueryError(
                "'external' is a source; as destination give a URL, a name or an IP",
                tip="e.g. netsleuth trace external https://shop.example.com/cart",
            )
        return Target(form="external", text=raw)
    if "://" in raw:
        url = urlsplit(raw)
        if not url.hostname:
            raise QueryError(f"URL without a host: {raw}")
        default_port = 443 if url.scheme == "https" else 80
        return Target(
            form="url",
            text=raw,
            url_host=url.hostname,
            url_path=url.path or "/",
            url_scheme=url.scheme,
            port=url.port or default_port,
        )
    host, port = _split_port(raw)
    if _is_ip(host):
        pods = model.pods_by_ip.get(host, ())
        svc = model.services_by_cluster_ip.get(host)
        if role == "dst" and svc is not None:
            return Target(form="service", text=raw, service=svc, ip=host, port=port)
        if pods:
            return Target(form="pod", text=raw, pods=(pods[0],), ip=host, port=port)
        return Target(form="ip", text=raw, ip=host, port=port)
    parts = host.split("/")
    if len(parts) == 3:
        kind = KIND_ALIASES.get(parts[0].lower())
        if kind is None:
            raise QueryError(
                f"unknown kind {parts[0]!r} in {raw}",
                tip="Use pod/, deployment/, statefulset/, daemonset/, replicaset/ or service/.",
            )
        ns, name = parts[1], parts[2]
        if kind == "Pod":
            pod = model.pod(ns, name)
            if pod is None:
                raise QueryError(f"no pod {ns}/{name}", tip=_tip(model, f"{ns}/{name}"))
            return Target(form="pod", text=raw, pods=(pod,), port=port)
        if kind == "Service":
            svc = model.service(ns, name)
            if svc is None:
                raise QueryError(f"no service {ns}/{name}", tip=_tip(model, f"{ns}/{name}"))
            return Target(form="service", text=raw, service=svc, port=port)
        ref = _find_workload(model, ns, name, kind)
        if ref is None:
            raise QueryError(f"no {kind} {ns}/{name}", tip=_tip(model, f"{ns}/{name}"))
        return Target(
            form="workload", text=raw, workload=ref, pods=_workload_pods(model, ref), port=port
        )
    if len(parts) == 2:
        ns, name = parts
        svc = model.service(ns, name)
        pod = model.pod(ns, name)
        ref = _find_workload(model, ns, name)
        if role == "dst" and svc is not None:
            return Target(form="service", text=raw, service=svc, port=port)
        if pod is not None:
            return Target(form="pod", text=raw, pods=(pod,), port=port)
        if ref is not None:
            return Target(
                form="workload", text=raw, workload=ref, pods=_workload_pods(model, ref), port=port
            )
        if svc is not None:
            # SRC given as a Service: the traffic starts from one of its pods.
            pods = tuple(model.pods_matching(ns, svc.selector)) if svc.selector else ()
            return Target(form="service", text=raw, service=svc, pods=pods, port=port)
        raise QueryError(
            f"no pod, workload or service named {ns}/{name}", tip=_tip(model, f"{ns}/{name}")
        )
    if len(parts) == 1 and role == "dst":
        return Target(form="dns", text=raw, dns_name=host, port=port)
    if len(parts) == 1 and role == "src":
        raise QueryError(
            f"source {raw!r}: give ns/name, kind/ns/name, an IP or 'external'",
            tip=f"or give the namespace with -n: -n NAMESPACE {raw}",
        )
    raise QueryError(f"cannot parse {raw!r}")


def _tip(model: ClusterModel, text: str) -> str:
    m = close_matches(model, text)
    return (
        ("Did you mean: " + ", ".join(m) + "?")
        if m
        else "Run `netsleuth inventory` to list what was loaded."
    )
