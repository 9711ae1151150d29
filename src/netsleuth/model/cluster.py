"""The frozen cluster model and its one factory, :func:`build_model`.

``build_model`` takes typed objects (from any source) plus the load
problems, and returns a :class:`ClusterModel` whose indexes make queries
lookups rather than scans:

- pods by namespace, by (namespace, name), by IP, by node, and by
  namespace + label key + value (for selector matching);
- services by (namespace, name) and by ClusterIP;
- EndpointSlices by service (v1 Endpoints are used only when a service has
  no slice, turned into derived slices);
- owners: every pod's top-level workload, walking ownerReferences as far as
  the input shows (a pod whose ReplicaSet's Deployment is absent belongs to
  that ReplicaSet).

When workloads are given without pods (manifests only), the pods their
templates imply are derived and marked ``derived``. When no kube-dns Service
exists, none is invented here: the policy and trace layers add a derived one
where they need it, so the model stays what the input said.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from netsleuth.model.logs import ContainerLog
from netsleuth.model.node_artifacts import NodeArtifacts
from netsleuth.model.objects import (
    ConfigMap,
    CustomObject,
    Endpoint,
    Endpoints,
    EndpointSlice,
    Event,
    Gateway,
    GatewayClass,
    Ingress,
    IngressClass,
    Meta,
    Namespace,
    NetworkPolicy,
    Node,
    OwnerRef,
    Pod,
    Route,
    SecretRef,
    Service,
    UnknownObject,
    Workload,
)
from netsleuth.model.problems import Level, LoadProblem
from netsleuth.model.selectors import LabelSelector

_T = TypeVar("_T")

WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
)


# Kind -> the API resource whose RBAC refusal makes it unknowable.
KIND_RESOURCE = {
    "Namespace": "namespaces",
    "Node": "nodes",
    "Pod": "pods",
    "Service": "services",
    "EndpointSlice": "endpointslices",
    "NetworkPolicy": "networkpolicies",
    "Ingress": "ingresses",
    "IngressClass": "ingressclasses",
    "ConfigMap": "configmaps",
    "Event": "events",
    "Secret": "secrets",
    "Deployment": "deployments",
    "DaemonSet": "daemonsets",
    "StatefulSet": "statefulsets",
    "ReplicaSet": "replicasets",
    "Gateway": "gateways",
    "HTTPRoute": "httproutes",
    "GatewayClass": "gatewayclasses",
}


def resource_of(kind: str) -> str:
    """The API resource (plural, lower case) that lists ``kind``: ``Ingress`` -> ``ingresses``."""
    return KIND_RESOURCE.get(kind, kind.lower() + "s")


class SourceKind(enum.StrEnum):
    OFFLINE = "offline"
    LIVE = "live"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceInfo:
    """What the model was loaded from, and what could not be read."""

    kind: SourceKind = SourceKind.OFFLINE
    paths: tuple[str, ...] = ()
    context: str | None = None
    server: str | None = None
    forbidden: tuple[str, ...] = ()
    """Resources (plural names, e.g. ``networkpolicies``) the API refused."""
    failed: tuple[str, ...] = ()
    """Resources that could not be listed for another reason (timeout, 5xx)."""


@dataclass(frozen=True, slots=True)
class WorkloadRef:
    """A pod's top-level owner, or the bare pod itself (kind ``Pod``)."""

    kind: str
    namespace: str
    name: str

    def describe(self) -> str:
        return f"{self.kind.lower()}/{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterModel:
    namespaces: Mapping[str, Namespace] = field(default_factory=dict)
    nodes: Mapping[str, Node] = field(default_factory=dict)
    pods: tuple[Pod, ...] = ()
    workloads: tuple[Workload, ...] = ()
    services: tuple[Service, ...] = ()
    endpoint_slices: tuple[EndpointSlice, ...] = ()
    endpoints: tuple[Endpoints, ...] = ()
    network_policies: tuple[NetworkPolicy, ...] = ()
    ingresses: tuple[Ingress, ...] = ()
    ingress_classes: tuple[IngressClass, ...] = ()
    gateway_classes: tuple[GatewayClass, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    routes: tuple[Route, ...] = ()
    config_maps: tuple[ConfigMap, ...] = ()
    secrets: tuple[SecretRef, ...] = ()
    events: tuple[Event, ...] = ()
    custom: tuple[CustomObject, ...] = ()
    unknown: tuple[UnknownObject, ...] = ()
    node_artifacts: Mapping[str, NodeArtifacts] = field(default_factory=dict)
    container_logs: tuple[ContainerLog, ...] = ()
    """Container logs from a ``kubectl cluster-info dump`` (or a bundle), with their events."""
    problems: tuple[LoadProblem, ...] = ()
    source: SourceInfo = SourceInfo()

    # ---- indexes (filled by build_model) ----
    pods_by_namespace: Mapping[str, tuple[Pod, ...]] = field(default_factory=dict)
    pod_by_key: Mapping[tuple[str, str], Pod] = field(default_factory=dict)
    pods_by_ip: Mapping[str, tuple[Pod, ...]] = field(default_factory=dict)
    pods_by_node: Mapping[str, tuple[Pod, ...]] = field(default_factory=dict)
    label_index: Mapping[str, Mapping[str, Mapping[str, tuple[Pod, ...]]]] = field(
        default_factory=dict
    )
    """namespace -> label key -> label value -> pods."""
    service_by_key: Mapping[tuple[str, str], Service] = field(default_factory=dict)
    services_by_cluster_ip: Mapping[str, Service] = field(default_factory=dict)
    slices_by_service: Mapping[tuple[str, str], tuple[EndpointSlice, ...]] = field(
        default_factory=dict
    )
    workload_by_key: Mapping[tuple[str, str, str], Workload] = field(default_factory=dict)
    owner_of_pod: Mapping[tuple[str, str], WorkloadRef] = field(default_factory=dict)
    policies_by_namespace: Mapping[str, tuple[NetworkPolicy, ...]] = field(default_factory=dict)
    kinds_present: frozenset[str] = frozenset()

    # ---- memo of derived values (see memoised)
    memo: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    """Values derived from this model, computed once (``netsleuth.facts.Facts`` and the
    policy engine's decoded admin policies). Not input: never compared, never copied
    by ``dataclasses.replace`` (a replaced model starts with an empty memo)."""

    def memoised(self, key: str, compute: Callable[[], _T]) -> _T:
        """``compute()`` the first time ``key`` is asked of this model, the same value after.

        The model is frozen, so anything computed from it stays true for its
        lifetime; keeping it here (rather than in a module-global cache keyed
        by model identity) ties the value's lifetime to the model's. Callers
        must not mutate what they get back.
        """
        try:
            return self.memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self.memo[key] = compute()
            return value

    # ---- queries ----

    def pod(self, namespace: str, name: str) -> Pod | None:
        return self.pod_by_key.get((namespace, name))

    def service(self, namespace: str, name: str) -> Service | None:
        return self.service_by_key.get((namespace, name))

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        """Labels of a namespace. A namespace absent from the input still has the
        ``kubernetes.io/metadata.name`` label the API server sets on every
        namespace since 1.21."""
        ns = self.namespaces.get(namespace)
        if ns is not None:
            return ns.labels
        return {"kubernetes.io/metadata.name": namespace}

    def pods_matching(
        self, namespace: str, selector: LabelSelector | Mapping[str, str]
    ) -> list[Pod]:
        """Pods of ``namespace`` matched by a selector (a LabelSelector or a Service-style map)."""
        if not isinstance(selector, LabelSelector):
            selector = LabelSelector.from_match_labels(selector)
        if selector.labels:
            k, v = selector.labels[0]
            candidates: Iterable[Pod] = self.label_index.get(namespace, {}).get(k, {}).get(v, ())
        else:
            candidates = self.pods_by_namespace.get(namespace, ())
        return [p for p in candidates if selector.matches(p.labels)]

    def slices_for(self, service: Service) -> tuple[EndpointSlice, ...]:
        return self.slices_by_service.get(service.key, ())

    def ready_endpoints(self, service: Service) -> list[Endpoint]:
        return [e for s in self.slices_for(service) for e in s.endpoints if e.is_ready]

    def owner(self, pod: Pod) -> WorkloadRef:
        return self.owner_of_pod.get(pod.key) or WorkloadRef("Pod", pod.namespace, pod.name)

    def workload(self, kind: str, namespace: str, name: str) -> Workload | None:
        return self.workload_by_key.get((kind, namespace, name))

    def pods_of_workload(self, ref: WorkloadRef) -> list[Pod]:
        if ref.kind == "Pod":
            p = self.pod(ref.namespace, ref.name)
            return [p] if p else []
        return [p for p in self.pods_by_namespace.get(ref.namespace, ()) if self.owner(p) == ref]

    def policies_in(self, namespace: str) -> tuple[NetworkPolicy, ...]:
        return self.policies_by_namespace.get(namespace, ())

    def custom_of_kind(self, *kinds: str) -> list[CustomObject]:
        return [c for c in self.custom if c.kind in kinds]

    def config_map(self, namespace: str, name: str) -> ConfigMap | None:
        for c in self.config_maps:
            if c.meta.namespace == namespace and c.meta.name == name:
                return c
        return None

    def has_kind(self, kind: str) -> bool:
        """True if the input contained (or could have contained) objects of ``kind``."""
        return kind in self.kinds_present

    def is_forbidden(self, resource: str) -> bool:
        return resource in self.source.forbidden or resource in self.source.failed

    def events_for(self, kind: str, namespace: str | None, name: str) -> list[Event]:
        return [
            e
            for e in self.events
            if e.involved_kind == kind
            and e.involved_name == name
            and (namespace is None or e.involved_namespace == namespace)
        ]


ModelObject = (
    Namespace
    | Node
    | Pod
    | Workload
    | Service
    | EndpointSlice
    | Endpoints
    | NetworkPolicy
    | Ingress
    | IngressClass
    | GatewayClass
    | Gateway
    | Route
    | ConfigMap
    | SecretRef
    | Event
    | CustomObject
    | UnknownObject
    | NodeArtifacts
    | ContainerLog
)


def _template_pod(w: Workload) -> Pod:
    """The pod a workload's template implies, named ``<workload>-derived``."""
    assert w.template is not None
    return Pod(
        meta=Meta(
            name=f"{w.name}-derived",
            namespace=w.namespace,
            labels=dict(w.template.labels),
            annotations=dict(w.template.annotations),
            owner_refs=(OwnerRef(kind=w.kind, name=w.name, controller=True),),
            origin=w.meta.origin,
            derived=True,
        ),
        spec=w.template.spec,
        phase="Pending",
    )


class _Owners:
    """Walks ``ownerReferences`` to the top-level workload present in the input.

    - The reference with ``controller: true`` is followed (the only one when
      there is one), through every workload kind present in the input.
    - A reference without ``kind`` (hand-written or truncated manifests) is
      matched by name against the workloads of the namespace.
    - Two naming conventions bridge an object missing from the middle of the
      chain, only when the top object is in the input: a ReplicaSet is named
      ``<deployment>-<pod-template-hash>`` and its pods carry that hash label
      (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#pod-template-hash-label);
      a CronJob's Jobs are named ``<cronjob>-<scheduled time in minutes>``
      (https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#job-creation).
    - A mirror (static) pod is owned by its Node: it is its own top.
    """

    def __init__(self, workloads: Mapping[tuple[str, str, str], Workload]) -> None:
        self.by_key = workloads
        self.by_name: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        for w in workloads.values():
            self.by_name[(w.namespace, w.name)].append(w)
        self._top: dict[tuple[str, str, str], WorkloadRef] = {}

    def _kind_of(self, ns: str, name: str) -> str | None:
        ws = self.by_name.get((ns, name), ())
        for kind in WORKLOAD_KINDS:
            if any(w.kind == kind for w in ws):
                return kind
        return ws[0].kind if ws else None

    def _bridge(self, kind: str, ns: str, name: str, labels: Mapping[str, str]) -> str | None:
        """The Deployment/CronJob an absent ReplicaSet/Job belongs to, by naming convention."""
        if kind == "ReplicaSet":
            h = labels.get("pod-template-hash")
            if h and name.endswith("-" + h):
                dep = self.by_key.get(("Deployment", ns, name[: -len(h) - 1]))
                if dep is not None and (dep.selector is None or dep.selector.matches(labels)):
                    return dep.name
        if kind == "Job":
            base, _, stamp = name.rpartition("-")
            if base and stamp.isdigit() and ("CronJob", ns, base) in self.by_key:
                return base
        return None

    def top(self, kind: str, ns: str, name: str, depth: int = 0) -> WorkloadRef:
        key = (kind, ns, name)
        cached = self._top.get(key)
        if cached is not None:
            return cached
        ref = WorkloadRef(kind, ns, name)
        w = self.by_key.get(key)
        if w is not None and depth < 8:
            o = _controller(w.meta.owner_refs)
            if o is not None:
                okind = o.kind or self._kind_of(ns, o.name)
                if okind is not None and (okind, ns, o.name) in self.by_key:
                    ref = self.top(okind, ns, o.name, depth + 1)
        self._top[key] = ref
        return ref

    def of_pod(self, pod: Pod) -> WorkloadRef | None:
        ctrl = _controller(pod.meta.owner_refs)
        if ctrl is None or ctrl.kind == "Node":  # static (mirror) pods are owned by their Node
            return None
        ns = pod.namespace
        kind = ctrl.kind or self._kind_of(ns, ctrl.name)
        if kind is None:
            # No kind and no workload of that name: still group the pods by their owner.
            h = pod.labels.get("pod-template-hash")
            kind = "ReplicaSet" if h and ctrl.name.endswith("-" + h) else "Owner"
        if (kind, ns, ctrl.name) not in self.by_key:
            bridged = self._bridge(kind, ns, ctrl.name, pod.labels)
            if bridged is not None:
                return self.top("Deployment" if kind == "ReplicaSet" else "CronJob", ns, bridged)
        return self.top(kind, ns, ctrl.name)


def _controller(refs: tuple[OwnerRef, ...]) -> OwnerRef | None:
    """The managing owner: the reference with ``controller: true``, else a lone reference."""
    if not refs:
        return None
    ctrl = next((o for o in refs if o.controller), None)
    if ctrl is not None:
        return ctrl
    return refs[0]


def _derive(
    workloads: list[Workload],
    pods: list[Pod],
    owners: _Owners,
    owner_of_pod: dict[tuple[str, str], WorkloadRef],
    problems: list[LoadProblem],
) -> list[Pod]:
    """Template pods for the top-level workloads the input shows no pod of.

    One pod per workload (the replica count changes nothing for connectivity),
    marked ``derived``. When the input has real pods too (a dump plus a few
    manifests, or manifests plus a Helm test pod), each workload stood for by
    its template gets a note, so no workload changes representation silently.
    A workload scaled to zero (``spec.replicas: 0``) has no pod and gets a
    note instead; CronJobs have none until they fire.
    """
    mixed = bool(pods)
    with_pods = set(owner_of_pod.values())
    existing = {p.key for p in pods}
    out: list[Pod] = []
    for w in workloads:
        if w.template is None or w.kind == "CronJob":
            continue
        ref = owners.top(w.kind, w.namespace, w.name)
        if ref != WorkloadRef(w.kind, w.namespace, w.name) or ref in with_pods:
            continue  # part of another workload present in the input, or has real pods
        label = f"{w.kind}/{w.namespace}/{w.name}"
        if w.replicas == 0:
            problems.append(
                LoadProblem(
                    level=Level.WARNING,
                    message="scaled to zero (spec.replicas: 0): no pod stands for it",
                    origin=w.meta.origin,
                    object=label,
                )
            )
            continue
        pod = _template_pod(w)
        if pod.key in existing:
            continue
        out.append(pod)
        if mixed:
            problems.append(
                LoadProblem(
                    level=Level.WARNING,
                    message=(
                        "none of its pods is in the input (which holds other pods): its pod "
                        f"template stands for them, as pod {pod.name} (derived, no IP)"
                    ),
                    origin=w.meta.origin,
                    object=label,
                )
            )
    return out


def _endpoints_to_slice(ep: Endpoints) -> EndpointSlice:
    eps = tuple(
        Endpoint(
            addresses=e.addresses,
            ready=True,
            serving=True,
            terminating=False,
            node_name=e.node_name,
            hostname=e.hostname,
            target=e.target,
        )
        for e in ep.ready
    ) + tuple(
        Endpoint(
            addresses=e.addresses,
            ready=False,
            serving=False,
            terminating=False,
            node_name=e.node_name,
            hostname=e.hostname,
            target=e.target,
        )
        for e in ep.not_ready
    )
    return EndpointSlice(
        meta=Meta(
            name=f"{ep.meta.name}-from-endpoints",
            namespace=ep.meta.namespace,
            labels={"kubernetes.io/service-name": ep.meta.name},
            origin=ep.meta.origin,
            derived=True,
        ),
        service_name=ep.meta.name,
        endpoints=eps,
        ports=ep.ports,
    )


def all_objects(model: ClusterModel) -> list[ModelObject]:
    """Every object of ``model`` (derived pods included), for rebuilding it with changes."""
    objs: list[ModelObject] = []
    objs.extend(model.namespaces.values())
    objs.extend(model.nodes.values())
    objs.extend(model.pods)
    objs.extend(model.workloads)
    objs.extend(model.services)
    objs.extend(model.endpoint_slices)
    objs.extend(model.endpoints)
    objs.extend(model.network_policies)
    objs.extend(model.ingresses)
    objs.extend(model.ingress_classes)
    objs.extend(model.gateway_classes)
    objs.extend(model.gateways)
    objs.extend(model.routes)
    objs.extend(model.config_maps)
    objs.extend(model.secrets)
    objs.extend(model.events)
    objs.extend(model.custom)
    objs.extend(model.unknown)
    objs.extend(model.node_artifacts.values())
    return objs


def build_model(
    objects: Iterable[ModelObject],
    problems: Iterable[LoadProblem] = (),
    *,
    source: SourceInfo = SourceInfo(),
    derive_pods: bool | None = None,
) -> ClusterModel:
    """Build the frozen model and its indexes.

    ``derive_pods``: derive pods from workload templates for the top-level
    workloads the input shows no pod of (see :func:`_derive`). ``None`` (the
    default) does so for files, and for a live cluster only when it listed no
    pod at all (pods forbidden); ``False`` never.
    """
    buckets: dict[type, list[object]] = defaultdict(list)
    probs = list(problems)
    kinds: set[str] = set()
    for obj in objects:
        buckets[type(obj)].append(obj)
        kinds.add(getattr(obj, "kind", type(obj).__name__))

    # Duplicates (same kind/namespace/name) keep the last one read, as `kubectl apply` would.
    def dedup(items: list[_T]) -> list[_T]:
        seen: dict[tuple[str, str | None, str], _T] = {}
        for it in items:
            meta: Meta = it.meta  # type: ignore[attr-defined]
            kind = str(getattr(it, "kind", type(it).__name__))
            k = (kind, meta.namespace, meta.name)
            if k in seen:
                probs.append(
                    LoadProblem(
                        level=Level.WARNING,
                        message="duplicate object; the later one is used",
                        origin=meta.origin,
                        object=f"{kind}/{meta.namespace or ''}/{meta.name}",
                    )
                )
            seen[k] = it
        return list(seen.values())

    def bucket(t: type[_T]) -> list[_T]:
        return buckets.get(t, [])  # type: ignore[return-value]

    namespaces = {n.meta.name: n for n in dedup(bucket(Namespace))}
    nodes = {n.meta.name: n for n in dedup(bucket(Node))}
    pods = dedup(bucket(Pod))
    workloads = dedup(bucket(Workload))
    services = dedup(bucket(Service))
    slices = dedup(bucket(EndpointSlice))
    endpoints = dedup(bucket(Endpoints))
    policies = dedup(bucket(NetworkPolicy))

    # ---- owners: walk ownerReferences to the top-level workload present in the input
    workload_by_key = {w.key: w for w in workloads}
    owners = _Owners(workload_by_key)
    owner_of_pod: dict[tuple[str, str], WorkloadRef] = {}
    for p in pods:
        ref = owners.of_pod(p)
        if ref is not None:
            owner_of_pod[p.key] = ref

    if derive_pods is None:
        # A live cluster's pod list is the truth (a workload without pods has none),
        # unless pods could not be listed; files may hold any mix.
        derive_pods = source.kind is not SourceKind.LIVE or not pods
    if derive_pods:
        derived = _derive(workloads, pods, owners, owner_of_pod, probs)
        for p in derived:
            ref = owners.of_pod(p)
            if ref is not None:
                owner_of_pod[p.key] = ref
        pods.extend(derived)
        if derived:
            kinds.add("Pod")

    # ---- pod indexes
    by_ns: dict[str, list[Pod]] = defaultdict(list)
    by_ip: dict[str, list[Pod]] = defaultdict(list)
    by_node: dict[str, list[Pod]] = defaultdict(list)
    label_idx: dict[str, dict[str, dict[str, list[Pod]]]] = {}
    pod_by_key: dict[tuple[str, str], Pod] = {}
    for p in pods:
        ns = p.namespace
        by_ns[ns].append(p)
        pod_by_key[(ns, p.meta.name)] = p
        for ip in p.pod_ips:
            by_ip[ip].append(p)
        if p.spec.node_name:
            by_node[p.spec.node_name].append(p)
        nsidx = label_idx.get(ns)
        if nsidx is None:
            nsidx = label_idx[ns] = {}
        for k, v in p.meta.labels.items():
            kidx = nsidx.get(k)
            if kidx is None:
                kidx = nsidx[k] = {}
            lst = kidx.get(v)
            if lst is None:
                kidx[v] = [p]
            else:
                lst.append(p)

    # ---- services and slices
    service_by_key = {s.key: s for s in services}
    by_cip: dict[str, Service] = {}
    for s in services:
        for ip in s.cluster_ips or ((s.cluster_ip,) if s.cluster_ip else ()):
            if ip and ip != "None":
                by_cip[ip] = s
    slices_by_svc: dict[tuple[str, str], list[EndpointSlice]] = defaultdict(list)
    for sl in slices:
        if sl.service_name:
            slices_by_svc[(sl.namespace, sl.service_name)].append(sl)
    for ep in endpoints:
        key = (ep.meta.namespace or "default", ep.meta.name)
        if key not in slices_by_svc:
            slices_by_svc[key].append(_endpoints_to_slice(ep))

    pol_by_ns: dict[str, list[NetworkPolicy]] = defaultdict(list)
    for pol in policies:
        pol_by_ns[pol.namespace].append(pol)

    artifacts: dict[str, NodeArtifacts] = {a.node: a for a in bucket(NodeArtifacts)}

    return ClusterModel(
        namespaces=namespaces,
        nodes=nodes,
        pods=tuple(pods),
        workloads=tuple(workloads),
        services=tuple(services),
        endpoint_slices=tuple(slices),
        endpoints=tuple(endpoints),
        network_policies=tuple(policies),
        ingresses=tuple(dedup(bucket(Ingress))),
        ingress_classes=tuple(dedup(bucket(IngressClass))),
        gateway_classes=tuple(dedup(bucket(GatewayClass))),
        gateways=tuple(dedup(bucket(Gateway))),
        routes=tuple(dedup(bucket(Route))),
        config_maps=tuple(dedup(bucket(ConfigMap))),
        secrets=tuple(dedup(bucket(SecretRef))),
        events=tuple(bucket(Event)),
        custom=tuple(bucket(CustomObject)),
        unknown=tuple(bucket(UnknownObject)),
        node_artifacts=artifacts,
        container_logs=tuple(bucket(ContainerLog)),
        problems=tuple(probs),
        source=source,
        pods_by_namespace={k: tuple(v) for k, v in by_ns.items()},
        pod_by_key=pod_by_key,
        pods_by_ip={k: tuple(v) for k, v in by_ip.items()},
        pods_by_node={k: tuple(v) for k, v in by_node.items()},
        label_index={
            ns: {k: {v: tuple(ps) for v, ps in vals.items()} for k, vals in idx.items()}
            for ns, idx in label_idx.items()
        },
        service_by_key=service_by_key,
        services_by_cluster_ip=by_cip,
        slices_by_service={k: tuple(v) for k, v in slices_by_svc.items()},
        workload_by_key=workload_by_key,
        owner_of_pod=owner_of_pod,
        policies_by_namespace={k: tuple(v) for k, v in pol_by_ns.items()},
        kinds_present=frozenset(kinds),
    )
