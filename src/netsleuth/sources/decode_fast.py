"""A strict fast path for the objects that dominate large clusters.

Pods, EndpointSlices, Services and workloads make up nearly all of a
150,000-pod dump. :mod:`netsleuth.sources.decode` is tolerant: every field
goes through a checking getter that records a problem and carries on. Here
each field is read directly and accepted only in its normal, well-formed
type; anything else raises :class:`Bail` and the caller falls back to the
tolerant decoder, which then reports the problem. So the result is always
the tolerant decoder's result; this path only gets there faster.

A differential test holds the two equal (``tests/sources/test_decode_fast.py``).
"""

from __future__ import annotations

from typing import Any

import orjson

from netsleuth.model.fastinit import maker
from netsleuth.model.objects import (
    Condition,
    Container,
    ContainerPort,
    ContainerStatus,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    EndpointTarget,
    Meta,
    OwnerRef,
    Pod,
    PodSpec,
    PodTemplate,
    Probe,
    Service,
    ServicePort,
    Workload,
)
from netsleuth.model.problems import Origin
from netsleuth.model.selectors import LabelSelector

_EMPTY: dict[str, Any] = {}

# The hot kinds are built through slot-setting constructors (model.fastinit).
_new_OwnerRef = maker(OwnerRef)
_new_Meta = maker(Meta)
_new_PodSpec = maker(PodSpec)
_new_Condition = maker(Condition)
_new_ContainerStatus = maker(ContainerStatus)
_new_Pod = maker(Pod)
_new_EndpointTarget = maker(EndpointTarget)
_new_Endpoint = maker(Endpoint)
_new_EndpointPort = maker(EndpointPort)
_new_EndpointSlice = maker(EndpointSlice)
_PROTOCOLS = {"TCP": "TCP", "UDP": "UDP", "SCTP": "SCTP"}


class Bail(Exception):
    """The object is not in the plain shape this path handles."""


def _d(obj: dict[str, Any], key: str) -> dict[str, Any]:
    v = obj.get(key)
    if v is None:
        return _EMPTY
    if type(v) is not dict:
        raise Bail(key)
    return v


def _l(obj: dict[str, Any], key: str) -> list[Any]:
    v = obj.get(key)
    if v is None:
        return []
    if type(v) is not list:
        raise Bail(key)
    return v


def _s(obj: dict[str, Any], key: str) -> str | None:
    v = obj.get(key)
    if v is None or type(v) is str:
        return v
    raise Bail(key)


def _strmap(obj: dict[str, Any], key: str) -> dict[str, str]:
    v = obj.get(key)
    if v is None:
        return {}
    if type(v) is not dict:
        raise Bail(key)
    for k, x in v.items():
        if type(x) is not str or type(k) is not str:
            raise Bail(key)
    return v


def _ipv4(text: Any) -> str:
    """Accept a plain dotted IPv4 address (the tolerant path handles IPv6 and oddities)."""
    if type(text) is not str:
        raise Bail("ip")
    parts = text.split(".")
    if len(parts) != 4:
        raise Bail("ip")
    for p in parts:
        if not p.isdigit() or len(p) > 3 or int(p) > 255 or (len(p) > 1 and p[0] == "0"):
            raise Bail("ip")
    return text


# Replicas carry equal label maps; equal maps (same items in the same order) share
# one dict, which saves the memory of 150,000 copies and lets per-pod work be
# memoised by identity (``PolicyMatrix.label_key``). The model never mutates
# labels (a Namespace copies its map before adding the name label). Bounded like
# the container cache.
_LABELS_CACHE: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
_LABELS_CACHE_MAX = 16384


def _labels(md: dict[str, Any]) -> dict[str, str]:
    v = _strmap(md, "labels")
    if not v:
        return v
    key = tuple(v.items())
    hit = _LABELS_CACHE.get(key)
    if hit is None:
        if len(_LABELS_CACHE) >= _LABELS_CACHE_MAX:
            _LABELS_CACHE.clear()
        _LABELS_CACHE[key] = hit = v
    return hit


# The replicas of a ReplicaSet carry the same ownerReferences: one decoded tuple.
_OWNERS_CACHE: dict[bytes, tuple[OwnerRef, ...]] = {}
_OWNERS_CACHE_MAX = 16384


