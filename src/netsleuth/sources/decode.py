"""Turn raw API objects (dicts) into frozen model objects.

One decoder per (apiGroup, kind), looked up in :data:`DECODERS` (the
lightkube idea of an (apiVersion, kind) registry). A decoder never raises
for bad content: a field of the wrong type is skipped with a
:class:`LoadProblem` naming the object and the field, and the rest of the
object is kept. Only an object without ``kind`` or ``metadata.name`` is
skipped whole.

Kinds netsleuth does not analyse are kept as :class:`UnknownObject` (counted
in ``inventory``); CRD kinds that an analysis understands (Cilium, Calico,
AdminNetworkPolicy, Istio, Gateway API extras) become :class:`CustomObject`.

Secrets are reduced to name, namespace and type: their data is dropped
here even if a dump contains it.
"""

from __future__ import annotations

import functools
import reprlib
from collections.abc import Callable
from typing import Any

from netsleuth.model.cluster import WORKLOAD_KINDS, ModelObject
from netsleuth.model.intervals import parse_cidr
from netsleuth.model.objects import (
    BackendRef,
    ConfigMap,
    Container,
    ContainerPort,
    ContainerStatus,
    CustomObject,
    DNSConfig,
    Endpoint,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointTarget,
    Event,
    Gateway,
    GatewayClass,
    Ingress,
    IngressBackend,
    IngressClass,
    IngressPath,
    IngressRuleSpec,
    IngressTLS,
    IPBlock,
    Listener,
    Meta,
    Namespace,
    NetworkPolicy,
    Node,
    NodeAddress,
    OwnerRef,
    ParentRef,
    Pod,
    PodSpec,
    PodTemplate,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    Probe,
    Route,
    RouteParentStatus,
    RouteRule,
    SecretRef,
    Service,
    ServicePort,
    Taint,
    UnknownObject,
    Workload,
)
from netsleuth.model.objects import Condition as Cond
from netsleuth.model.problems import Level, LoadProblem, Origin
from netsleuth.model.selectors import LabelSelector, Operator, Requirement
from netsleuth.model.untrusted import visible
from netsleuth.model.validation import label_problems, labels_valid, name_problem, namespace_problem
from netsleuth.sources.base import RawObject
from netsleuth.sources.decode_fast import FAST, Bail
from netsleuth.sources.decode_fast import meta as fast_meta
from netsleuth.sources.policy_validation import network_policy_errors

PROTOCOLS = ("TCP", "UDP", "SCTP")

CUSTOM_KINDS: dict[str, set[str]] = {
    "cilium.io": {"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"},
    "crd.projectcalico.org": {"NetworkPolicy", "GlobalNetworkPolicy", "IPPool"},
    "projectcalico.org": {"NetworkPolicy", "GlobalNetworkPolicy", "IPPool"},
    "policy.networking.k8s.io": {"AdminNetworkPolicy", "BaselineAdminNetworkPolicy"},
    "networking.istio.io": {
        "VirtualService",
        "DestinationRule",
        "Gateway",
        "Sidecar",
        "ServiceEntry",
    },
    "security.istio.io": {"PeerAuthentication", "AuthorizationPolicy"},
    "gateway.networking.k8s.io": {"ReferenceGrant"},
    "route.openshift.io": {"Route"},
}


class _Ctx:
    """Collects problems for one object, naming it and its origin."""

    __slots__ = ("label", "origin", "problems")

    def __init__(self, label: str, origin: Origin) -> None:
        self.label = label
        self.origin = origin
        self.problems: list[LoadProblem] = []

    def bad(self, field: str, value: Any, expected: str, level: Level = Level.WARNING) -> None:
        self.problems.append(
            LoadProblem(
                level=level,
                message=f"field {field}: expected {expected}, got {shown(value)}",
                origin=self.origin,
                object=self.label,
                skipped=f"field {field}",
            )
        )

    # typed getters: wrong types are reported and replaced by a default
    def d(self, obj: Any, key: str, field: str) -> dict[str, Any]:
        v = obj.get(key) if isinstance(obj, dict) else None
        if v is None:
            return {}
        if not isinstance(v, dict):
            self.bad(field, v, "an object")
            return {}
        return v

    def lst(self, obj: Any, key: str, field: str) -> list[Any]:
        v = obj.get(key) if isinstance(obj, dict) else None
        if v is None:
            return []
        if not isinstance(v, list):
            self.bad(field, v, "a list")
            return []
        return v

    def s(self, obj: Any, key: str, field: str, default: str | None = None) -> str | None:
        v = obj.get(key) if isinstance(obj, dict) else None
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            self.bad(field, v, "a string")
            return default
        return str(v)

    def i(self, obj: Any, key: str, field: str, default: int | None = None) -> int | None:
        v = obj.get(key) if isinstance(obj, dict) else None
        if v is None:
            return default
        if isinstance(v, bool):
            self.bad(field, v, "an integer")
            return default
        if isinstance(v, int):
            return v
        if isinstance(v, str) and v.strip().lstrip("-").isdigit():
            return int(v)
        self.bad(field, v, "an integer")
        return default

    def b(self, obj: Any, key: str, field: str, default: bool | None = None) -> bool | None:
        v = obj.get(key) if isinstance(obj, dict) else None
        if v is None:
            return default
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("true", "false"):
            return v.lower() == "true"
        self.bad(field, v, "a boolean")
        return default

    def strmap(self, obj: Any, key: str, field: str) -> dict[str, str]:
        v = obj.get(key) if isinstance(obj, dict) else None
        if v is None:
            return {}
        if not isinstance(v, dict):
            self.bad(field, v, "a map of strings")
            return {}
        out: dict[str, str] = {}
        for k, val in v.items():
            if isinstance(val, str):
                out[str(k)] = val
            elif isinstance(val, bool):
                out[str(k)] = "true" if val else "false"
            elif isinstance(val, int | float):
                out[str(k)] = str(val)
            elif val is None:
                out[str(k)] = ""
            else:
                self.bad(f"{field}.{k}", val, "a string")
        return out

    def port_ref(self, obj: Any, key: str, field: str) -> int | str | None:
        """An IntOrString port: a number, a numeric string, or a name."""
        v = obj.get(key) if isinstance(obj, dict) else None
        if v is None:
            return None
        if isinstance(v, bool):
            self.bad(field, v, "a port number or name")
            return None
        if isinstance(v, int):
            if not 0 <= v <= 65535:
                self.bad(field, v, "a port number in 1-65535")
                return None
            return v
        if isinstance(v, str):
            if v.isdigit():
                n = int(v)
                if not 0 <= n <= 65535:
                    self.bad(field, v, "a port number in 1-65535")
                    return None
                return n
            if v:
                return v
        self.bad(field, v, "a port number or name")
        return None

    def protocol(self, obj: Any, key: str, field: str) -> str:
        v = self.s(obj, key, field)
        if v is None:
            return "TCP"
        up = v.upper()
        if up not in PROTOCOLS:
            self.bad(field, v, "TCP, UDP or SCTP")
            return "TCP"
        return up


# --------------------------------------------------------------------------- shared parts


def _meta(raw: dict[str, Any], origin: Origin, ctx: _Ctx) -> Meta:
    md = ctx.d(raw, "metadata", "metadata")
    owners = []
    for n, o in enumerate(ctx.lst(md, "ownerReferences", "metadata.ownerReferences")):
        if not isinstance(o, dict) or not o.get("name"):
            ctx.bad(f"metadata.ownerReferences[{n}]", o, "an owner reference with kind and name")
            continue
        if not o.get("kind"):
            # Kept: the model groups the object under the owner of that name.
            ctx.problems.append(
                LoadProblem(
                    level=Level.WARNING,
                    message=(
                        f"field metadata.ownerReferences[{n}]: no kind; the owner is matched "
                        f"by name ({str(o['name'])!r})"
                    ),
                    origin=ctx.origin,
                    object=ctx.label,
                )
            )
        owners.append(
            OwnerRef(
                kind=str(o.get("kind") or ""),
                name=str(o["name"]),
                api_version=str(o.get("apiVersion", "")),
                uid=str(o.get("uid", "")),
                controller=bool(o.get("controller", False)),
            )
        )
    return Meta(
        name=str(md.get("name", "")),
        namespace=ctx.s(md, "namespace", "metadata.namespace"),
        labels=ctx.strmap(md, "labels", "metadata.labels"),
        annotations=ctx.strmap(md, "annotations", "metadata.annotations"),
        uid=str(md.get("uid", "") or ""),
        owner_refs=tuple(owners),
        creation_timestamp=ctx.s(md, "creationTimestamp", "metadata.creationTimestamp"),
        deletion_timestamp=ctx.s(md, "deletionTimestamp", "metadata.deletionTimestamp"),
        origin=origin,
    )


def _conditions(obj: Any, ctx: _Ctx, field: str) -> tuple[Cond, ...]:
    out = []
    for n, c in enumerate(ctx.lst(obj, "conditions", field)):
        if not isinstance(c, dict) or "type" not in c:
            ctx.bad(f"{field}[{n}]", c, "a condition with a type")
            continue
        out.append(
            Cond(
                type=str(c.get("type")),
                status=str(c.get("status", "Unknown")),
                reason=str(c.get("reason", "") or ""),
                message=str(c.get("message", "") or ""),
                last_transition_time=c.get("lastTransitionTime"),
            )
        )
    return tuple(out)


def selector(obj: Any, ctx: _Ctx, field: str) -> LabelSelector:
    """Decode a metav1.LabelSelector. Invalid parts make the selector invalid (matches nothing)."""
    if obj is None:
        return LabelSelector()
    if not isinstance(obj, dict):
        ctx.bad(field, obj, "a label selector", Level.DEGRADED)
        return LabelSelector(invalid="not an object")
    labels = ctx.strmap(obj, "matchLabels", f"{field}.matchLabels")
    reqs: list[Requirement] = []
    invalid: str | None = None
    for n, e in enumerate(ctx.lst(obj, "matchExpressions", f"{field}.matchExpressions")):
        f = f"{field}.matchExpressions[{n}]"
        if not isinstance(e, dict) or not isinstance(e.get("key"), str):
            ctx.bad(f, e, "an expression with key and operator", Level.DEGRADED)
            invalid = f"{f} malformed"
            continue
        try:
            op = Operator(str(e.get("operator")))
        except ValueError:
            ctx.bad(
                f + ".operator",
                e.get("operator"),
                "In, NotIn, Exists or DoesNotExist",
                Level.DEGRADED,
            )
            invalid = f"{f} unknown operator"
            continue
        values = e.get("values") or []
        if not isinstance(values, list):
            ctx.bad(f + ".values", values, "a list", Level.DEGRADED)
            invalid = f"{f} values not a list"
            continue
        vals = frozenset(str(v) for v in values)
        if op in (Operator.IN, Operator.NOT_IN) and not vals:
            # The API server rejects this: "values: Required value ... must be non-empty".
            ctx.bad(f + ".values", values, "a non-empty list for In/NotIn", Level.DEGRADED)
            invalid = f"{f} {op} with no values"
            continue
        if op in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and vals:
            ctx.bad(f + ".values", values, "no values for Exists/DoesNotExist", Level.DEGRADED)
            invalid = f"{f} {op} with values"
            continue
        reqs.append(Requirement(e["key"], op, vals))
    return LabelSelector(
        labels=tuple(sorted(labels.items())), expressions=tuple(reqs), invalid=invalid
    )


def _probe(obj: Any) -> Probe | None:
    if not isinstance(obj, dict):
        return None
    for handler in ("httpGet", "tcpSocket", "grpc", "exec"):
        h = obj.get(handler)
        if isinstance(h, dict):
            port = h.get("port")
            return Probe(
                handler=handler,
                port=port if isinstance(port, int | str) and not isinstance(port, bool) else None,
                path=h.get("path") if isinstance(h.get("path"), str) else None,
            )
    return None