def _owner_refs(refs: list[Any]) -> tuple[OwnerRef, ...]:
    try:
        key = orjson.dumps(refs, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:  # a YAML date or time, or not JSON-shaped: the tolerant path
        raise Bail("ownerReferences") from None
    hit = _OWNERS_CACHE.get(key)
    if hit is not None:
        return hit
    out = []
    for o in refs:
        if type(o) is not dict:
            raise Bail("ownerReferences")
        kind, name = o.get("kind"), o.get("name")
        api, uid, ctrl = o.get("apiVersion", ""), o.get("uid", ""), o.get("controller", False)
        if type(kind) is not str or not kind or type(name) is not str or not name:
            raise Bail("ownerReferences")
        if type(api) is not str or type(uid) is not str or type(ctrl) is not bool:
            raise Bail("ownerReferences")
        out.append(_new_OwnerRef(kind=kind, name=name, api_version=api, uid=uid, controller=ctrl))
    if len(_OWNERS_CACHE) >= _OWNERS_CACHE_MAX:
        _OWNERS_CACHE.clear()
    hit = _OWNERS_CACHE[key] = tuple(out)
    return hit


def meta(raw: dict[str, Any], origin: Origin) -> Meta:
    md = raw.get("metadata")
    if type(md) is not dict:
        raise Bail("metadata")
    owners: tuple[OwnerRef, ...] = ()
    refs = md.get("ownerReferences")
    if refs is not None:
        if type(refs) is not list:
            raise Bail("ownerReferences")
        owners = _owner_refs(refs)
    name = md.get("name")
    uid = md.get("uid") or ""
    if type(name) is not str or type(uid) is not str:
        raise Bail("metadata")
    return _new_Meta(
        name=name,
        namespace=_s(md, "namespace"),
        labels=_labels(md),
        annotations=_strmap(md, "annotations"),
        uid=uid,
        owner_refs=owners,
        creation_timestamp=_s(md, "creationTimestamp"),
        deletion_timestamp=_s(md, "deletionTimestamp"),
        origin=origin,
    )


def _probe(obj: Any) -> Probe | None:
    if obj is None:
        return None
    if type(obj) is not dict:
        raise Bail("probe")
    for handler in ("httpGet", "tcpSocket", "grpc", "exec"):
        h = obj.get(handler)
        if type(h) is dict:
            port = h.get("port")
            path = h.get("path")
            return Probe(
                handler=handler,
                port=port if type(port) in (int, str) else None,
                path=path if type(path) is str else None,
            )
    return None


def _quantity(m: dict[str, Any], key: str) -> str | None:
    v = m.get(key)
    if v is None or type(v) is str:
        return v
    raise Bail(key)


def _container(c: Any, is_init: bool) -> Container:
    if type(c) is not dict:
        raise Bail("container")
    ports = []
    for p in _l(c, "ports"):
        if type(p) is not dict:
            raise Bail("port")
        num = p.get("containerPort")
        if type(num) is not int or not 0 < num <= 65535:
            raise Bail("containerPort")
        proto = p.get("protocol", "TCP")
        hp = p.get("hostPort")
        pname = p.get("name")
        if proto not in _PROTOCOLS or (hp is not None and type(hp) is not int):
            raise Bail("port")
        if pname is not None and type(pname) is not str:
            raise Bail("port")
        ports.append(ContainerPort(container_port=num, name=pname, protocol=proto, host_port=hp))
    env = []
    for e in _l(c, "env"):
        if type(e) is dict and type(e.get("name")) is str:
            v = e.get("value")
            if v is None:
                env.append((e["name"], ""))
            elif type(v) is str:
                env.append((e["name"], v))
            else:
                raise Bail("env")
    res = _d(c, "resources")
    lim = res.get("limits") or _EMPTY
    req = res.get("requests") or _EMPTY
    if type(lim) is not dict or type(req) is not dict:
        raise Bail("resources")
    cmd = _l(c, "command")
    args = _l(c, "args")
    for x in cmd:
        if type(x) is not str:
            raise Bail("command")
    for x in args:
        if type(x) is not str:
            raise Bail("args")
    name = c.get("name", "")
    image = c.get("image") or ""
    if type(name) is not str or type(image) is not str:
        raise Bail("container")
    return Container(
        name=name,
        image=image,
        ports=tuple(ports),
        env=tuple(env),
        command=tuple(cmd),
        args=tuple(args),
        cpu_request=_quantity(req, "cpu"),
        cpu_limit=_quantity(lim, "cpu"),
        memory_request=_quantity(req, "memory"),
        memory_limit=_quantity(lim, "memory"),
        readiness_probe=_probe(c.get("readinessProbe")),
        liveness_probe=_probe(c.get("livenessProbe")),
        is_init=is_init,
        restart_policy=_s(c, "restartPolicy"),
    )


# The pods of one ReplicaSet, StatefulSet or DaemonSet repeat the same container
# specs: decode each distinct one once (keyed by its JSON, so equal text means an
# equal result) and share the frozen Container. Bounded, so a long-lived process
# loading many clusters does not keep them all.
_CONTAINER_CACHE: dict[tuple[bytes, bool], Container] = {}
_CONTAINER_CACHE_MAX = 8192


def _container_cached(c: Any, is_init: bool) -> Container:
    try:
        key = (orjson.dumps(c, option=orjson.OPT_PASSTHROUGH_DATETIME), is_init)
    except TypeError:  # a YAML date or time, or not JSON-shaped: decode as is
        return _container(c, is_init)
    hit = _CONTAINER_CACHE.get(key)
    if hit is None:
        hit = _container(c, is_init)
        if len(_CONTAINER_CACHE) >= _CONTAINER_CACHE_MAX:
            _CONTAINER_CACHE.clear()
        _CONTAINER_CACHE[key] = hit
    return hit


def pod_spec(spec: dict[str, Any]) -> PodSpec:
    if spec.get("dnsConfig") is not None:
        raise Bail("dnsConfig")  # rare: the tolerant path handles it
    host_network = spec.get("hostNetwork", False)
    if type(host_network) is not bool:
        raise Bail("hostNetwork")
    return _new_PodSpec(
        containers=tuple(_container_cached(c, False) for c in _l(spec, "containers")),
        init_containers=tuple(_container_cached(c, True) for c in _l(spec, "initContainers")),
        node_name=_s(spec, "nodeName"),
        host_network=host_network,
        dns_policy=_s(spec, "dnsPolicy") or "ClusterFirst",
        dns_config=None,
        service_account=_s(spec, "serviceAccountName"),
        node_selector=_strmap(spec, "nodeSelector"),
        subdomain=_s(spec, "subdomain"),
        hostname=_s(spec, "hostname"),
    )


def _conditions(obj: dict[str, Any]) -> tuple[Condition, ...]:
    out = []
    for c in _l(obj, "conditions"):
        if type(c) is not dict or "type" not in c:
            raise Bail("conditions")
        t, st = c["type"], c.get("status", "Unknown")
        reason, message = c.get("reason") or "", c.get("message") or ""
        if (
            type(t) is not str
            or type(st) is not str
            or type(reason) is not str
            or type(message) is not str
        ):
            raise Bail("conditions")
        out.append(
            _new_Condition(
                type=t,
                status=st,
                reason=reason,
                message=message,
                last_transition_time=c.get("lastTransitionTime"),
            )
        )
    return tuple(out)


def _conditions_of(obj: dict[str, Any], key: str) -> tuple[Condition, ...]:
    assert key == "conditions"
    return _conditions(obj)


def _statuses(status: dict[str, Any], key: str, is_init: bool) -> list[ContainerStatus]:
    out = []
    for cs in _l(status, key):
        if type(cs) is not dict:
            raise Bail(key)
        state_name, reason, message = "unknown", "", ""
        st = cs.get("state")
        if type(st) is dict and st:
            state_name = next(iter(st))
            detail = st[state_name] if type(st[state_name]) is dict else _EMPTY
            reason = detail.get("reason") or ""
            message = detail.get("message") or ""
            if type(reason) is not str or type(message) is not str:
                raise Bail(key)
        last = cs.get("lastState")
        last_reason, last_code = "", None
        if type(last) is dict and type(last.get("terminated")) is dict:
            last_reason = last["terminated"].get("reason") or ""
            code = last["terminated"].get("exitCode")
            last_code = code if type(code) is int else None
            if type(last_reason) is not str:
                raise Bail(key)
        if state_name == "terminated" and not last_reason:
            last_reason = reason
        rc = cs.get("restartCount", 0)
        name = cs.get("name", "")
        image = cs.get("image") or ""
        started = cs.get("started")
        if type(rc) is not int or type(name) is not str or type(image) is not str:
            raise Bail(key)
        out.append(
            _new_ContainerStatus(
                name=name,
                ready=bool(cs.get("ready", False)),
                started=started if type(started) is bool else None,
                restart_count=rc,
                state=state_name,
                state_reason=reason,
                state_message=message,
                last_termination_reason=last_reason,
                last_exit_code=last_code,
                image=image,
                is_init=is_init,
            )
        )
    return out


# The replicas of a workload usually report the same conditions and container statuses
# (same types, states, reasons): decode each distinct list once, keyed by its JSON (equal
# text, equal result) and share the frozen objects. Bounded like the container cache.
_STATUS_CACHE: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_STATUS_CACHE_MAX = 8192


def _shared(decode: Any, obj: dict[str, Any], key: str, *args: Any) -> tuple[Any, ...]:
    """``tuple(decode(obj, key, *args))``, memoised by the JSON of ``obj[key]``."""
    value = obj.get(key)
    if value is None:
        return tuple(decode(obj, key, *args))
    try:
        ck = (orjson.dumps(value, option=orjson.OPT_PASSTHROUGH_DATETIME), key, *args)
    except TypeError:  # a YAML date or time, or not JSON-shaped: decode as is
        return tuple(decode(obj, key, *args))
    hit = _STATUS_CACHE.get(ck)
    if hit is None:
        hit = tuple(decode(obj, key, *args))
        if len(_STATUS_CACHE) >= _STATUS_CACHE_MAX:
            _STATUS_CACHE.clear()
        _STATUS_CACHE[ck] = hit
    return hit


def pod(raw: dict[str, Any], m: Meta) -> Pod:
    spec = _d(raw, "spec")
    status = _d(raw, "status")
    ips: tuple[str, ...] = tuple(
        _ipv4(x.get("ip") if type(x) is dict else x) for x in _l(status, "podIPs")
    )
    single = status.get("podIP")
    if type(single) is str and single and single not in ips:
        ips = (_ipv4(single), *ips)
    elif single is not None and type(single) is not str:
        raise Bail("podIP")
    statuses = _shared(_statuses, status, "containerStatuses", False) + _shared(
        _statuses, status, "initContainerStatuses", True
    )
    phase = _s(status, "phase") or "Unknown"
    reason = status.get("reason") or ""
    message = status.get("message") or ""
    qos = status.get("qosClass") or ""
    if type(reason) is not str or type(message) is not str or type(qos) is not str:
        raise Bail("status")
    return _new_Pod(
        meta=m,
        spec=pod_spec(spec),
        phase=phase,
        pod_ips=ips,
        host_ip=_s(status, "hostIP"),
        conditions=_shared(_conditions_of, status, "conditions"),
        container_statuses=statuses,
        reason=reason,
        message=message,
        qos_class=qos,
    )


def _selector(obj: Any) -> LabelSelector:
    if type(obj) is not dict or set(obj) - {"matchLabels"}:
        raise Bail("selector")  # matchExpressions: the tolerant path validates them
    labels = _strmap(obj, "matchLabels")
    return LabelSelector(labels=tuple(sorted(labels.items())))


def _int_or_none(obj: dict[str, Any], key: str) -> int | None:
    v = obj.get(key)
    if v is None or type(v) is int:
        return v
    raise Bail(key)


def workload(raw: dict[str, Any], m: Meta) -> Workload:
    kind = raw["kind"]
    if kind not in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        raise Bail("kind")
    spec = _d(raw, "spec")
    status_raw = raw.get("status")
    if status_raw is not None and type(status_raw) is not dict:
        raise Bail("status")
    st = status_raw or _EMPTY
    tmpl = spec.get("template")
    template = None
    if tmpl is not None:
        if type(tmpl) is not dict:
            raise Bail("template")
        tmd = _d(tmpl, "metadata")
        template = PodTemplate(
            labels=_strmap(tmd, "labels"),
            annotations=_strmap(tmd, "annotations"),
            spec=pod_spec(_d(tmpl, "spec")),
        )
    sel = spec.get("selector")
    replicas = _int_or_none(spec, "replicas")
    if replicas is None and kind != "DaemonSet":
        replicas = 1
    return Workload(
        kind=kind,
        meta=m,
        selector=_selector(sel) if sel is not None else None,
        template=template,
        replicas=replicas,
        ready_replicas=_int_or_none(st, "readyReplicas") or 0,
        available_replicas=_int_or_none(st, "availableReplicas") or 0,
        updated_replicas=_int_or_none(st, "updatedReplicas") or 0,
        desired_scheduled=_int_or_none(st, "desiredNumberScheduled"),
        current_scheduled=_int_or_none(st, "currentNumberScheduled"),
        number_ready=_int_or_none(st, "numberReady"),
        number_unavailable=_int_or_none(st, "numberUnavailable"),
        service_name=_s(spec, "serviceName"),
        conditions=_conditions(st),
        has_status=status_raw is not None and bool(status_raw),
    )


def service(raw: dict[str, Any], m: Meta) -> Service:
    spec = _d(raw, "spec")
    status = _d(raw, "status")
    ports = []
    for p in _l(spec, "ports"):
        if type(p) is not dict:
            raise Bail("ports")
        num = p.get("port")
        tp = p.get("targetPort")
        proto = p.get("protocol", "TCP")
        name = p.get("name")
        if type(num) is not int or not 0 < num <= 65535 or proto not in _PROTOCOLS:
            raise Bail("ports")
        if tp is not None and not (
            (type(tp) is int and 0 <= tp <= 65535) or (type(tp) is str and tp and not tp.isdigit())
        ):
            raise Bail("targetPort")
        if name is not None and type(name) is not str:
            raise Bail("ports")
        ports.append(
            ServicePort(
                port=num,
                name=name,
                protocol=proto,
                target_port=tp,
                node_port=_int_or_none(p, "nodePort"),
                app_protocol=_s(p, "appProtocol"),
            )
        )
    lb = _d(status, "loadBalancer")
    lb_ing = []
    for x in _l(lb, "ingress"):
        if type(x) is not dict:
            raise Bail("lb")
        v = x.get("ip") or x.get("hostname")
        if v:
            if type(v) is not str:
                raise Bail("lb")
            lb_ing.append(v)
    sel = spec.get("selector")
    ips = _l(spec, "clusterIPs")
    ext = _l(spec, "externalIPs")
    fams = _l(spec, "ipFamilies")
    for x in (*ips, *ext, *fams):
        if type(x) is not str:
            raise Bail("ips")
    pnra = spec.get("publishNotReadyAddresses", False)
    if type(pnra) is not bool:
        raise Bail("publishNotReadyAddresses")
    return Service(
        meta=m,
        type=_s(spec, "type") or "ClusterIP",
        selector=_strmap(spec, "selector") if sel is not None else None,
        cluster_ip=_s(spec, "clusterIP"),
        cluster_ips=tuple(ips),
        ports=tuple(ports),
        external_name=_s(spec, "externalName"),
        external_ips=tuple(ext),
        publish_not_ready_addresses=pnra,
        session_affinity=_s(spec, "sessionAffinity") or "None",
        external_traffic_policy=_s(spec, "externalTrafficPolicy"),
        internal_traffic_policy=_s(spec, "internalTrafficPolicy"),
        load_balancer_class=_s(spec, "loadBalancerClass"),
        load_balancer_ingress=tuple(lb_ing),
        ip_families=tuple(fams),
    )


def _opt_bool(obj: dict[str, Any], key: str) -> bool | None:
    v = obj.get(key)
    if v is None or type(v) is bool:
        return v
    raise Bail(key)


def endpoint_slice(raw: dict[str, Any], m: Meta) -> EndpointSlice:
    eps = []
    for e in _l(raw, "endpoints"):
        if type(e) is not dict:
            raise Bail("endpoints")
        cond = _d(e, "conditions")
        addrs = _l(e, "addresses")
        for a in addrs:
            if type(a) is not str:
                raise Bail("addresses")
        t = e.get("targetRef")
        target = None
        if t is not None:
            if type(t) is not dict:
                raise Bail("targetRef")
            if t.get("name"):
                tk, tn, tns = t.get("kind", "Pod"), t["name"], t.get("namespace")
                if type(tk) is not str or type(tn) is not str:
                    raise Bail("targetRef")
                target = _new_EndpointTarget(kind=tk, name=tn, namespace=tns)
        eps.append(
            _new_Endpoint(
                addresses=tuple(addrs),
                ready=_opt_bool(cond, "ready"),
                serving=_opt_bool(cond, "serving"),
                terminating=_opt_bool(cond, "terminating"),
                node_name=_s(e, "nodeName"),
                zone=_s(e, "zone"),
                hostname=_s(e, "hostname"),
                target=target,
            )
        )
    ports = []
    for p in _l(raw, "ports"):
        if type(p) is not dict:
            raise Bail("ports")
        proto = p.get("protocol", "TCP")
        if proto not in _PROTOCOLS:
            raise Bail("protocol")
        ports.append(
            _new_EndpointPort(
                port=_int_or_none(p, "port"),
                name=_s(p, "name") or None,
                protocol=proto,
                app_protocol=_s(p, "appProtocol"),
            )
        )
    at = raw.get("addressType", "IPv4")
    if type(at) is not str:
        raise Bail("addressType")
    return _new_EndpointSlice(
        meta=m,
        service_name=m.labels.get("kubernetes.io/service-name"),
        address_type=at,
        endpoints=tuple(eps),
        ports=tuple(ports),
        managed_by=m.labels.get("endpointslice.kubernetes.io/managed-by"),
    )


FAST: dict[tuple[str, str], Any] = {
    ("", "Pod"): pod,
    ("", "Service"): service,
    ("discovery.k8s.io", "EndpointSlice"): endpoint_slice,
    ("apps", "Deployment"): workload,
    ("apps", "ReplicaSet"): workload,
    ("apps", "StatefulSet"): workload,
    ("apps", "DaemonSet"): workload,
}