def _container(c: Any, ctx: _Ctx, field: str, is_init: bool) -> Container | None:
    if not isinstance(c, dict):
        ctx.bad(field, c, "a container")
        return None
    ports = []
    for n, p in enumerate(ctx.lst(c, "ports", f"{field}.ports")):
        pf = f"{field}.ports[{n}]"
        num = ctx.i(p, "containerPort", pf + ".containerPort")
        if num is None or not 0 < num <= 65535:
            if num is not None:
                ctx.bad(pf + ".containerPort", num, "a port number in 1-65535")
            elif isinstance(p, dict) and "containerPort" not in p:
                ctx.bad(pf, p, "a port with containerPort")
            continue
        ports.append(
            ContainerPort(
                container_port=num,
                name=ctx.s(p, "name", pf + ".name"),
                protocol=ctx.protocol(p, "protocol", pf + ".protocol"),
                host_port=ctx.i(p, "hostPort", pf + ".hostPort"),
            )
        )
    env = []
    for e in ctx.lst(c, "env", f"{field}.env"):
        if isinstance(e, dict) and isinstance(e.get("name"), str):
            v = e.get("value")
            env.append((e["name"], v if isinstance(v, str) else ("" if v is None else str(v))))
    res = ctx.d(c, "resources", f"{field}.resources")
    lim: dict[str, Any] = res["limits"] if isinstance(res.get("limits"), dict) else {}
    req: dict[str, Any] = res["requests"] if isinstance(res.get("requests"), dict) else {}

    def q(m: dict[str, Any], k: str) -> str | None:
        v = m.get(k)
        return None if v is None else str(v)

    def strs(key: str) -> tuple[str, ...]:
        return tuple(str(x) for x in ctx.lst(c, key, f"{field}.{key}"))

    return Container(
        name=str(c.get("name", "")),
        image=str(c.get("image", "") or ""),
        ports=tuple(ports),
        env=tuple(env),
        command=strs("command"),
        args=strs("args"),
        cpu_request=q(req, "cpu"),
        cpu_limit=q(lim, "cpu"),
        memory_request=q(req, "memory"),
        memory_limit=q(lim, "memory"),
        readiness_probe=_probe(c.get("readinessProbe")),
        liveness_probe=_probe(c.get("livenessProbe")),
        is_init=is_init,
        restart_policy=ctx.s(c, "restartPolicy", f"{field}.restartPolicy"),
    )


def _pod_spec(spec: dict[str, Any], ctx: _Ctx, field: str) -> PodSpec:
    containers = [
        c
        for n, raw in enumerate(ctx.lst(spec, "containers", f"{field}.containers"))
        if (c := _container(raw, ctx, f"{field}.containers[{n}]", False)) is not None
    ]
    inits = [
        c
        for n, raw in enumerate(ctx.lst(spec, "initContainers", f"{field}.initContainers"))
        if (c := _container(raw, ctx, f"{field}.initContainers[{n}]", True)) is not None
    ]
    dns_config = None
    dc = ctx.d(spec, "dnsConfig", f"{field}.dnsConfig")
    if dc:
        opts: list[tuple[str, str | None]] = []
        for o in ctx.lst(dc, "options", f"{field}.dnsConfig.options"):
            if isinstance(o, dict) and isinstance(o.get("name"), str):
                val = o.get("value")
                opts.append((o["name"], None if val is None else str(val)))
        dns_config = DNSConfig(
            nameservers=tuple(
                str(x) for x in ctx.lst(dc, "nameservers", f"{field}.dnsConfig.nameservers")
            ),
            searches=tuple(str(x) for x in ctx.lst(dc, "searches", f"{field}.dnsConfig.searches")),
            options=tuple(opts),
        )
    return PodSpec(
        containers=tuple(containers),
        init_containers=tuple(inits),
        node_name=ctx.s(spec, "nodeName", f"{field}.nodeName"),
        host_network=bool(ctx.b(spec, "hostNetwork", f"{field}.hostNetwork", False)),
        dns_policy=ctx.s(spec, "dnsPolicy", f"{field}.dnsPolicy", "ClusterFirst") or "ClusterFirst",
        dns_config=dns_config,
        service_account=ctx.s(spec, "serviceAccountName", f"{field}.serviceAccountName"),
        node_selector=ctx.strmap(spec, "nodeSelector", f"{field}.nodeSelector"),
        subdomain=ctx.s(spec, "subdomain", f"{field}.subdomain"),
        hostname=ctx.s(spec, "hostname", f"{field}.hostname"),
    )


def _ip_list(values: list[Any], ctx: _Ctx, field: str) -> tuple[str, ...]:
    out = []
    for n, v in enumerate(values):
        ip = v.get("ip") if isinstance(v, dict) else v
        if not isinstance(ip, str):
            ctx.bad(f"{field}[{n}]", v, "an IP address")
            continue
        try:
            parse_cidr(ip)
        except ValueError:
            ctx.bad(f"{field}[{n}]", v, "an IP address")
            continue
        out.append(ip)
    return tuple(out)


# --------------------------------------------------------------------------- kinds


def _namespace(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Namespace:
    labels = dict(meta.labels)
    # The API server sets this label on every namespace (1.21+); dumps made by
    # hand sometimes lack it, and policies rely on it.
    labels.setdefault("kubernetes.io/metadata.name", meta.name)
    from dataclasses import replace

    return Namespace(
        meta=replace(meta, labels=labels, namespace=None),
        phase=ctx.s(ctx.d(raw, "status", "status"), "phase", "status.phase", "Active") or "Active",
    )


def _node(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Node:
    spec = ctx.d(raw, "spec", "spec")
    status = ctx.d(raw, "status", "status")
    cidrs = [str(x) for x in ctx.lst(spec, "podCIDRs", "spec.podCIDRs")]
    single = ctx.s(spec, "podCIDR", "spec.podCIDR")
    if single and single not in cidrs:
        cidrs.insert(0, single)
    good = []
    for c in cidrs:
        try:
            parse_cidr(c)
            good.append(c)
        except ValueError:
            ctx.bad("spec.podCIDR", c, "a CIDR", Level.DEGRADED)
    addrs = []
    for a in ctx.lst(status, "addresses", "status.addresses"):
        if isinstance(a, dict) and "address" in a:
            addrs.append(NodeAddress(type=str(a.get("type", "")), address=str(a["address"])))
    info = ctx.d(status, "nodeInfo", "status.nodeInfo")
    taints = tuple(
        Taint(
            key=str(t.get("key", "")),
            value=str(t.get("value", "") or ""),
            effect=str(t.get("effect", "")),
        )
        for t in ctx.lst(spec, "taints", "spec.taints")
        if isinstance(t, dict)
    )
    return Node(
        meta=meta,
        pod_cidrs=tuple(good),
        addresses=tuple(addrs),
        conditions=_conditions(status, ctx, "status.conditions"),
        kubelet_version=str(info.get("kubeletVersion", "")),
        kube_proxy_version=str(info.get("kubeProxyVersion", "")),
        container_runtime=str(info.get("containerRuntimeVersion", "")),
        kernel_version=str(info.get("kernelVersion", "")),
        os_image=str(info.get("osImage", "")),
        architecture=str(info.get("architecture", "")),
        provider_id=str(spec.get("providerID", "") or ""),
        capacity_pods=ctx.i(
            ctx.d(status, "capacity", "status.capacity"), "pods", "status.capacity.pods"
        ),
        allocatable_pods=ctx.i(
            ctx.d(status, "allocatable", "status.allocatable"), "pods", "status.allocatable.pods"
        ),
        unschedulable=bool(ctx.b(spec, "unschedulable", "spec.unschedulable", False)),
        taints=taints,
    )


def _container_statuses(
    status: dict[str, Any], ctx: _Ctx, key: str, is_init: bool
) -> list[ContainerStatus]:
    out = []
    for n, cs in enumerate(ctx.lst(status, key, f"status.{key}")):
        if not isinstance(cs, dict):
            ctx.bad(f"status.{key}[{n}]", cs, "a container status")
            continue
        state_name, reason, message = "unknown", "", ""
        st = cs.get("state")
        if isinstance(st, dict) and st:
            state_name = next(iter(st))
            detail = st[state_name] if isinstance(st[state_name], dict) else {}
            reason = str(detail.get("reason", "") or "")
            message = str(detail.get("message", "") or "")
        last = cs.get("lastState")
        last_reason, last_code = "", None
        if isinstance(last, dict) and isinstance(last.get("terminated"), dict):
            last_reason = str(last["terminated"].get("reason", "") or "")
            code = last["terminated"].get("exitCode")
            last_code = code if isinstance(code, int) else None
        if state_name == "terminated" and not last_reason:
            last_reason = reason
        out.append(
            ContainerStatus(
                name=str(cs.get("name", "")),
                ready=bool(cs.get("ready", False)),
                started=cs.get("started") if isinstance(cs.get("started"), bool) else None,
                restart_count=ctx.i(cs, "restartCount", f"status.{key}[{n}].restartCount", 0) or 0,
                state=state_name,
                state_reason=reason,
                state_message=message,
                last_termination_reason=last_reason,
                last_exit_code=last_code,
                image=str(cs.get("image", "") or ""),
                is_init=is_init,
            )
        )
    return out


def _pod(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Pod:
    spec = ctx.d(raw, "spec", "spec")
    status = ctx.d(raw, "status", "status")
    ips = _ip_list(ctx.lst(status, "podIPs", "status.podIPs"), ctx, "status.podIPs")
    single = status.get("podIP")
    if isinstance(single, str) and single and single not in ips:
        ips = _ip_list([single], ctx, "status.podIP") + ips
    statuses = _container_statuses(status, ctx, "containerStatuses", False)
    statuses += _container_statuses(status, ctx, "initContainerStatuses", True)
    return Pod(
        meta=meta,
        spec=_pod_spec(spec, ctx, "spec"),
        phase=ctx.s(status, "phase", "status.phase", "Unknown") or "Unknown",
        pod_ips=ips,
        host_ip=ctx.s(status, "hostIP", "status.hostIP"),
        conditions=_conditions(status, ctx, "status.conditions"),
        container_statuses=tuple(statuses),
        reason=str(status.get("reason", "") or ""),
        message=str(status.get("message", "") or ""),
        qos_class=str(status.get("qosClass", "") or ""),
    )


def _workload(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Workload:
    kind = str(raw["kind"])
    spec = ctx.d(raw, "spec", "spec")
    status = raw.get("status") if isinstance(raw.get("status"), dict) else None
    st = status or {}
    tmpl_raw = spec.get("template")
    if kind == "CronJob":
        jt = ctx.d(spec, "jobTemplate", "spec.jobTemplate")
        tmpl_raw = ctx.d(jt, "spec", "spec.jobTemplate.spec").get("template")
    template = None
    if isinstance(tmpl_raw, dict):
        tmd = ctx.d(tmpl_raw, "metadata", "spec.template.metadata")
        template = PodTemplate(
            labels=ctx.strmap(tmd, "labels", "spec.template.metadata.labels"),
            annotations=ctx.strmap(tmd, "annotations", "spec.template.metadata.annotations"),
            spec=_pod_spec(
                ctx.d(tmpl_raw, "spec", "spec.template.spec"), ctx, "spec.template.spec"
            ),
        )
    sel = spec.get("selector")
    if kind == "ReplicationController" and isinstance(sel, dict) and "matchLabels" not in sel:
        sel = {"matchLabels": sel}
    replicas = ctx.i(spec, "replicas", "spec.replicas")
    if replicas is None and kind in (
        "Deployment",
        "StatefulSet",
        "ReplicaSet",
        "ReplicationController",
    ):
        replicas = 1  # API default
    return Workload(
        kind=kind,
        meta=meta,
        selector=selector(sel, ctx, "spec.selector") if sel is not None else None,
        template=template,
        replicas=replicas,
        ready_replicas=ctx.i(st, "readyReplicas", "status.readyReplicas", 0) or 0,
        available_replicas=ctx.i(st, "availableReplicas", "status.availableReplicas", 0) or 0,
        updated_replicas=ctx.i(st, "updatedReplicas", "status.updatedReplicas", 0) or 0,
        desired_scheduled=ctx.i(st, "desiredNumberScheduled", "status.desiredNumberScheduled"),
        current_scheduled=ctx.i(st, "currentNumberScheduled", "status.currentNumberScheduled"),
        number_ready=ctx.i(st, "numberReady", "status.numberReady"),
        number_unavailable=ctx.i(st, "numberUnavailable", "status.numberUnavailable"),
        service_name=ctx.s(spec, "serviceName", "spec.serviceName"),
        conditions=_conditions(st, ctx, "status.conditions"),
        has_status=status is not None and bool(status),
    )


def _service(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Service:
    spec = ctx.d(raw, "spec", "spec")
    status = ctx.d(raw, "status", "status")
    ports = []
    for n, p in enumerate(ctx.lst(spec, "ports", "spec.ports")):
        f = f"spec.ports[{n}]"
        num = ctx.i(p, "port", f + ".port")
        if num is None or not 0 < num <= 65535:
            ctx.bad(
                f + ".port",
                p.get("port") if isinstance(p, dict) else p,
                "a port number in 1-65535",
                Level.DEGRADED,
            )
            continue
        ports.append(
            ServicePort(
                port=num,
                name=ctx.s(p, "name", f + ".name"),
                protocol=ctx.protocol(p, "protocol", f + ".protocol"),
                target_port=ctx.port_ref(p, "targetPort", f + ".targetPort"),
                node_port=ctx.i(p, "nodePort", f + ".nodePort"),
                app_protocol=ctx.s(p, "appProtocol", f + ".appProtocol"),
            )
        )
    lb = ctx.d(status, "loadBalancer", "status.loadBalancer")
    lb_ing = tuple(
        str(x.get("ip") or x.get("hostname"))
        for x in ctx.lst(lb, "ingress", "status.loadBalancer.ingress")
        if isinstance(x, dict) and (x.get("ip") or x.get("hostname"))
    )
    sel = spec.get("selector")
    selector_map = ctx.strmap(spec, "selector", "spec.selector") if sel is not None else None
    svc_type = ctx.s(spec, "type", "spec.type", "ClusterIP") or "ClusterIP"
    return Service(
        meta=meta,
        type=svc_type,
        selector=selector_map,
        cluster_ip=ctx.s(spec, "clusterIP", "spec.clusterIP"),
        cluster_ips=tuple(str(x) for x in ctx.lst(spec, "clusterIPs", "spec.clusterIPs")),
        ports=tuple(ports),
        external_name=ctx.s(spec, "externalName", "spec.externalName"),
        external_ips=tuple(str(x) for x in ctx.lst(spec, "externalIPs", "spec.externalIPs")),
        publish_not_ready_addresses=bool(
            ctx.b(spec, "publishNotReadyAddresses", "spec.publishNotReadyAddresses", False)
        ),
        session_affinity=ctx.s(spec, "sessionAffinity", "spec.sessionAffinity", "None") or "None",
        external_traffic_policy=ctx.s(spec, "externalTrafficPolicy", "spec.externalTrafficPolicy"),
        internal_traffic_policy=ctx.s(spec, "internalTrafficPolicy", "spec.internalTrafficPolicy"),
        load_balancer_class=ctx.s(spec, "loadBalancerClass", "spec.loadBalancerClass"),
        load_balancer_ingress=lb_ing,
        ip_families=tuple(str(x) for x in ctx.lst(spec, "ipFamilies", "spec.ipFamilies")),
    )


def _endpoint_port(p: Any, ctx: _Ctx, f: str) -> EndpointPort:
    return EndpointPort(
        port=ctx.i(p, "port", f + ".port"),
        name=ctx.s(p, "name", f + ".name") or None,
        protocol=ctx.protocol(p, "protocol", f + ".protocol"),
        app_protocol=ctx.s(p, "appProtocol", f + ".appProtocol"),
    )


def _target(t: Any) -> EndpointTarget | None:
    if isinstance(t, dict) and t.get("name"):
        return EndpointTarget(
            kind=str(t.get("kind", "Pod")), name=str(t["name"]), namespace=t.get("namespace")
        )
    return None


def _endpoint_slice(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> EndpointSlice:
    eps = []
    for n, e in enumerate(ctx.lst(raw, "endpoints", "endpoints")):
        f = f"endpoints[{n}]"
        if not isinstance(e, dict):
            ctx.bad(f, e, "an endpoint")
            continue
        cond = ctx.d(e, "conditions", f + ".conditions")
        eps.append(
            Endpoint(
                addresses=tuple(str(a) for a in ctx.lst(e, "addresses", f + ".addresses")),
                ready=ctx.b(cond, "ready", f + ".conditions.ready"),
                serving=ctx.b(cond, "serving", f + ".conditions.serving"),
                terminating=ctx.b(cond, "terminating", f + ".conditions.terminating"),
                node_name=ctx.s(e, "nodeName", f + ".nodeName"),
                zone=ctx.s(e, "zone", f + ".zone"),
                hostname=ctx.s(e, "hostname", f + ".hostname"),
                target=_target(e.get("targetRef")),
            )
        )
    ports = tuple(
        _endpoint_port(p, ctx, f"ports[{n}]") for n, p in enumerate(ctx.lst(raw, "ports", "ports"))
    )
    return EndpointSlice(
        meta=meta,
        service_name=meta.labels.get("kubernetes.io/service-name"),
        address_type=str(raw.get("addressType", "IPv4")),
        endpoints=tuple(eps),
        ports=ports,
        managed_by=meta.labels.get("endpointslice.kubernetes.io/managed-by"),
    )


def _endpoints_v1(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Endpoints:
    ready: list[Endpoint] = []
    not_ready: list[Endpoint] = []
    ports: list[EndpointPort] = []
    for n, sub in enumerate(ctx.lst(raw, "subsets", "subsets")):
        f = f"subsets[{n}]"
        for key, target in (("addresses", ready), ("notReadyAddresses", not_ready)):
            for a in ctx.lst(sub, key, f"{f}.{key}"):
                if isinstance(a, dict) and isinstance(a.get("ip"), str):
                    target.append(
                        Endpoint(
                            addresses=(a["ip"],),
                            node_name=a.get("nodeName"),
                            hostname=a.get("hostname"),
                            target=_target(a.get("targetRef")),
                        )
                    )
        ports += [
            _endpoint_port(p, ctx, f"{f}.ports[{m}]")
            for m, p in enumerate(ctx.lst(sub, "ports", f + ".ports"))
        ]
    return Endpoints(meta=meta, ready=tuple(ready), not_ready=tuple(not_ready), ports=tuple(ports))


def _policy_peer(p: Any, ctx: _Ctx, f: str) -> PolicyPeer | None:
    if not isinstance(p, dict):
        ctx.bad(f, p, "a peer", Level.DEGRADED)
        return None
    ipb = None
    if p.get("ipBlock") is not None:
        ib = ctx.d(p, "ipBlock", f + ".ipBlock")
        cidr = ctx.s(ib, "cidr", f + ".ipBlock.cidr")
        try:
            if cidr is None:
                raise ValueError("missing")
            parse_cidr(cidr)
        except ValueError:
            ctx.bad(f + ".ipBlock.cidr", cidr, "a CIDR", Level.DEGRADED)
            return None
        excepts = []
        for m, ex in enumerate(ctx.lst(ib, "except", f + ".ipBlock.except")):
            try:
                parse_cidr(str(ex))
                excepts.append(str(ex))
            except ValueError:
                ctx.bad(f"{f}.ipBlock.except[{m}]", ex, "a CIDR", Level.DEGRADED)
        ipb = IPBlock(cidr=cidr, except_=tuple(excepts))
    # A null selector is an absent one (a nil pointer in the API types): {namespaceSelector: null}
    # limits peers to the policy's own namespace, it does not select every namespace.
    return PolicyPeer(
        pod_selector=selector(p["podSelector"], ctx, f + ".podSelector")
        if p.get("podSelector") is not None
        else None,
        namespace_selector=selector(p["namespaceSelector"], ctx, f + ".namespaceSelector")
        if p.get("namespaceSelector") is not None
        else None,
        ip_block=ipb,
    )


def _policy_rules(
    spec: dict[str, Any], key: str, peer_key: str, ctx: _Ctx
) -> tuple[PolicyRule, ...]:
    rules = []
    for n, r in enumerate(ctx.lst(spec, key, f"spec.{key}")):
        f = f"spec.{key}[{n}]"
        if r is None:
            r = {}
        if not isinstance(r, dict):
            ctx.bad(f, r, "a rule", Level.DEGRADED)
            continue
        peers = []
        dropped_peer = False
        for m, p in enumerate(ctx.lst(r, peer_key, f"{f}.{peer_key}")):
            peer = _policy_peer(p, ctx, f"{f}.{peer_key}[{m}]")
            if peer is None:
                dropped_peer = True
            else:
                peers.append(peer)
        if dropped_peer and not peers:
            # All peers were unusable: keeping the rule with no peers would mean
            # "allow everyone", the opposite of what was written. Drop it.
            ctx.problems.append(
                LoadProblem(
                    level=Level.DEGRADED,
                    message=f"{f}: every peer is invalid, so the rule is left out "
                    "(the API server would have rejected this policy)",
                    origin=ctx.origin,
                    object=ctx.label,
                    skipped=f"rule {f}",
                    affects=("policy engine", "connectivity", "trace policy hops"),
                )
            )
            continue
        ports = []
        for m, p in enumerate(ctx.lst(r, "ports", f"{f}.ports")):
            pf = f"{f}.ports[{m}]"
            if p is None:
                p = {}
            ports.append(
                PolicyPort(
                    protocol=ctx.protocol(p, "protocol", pf + ".protocol"),
                    port=ctx.port_ref(p, "port", pf + ".port"),
                    end_port=ctx.i(p, "endPort", pf + ".endPort"),
                )
            )
        rules.append(PolicyRule(peers=tuple(peers), ports=tuple(ports)))
    return tuple(rules)


def _network_policy(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> NetworkPolicy:
    spec = ctx.d(raw, "spec", "spec")
    declared_raw = spec.get("policyTypes")
    declared: tuple[str, ...] | None = None
    if isinstance(declared_raw, list):
        declared = tuple(str(t) for t in declared_raw if str(t) in ("Ingress", "Egress"))
        bad = [t for t in declared_raw if str(t) not in ("Ingress", "Egress")]
        if bad:
            ctx.bad("spec.policyTypes", bad, "Ingress or Egress")
    elif declared_raw is not None:
        ctx.bad("spec.policyTypes", declared_raw, "a list")
    if declared is None or not declared:
        # API default: Ingress always; Egress when the policy has an egress section.
        effective: tuple[str, ...] = ("Ingress", "Egress") if "egress" in spec else ("Ingress",)
    else:
        effective = declared
    return NetworkPolicy(
        meta=meta,
        pod_selector=selector(spec.get("podSelector", {}), ctx, "spec.podSelector"),
        policy_types=effective,
        declared_policy_types=declared,
        ingress=_policy_rules(spec, "ingress", "from", ctx),
        egress=_policy_rules(spec, "egress", "to", ctx),
    )


def _ingress_backend(b: Any, ctx: _Ctx, f: str) -> IngressBackend:
    if not isinstance(b, dict):
        ctx.bad(f, b, "a backend")
        return IngressBackend()
    svc = b.get("service")
    if isinstance(svc, dict):
        port = svc.get("port") if isinstance(svc.get("port"), dict) else {}
        return IngressBackend(
            service_name=ctx.s(svc, "name", f + ".service.name"),
            port_number=ctx.i(port, "number", f + ".service.port.number"),
            port_name=ctx.s(port, "name", f + ".service.port.name"),
        )
    if "serviceName" in b:  # extensions/v1beta1 and networking.k8s.io/v1beta1
        sp = b.get("servicePort")
        return IngressBackend(
            service_name=ctx.s(b, "serviceName", f + ".serviceName"),
            port_number=sp
            if isinstance(sp, int)
            else (int(sp) if isinstance(sp, str) and sp.isdigit() else None),
            port_name=sp if isinstance(sp, str) and not sp.isdigit() else None,
        )
    res = b.get("resource")
    if isinstance(res, dict):
        return IngressBackend(
            resource_kind=str(res.get("kind", "")), resource_name=str(res.get("name", ""))
        )
    return IngressBackend()


def _ingress(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Ingress:
    spec = ctx.d(raw, "spec", "spec")
    rules = []
    for n, r in enumerate(ctx.lst(spec, "rules", "spec.rules")):
        f = f"spec.rules[{n}]"
        http = ctx.d(r, "http", f + ".http")
        paths = []
        for m, p in enumerate(ctx.lst(http, "paths", f + ".http.paths")):
            pf = f"{f}.http.paths[{m}]"
            paths.append(
                IngressPath(
                    path=ctx.s(p, "path", pf + ".path", "/") or "/",
                    path_type=ctx.s(p, "pathType", pf + ".pathType", "ImplementationSpecific")
                    or "ImplementationSpecific",
                    backend=_ingress_backend(
                        p.get("backend") if isinstance(p, dict) else None, ctx, pf + ".backend"
                    ),
                )
            )
        rules.append(IngressRuleSpec(host=ctx.s(r, "host", f + ".host"), paths=tuple(paths)))
    tls = tuple(
        IngressTLS(
            hosts=tuple(str(h) for h in ctx.lst(t, "hosts", f"spec.tls[{n}].hosts")),
            secret_name=ctx.s(t, "secretName", f"spec.tls[{n}].secretName"),
        )
        for n, t in enumerate(ctx.lst(spec, "tls", "spec.tls"))
    )
    default = spec.get("defaultBackend") or spec.get("backend")
    lb = ctx.d(ctx.d(raw, "status", "status"), "loadBalancer", "status.loadBalancer")
    return Ingress(
        meta=meta,
        ingress_class_name=ctx.s(spec, "ingressClassName", "spec.ingressClassName"),
        default_backend=_ingress_backend(default, ctx, "spec.defaultBackend") if default else None,
        rules=tuple(rules),
        tls=tls,
        load_balancer_ingress=tuple(
            str(x.get("ip") or x.get("hostname"))
            for x in ctx.lst(lb, "ingress", "status.loadBalancer.ingress")
            if isinstance(x, dict) and (x.get("ip") or x.get("hostname"))
        ),
    )


def _ingress_class(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> IngressClass:
    spec = ctx.d(raw, "spec", "spec")
    return IngressClass(
        meta=meta,
        controller=ctx.s(spec, "controller", "spec.controller", "") or "",
        is_default=meta.annotations.get("ingressclass.kubernetes.io/is-default-class") == "true",
    )


def _gateway_class(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> GatewayClass:
    return GatewayClass(
        meta=meta,
        controller=ctx.s(ctx.d(raw, "spec", "spec"), "controllerName", "spec.controllerName", "")
        or "",
        conditions=_conditions(ctx.d(raw, "status", "status"), ctx, "status.conditions"),
    )


def _gateway(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Gateway:
    spec = ctx.d(raw, "spec", "spec")
    status = ctx.d(raw, "status", "status")
    listeners = []
    for n, li in enumerate(ctx.lst(spec, "listeners", "spec.listeners")):
        f = f"spec.listeners[{n}]"
        tls = ctx.d(li, "tls", f + ".tls")
        refs = tuple(
            (r.get("namespace"), str(r.get("name", "")))
            for r in ctx.lst(tls, "certificateRefs", f + ".tls.certificateRefs")
            if isinstance(r, dict)
        )
        ar = ctx.d(
            ctx.d(li, "allowedRoutes", f + ".allowedRoutes"),
            "namespaces",
            f + ".allowedRoutes.namespaces",
        )
        listeners.append(
            Listener(
                name=ctx.s(li, "name", f + ".name", "") or "",
                port=ctx.i(li, "port", f + ".port", 0) or 0,
                protocol=ctx.s(li, "protocol", f + ".protocol", "HTTP") or "HTTP",
                hostname=ctx.s(li, "hostname", f + ".hostname"),
                tls_secret_refs=refs,
                allowed_namespaces=str(ar.get("from", "Same")),
            )
        )
    return Gateway(
        meta=meta,
        gateway_class_name=ctx.s(spec, "gatewayClassName", "spec.gatewayClassName", "") or "",
        listeners=tuple(listeners),
        addresses=tuple(
            str(a.get("value"))
            for a in ctx.lst(status, "addresses", "status.addresses")
            if isinstance(a, dict)
        ),
        conditions=_conditions(status, ctx, "status.conditions"),
    )


def _parent_ref(p: Any) -> ParentRef:
    return ParentRef(
        name=str(p.get("name", "")),
        namespace=p.get("namespace"),
        kind=str(p.get("kind", "Gateway")),
        section_name=p.get("sectionName"),
        port=p.get("port") if isinstance(p.get("port"), int) else None,
    )


def _route(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Route:
    spec = ctx.d(raw, "spec", "spec")
    status = ctx.d(raw, "status", "status")
    rules = []
    for n, r in enumerate(ctx.lst(spec, "rules", "spec.rules")):
        f = f"spec.rules[{n}]"
        refs = tuple(
            BackendRef(
                name=str(b.get("name", "")),
                namespace=b.get("namespace"),
                kind=str(b.get("kind", "Service")),
                group=str(b.get("group", "")),
                port=b.get("port") if isinstance(b.get("port"), int) else None,
                weight=b["weight"] if isinstance(b.get("weight"), int) else 1,
            )
            for b in ctx.lst(r, "backendRefs", f + ".backendRefs")
            if isinstance(b, dict)
        )
        prefixes = tuple(
            str(m["path"].get("value", "/"))
            for m in ctx.lst(r, "matches", f + ".matches")
            if isinstance(m, dict) and isinstance(m.get("path"), dict)
        )
        rules.append(RouteRule(backend_refs=refs, path_prefixes=prefixes))
    parents = tuple(
        RouteParentStatus(
            parent=_parent_ref(ps.get("parentRef") or {}),
            controller=str(ps.get("controllerName", "")),
            conditions=_conditions(ps, ctx, "status.parents[].conditions"),
        )
        for ps in ctx.lst(status, "parents", "status.parents")
        if isinstance(ps, dict)
    )
    return Route(
        kind=str(raw["kind"]),
        meta=meta,
        parent_refs=tuple(
            _parent_ref(p)
            for p in ctx.lst(spec, "parentRefs", "spec.parentRefs")
            if isinstance(p, dict)
        ),
        hostnames=tuple(str(h) for h in ctx.lst(spec, "hostnames", "spec.hostnames")),
        rules=tuple(rules),
        parents_status=parents,
    )


def _config_map(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> ConfigMap:
    return ConfigMap(meta=meta, data=ctx.strmap(raw, "data", "data"))


def _secret(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> SecretRef:
    # Never keep data/stringData, even when a dump contains them.
    return SecretRef(meta=meta, type=str(raw.get("type", "Opaque") or "Opaque"))


def _event(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> Event:
    inv = raw.get("involvedObject") or raw.get("regarding") or {}
    if not isinstance(inv, dict):
        inv = {}
    src: dict[str, Any] = raw["source"] if isinstance(raw.get("source"), dict) else {}
    return Event(
        meta=meta,
        involved_kind=str(inv.get("kind", "")),
        involved_name=str(inv.get("name", "")),
        involved_namespace=inv.get("namespace"),
        reason=str(raw.get("reason", "") or ""),
        message=str(raw.get("message", raw.get("note", "")) or ""),
        type=str(raw.get("type", "Normal") or "Normal"),
        count=ctx.i(raw, "count", "count", 1) or 1,
        last_timestamp=raw.get("lastTimestamp") or raw.get("eventTime"),
        source=str(src.get("component", "") or raw.get("reportingComponent", "") or ""),
    )


Decoder = Callable[[dict[str, Any], Meta, _Ctx], ModelObject]

DECODERS: dict[tuple[str, str], Decoder] = {
    ("", "Namespace"): _namespace,
    ("", "Node"): _node,
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "Endpoints"): _endpoints_v1,
    ("", "ConfigMap"): _config_map,
    ("", "Secret"): _secret,
    ("", "Event"): _event,
    ("events.k8s.io", "Event"): _event,
    ("", "ReplicationController"): _workload,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
    ("networking.k8s.io", "NetworkPolicy"): _network_policy,
    ("extensions", "NetworkPolicy"): _network_policy,
    ("networking.k8s.io", "Ingress"): _ingress,
    ("extensions", "Ingress"): _ingress,
    ("networking.k8s.io", "IngressClass"): _ingress_class,
    ("gateway.networking.k8s.io", "GatewayClass"): _gateway_class,
    ("gateway.networking.k8s.io", "Gateway"): _gateway,
    ("gateway.networking.k8s.io", "HTTPRoute"): _route,
    ("gateway.networking.k8s.io", "GRPCRoute"): _route,
    ("gateway.networking.k8s.io", "TLSRoute"): _route,
    ("gateway.networking.k8s.io", "TCPRoute"): _route,
    ("gateway.networking.k8s.io", "UDPRoute"): _route,
}
for _k in WORKLOAD_KINDS:
    DECODERS[("apps", _k)] = _workload
    DECODERS[("extensions", _k)] = _workload
    DECODERS[("batch", _k)] = _workload

CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "IngressClass",
    "GatewayClass",
    "GlobalNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "IPPool",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
}


def _custom(raw: dict[str, Any], meta: Meta, ctx: _Ctx) -> CustomObject:
    return CustomObject(
        api_version=str(raw.get("apiVersion", "")),
        kind=str(raw["kind"]),
        meta=meta,
        spec=raw["spec"] if isinstance(raw.get("spec"), dict) else {},
        status=raw["status"] if isinstance(raw.get("status"), dict) else {},
    )


@functools.lru_cache(maxsize=4096)
def _namespace_valid(namespace: str) -> bool:
    return namespace_problem(namespace) is None


def _names_valid(kind: str, meta: Meta) -> bool:
    """Name, namespace and labels as the API server accepts them (the fast path's check)."""
    return (
        name_problem(kind, meta.name) is None
        and (meta.namespace is None or _namespace_valid(meta.namespace))
        and labels_valid(meta.labels)
    )


def _flag_suspicious(kind: str, meta: Meta, ctx: _Ctx) -> None:
    """Names and labels the API server would reject: kept, but flagged as suspicious input.

    Such an object cannot have come from a cluster; its text is shown
    escaped and quoted in every printed command.
    """

    def flag(field: str, value: str, why: str) -> None:
        ctx.problems.append(
            LoadProblem(
                level=Level.WARNING,
                message=f"suspicious input: {field} {shown(value)} {why}; the API server would "
                "reject it (shown escaped, quoted in commands)",
                origin=ctx.origin,
                object=ctx.label,
            )
        )

    why = name_problem(kind, meta.name)
    if why is not None:
        flag("metadata.name", meta.name, why)
    if meta.namespace is not None and not _namespace_valid(meta.namespace):
        flag("metadata.namespace", meta.namespace, namespace_problem(meta.namespace) or "")
    for key, why in label_problems(meta.labels)[:5]:
        flag(f"metadata.labels[{shown(key)}]", meta.labels[key], why)


def shown(value: Any, limit: int = 60) -> str:
    """A bounded, escaped rendering of untrusted input for a message.

    ``repr`` of a decoded alias bomb or a megabyte string costs memory and
    time before it is cut; :mod:`reprlib` stops early.
    """
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 3] + "..."
        return repr(text)
    r = reprlib.Repr()
    r.maxstring = limit
    r.maxother = limit
    r.maxlevel = 3
    r.maxdict = r.maxlist = 6
    text = r.repr(value)
    return visible(text if len(text) <= limit else text[: limit - 3] + "...")


def _invalid_policy(
    data: dict[str, Any], kind: str, name: str, origin: Origin
) -> LoadProblem | None:
    """A problem dropping a NetworkPolicy the API server would reject (``None`` when it is valid).

    Reading such a policy tolerantly fails open (a malformed selector read as
    "all pods", a bad port as "all ports"); dropped, its namespace's policy
    verdicts become unknown (``policy.coverage``).
    """
    errs = network_policy_errors(data)
    if not errs:
        return None
    md: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    ns = md.get("namespace") if isinstance(md.get("namespace"), str) else None
    ns = ns or "default"
    shown_errs = "; ".join(f"{f}: {why}" for f, why in errs[:3])
    if len(errs) > 3:
        shown_errs += f"; and {len(errs) - 3} more"
    return LoadProblem(
        level=Level.DEGRADED,
        message=f"invalid {kind}, the API server would reject it: {shown_errs}; left out, so "
        f"policy verdicts for pods of namespace {ns} are unknown",
        origin=origin,
        object=f"{kind}/{ns}/{name}",
        skipped="object",
        affects=("policy engine", "connectivity", "explain", "diff", "trace policy hops"),
        key=(kind, ns, name),
    )


def decode(raw: RawObject) -> tuple[ModelObject | None, list[LoadProblem]]:
    """Decode one raw object. Returns ``(None, problems)`` when it cannot be used at all."""
    data = raw.data
    origin = raw.origin
    if not isinstance(data, dict):
        return None, [
            LoadProblem(
                level=Level.DEGRADED,
                message="document is not an object",
                origin=origin,
                skipped="document",
            )
        ]
    kind = data.get("kind")
    api_version = data.get("apiVersion")
    if not isinstance(kind, str) or not kind:
        return None, [
            LoadProblem(
                level=Level.DEGRADED,
                message="object has no kind",
                origin=origin,
                skipped="document",
            )
        ]
    if not isinstance(api_version, str):
        api_version = ""
    md = data.get("metadata")
    name = md.get("name") if isinstance(md, dict) else None
    if not isinstance(name, str) or not name:
        return None, [
            LoadProblem(
                level=Level.DEGRADED,
                message=f"{kind} has no metadata.name",
                origin=origin,
                object=kind,
                skipped="document",
            )
        ]
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    if kind == "NetworkPolicy" and group in ("networking.k8s.io", "extensions"):
        invalid = _invalid_policy(data, kind, name, origin)
        if invalid is not None:
            return None, [invalid]
    fast = FAST.get((group, kind))
    if fast is not None:
        # Well-formed objects of the numerous kinds take the strict fast path; anything
        # unusual raises Bail and goes through the tolerant decoder below.
        try:
            fmeta = fast_meta(data, origin)
            if fmeta.namespace is None:
                from dataclasses import replace

                fmeta = replace(fmeta, namespace="default")
            if _names_valid(kind, fmeta):
                return fast(data, fmeta), []
        except (Bail, TypeError, ValueError, KeyError, AttributeError):
            pass  # not the plain shape: the tolerant decoder decides (and reports)
    ns = md.get("namespace") if isinstance(md, dict) else None
    label = f"{kind}/{ns}/{name}" if ns else f"{kind}/{name}"
    ctx = _Ctx(label, origin)
    meta = _meta(data, origin, ctx)
    _flag_suspicious(kind, meta, ctx)
    if meta.namespace is None and kind not in CLUSTER_SCOPED and (group, kind) in DECODERS:
        # kubectl applies namespaced objects without a namespace to "default".
        from dataclasses import replace

        meta = replace(meta, namespace="default")
    decoder = DECODERS.get((group, kind))
    try:
        if decoder is not None:
            obj: ModelObject = decoder(data, meta, ctx)
        elif kind in CUSTOM_KINDS.get(group, ()):
            obj = _custom(data, meta, ctx)
        else:
            obj = UnknownObject(api_version=api_version, kind=kind, meta=meta, raw=data)
    except Exception as exc:  # a decoder bug or an input shape we did not foresee
        ctx.problems.append(
            LoadProblem(
                level=Level.DEGRADED,
                message=f"could not decode: {type(exc).__name__}: {exc}",
                origin=origin,
                object=label,
                skipped="object",
            )
        )
        return None, ctx.problems
    return obj, ctx.problems
