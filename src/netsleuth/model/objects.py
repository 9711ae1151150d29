"""Frozen, typed Kubernetes objects: only the fields network diagnosis needs.

Every object carries :class:`Meta`, whose ``origin`` says where it was read
and whose ``derived`` flag says it was inferred (pods implied by a workload
template, a kube-dns Service assumed when only manifests are given) rather
than observed. Findings use ``derived`` to say how sure they are.

Dicts (labels, annotations, ConfigMap data) are plain dicts for speed at
150,000 pods; they are never mutated after ``build_model``.

Secrets are kept as name, namespace and type only: netsleuth never reads
Secret data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netsleuth.model.problems import Origin
from netsleuth.model.selectors import LabelSelector

_EMPTY: dict[str, str] = {}

# --------------------------------------------------------------------------- meta


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerRef:
    kind: str
    name: str
    api_version: str = ""
    uid: str = ""
    controller: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Meta:
    name: str
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    uid: str = ""
    owner_refs: tuple[OwnerRef, ...] = ()
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    origin: Origin = Origin()
    derived: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition_time: str | None = None

    @property
    def is_true(self) -> bool:
        return self.status == "True"


def find_condition(conditions: tuple[Condition, ...], type_: str) -> Condition | None:
    for c in conditions:
        if c.type == type_:
            return c
    return None


# --------------------------------------------------------------------------- namespace / node


@dataclass(frozen=True, slots=True, kw_only=True)
class Namespace:
    meta: Meta
    phase: str = "Active"

    kind = "Namespace"

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def labels(self) -> dict[str, str]:
        return self.meta.labels


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeAddress:
    type: str  # InternalIP, ExternalIP, Hostname, InternalDNS, ExternalDNS
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Taint:
    key: str
    value: str = ""
    effect: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    meta: Meta
    pod_cidrs: tuple[str, ...] = ()
    addresses: tuple[NodeAddress, ...] = ()
    conditions: tuple[Condition, ...] = ()
    kubelet_version: str = ""
    kube_proxy_version: str = ""
    container_runtime: str = ""
    kernel_version: str = ""
    os_image: str = ""
    architecture: str = ""
    provider_id: str = ""
    capacity_pods: int | None = None
    allocatable_pods: int | None = None
    unschedulable: bool = False
    taints: tuple[Taint, ...] = ()

    kind = "Node"

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def ready(self) -> bool | None:
        """Ready condition: True/False, or None when the node reports no Ready condition."""
        c = find_condition(self.conditions, "Ready")
        return None if c is None else c.is_true

    def address(self, type_: str = "InternalIP") -> str | None:
        for a in self.addresses:
            if a.type == type_:
                return a.address
        return None

    @property
    def internal_ip(self) -> str | None:
        return self.address("InternalIP")


# --------------------------------------------------------------------------- pods


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerPort:
    container_port: int
    name: str | None = None
    protocol: str = "TCP"
    host_port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """A readiness/liveness/startup probe: handler type and target port."""

    handler: str  # httpGet, tcpSocket, grpc, exec
    port: int | str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Container:
    name: str
    image: str = ""
    ports: tuple[ContainerPort, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    """Literal env values only; ``valueFrom`` entries are kept with an empty value."""
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    is_init: bool = False
    restart_policy: str | None = None
    """``Always`` marks a native sidecar (init container that keeps running)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerStatus:
    name: str
    ready: bool = False
    started: bool | None = None
    restart_count: int = 0
    state: str = "unknown"  # running, waiting, terminated, unknown
    state_reason: str = ""  # e.g. CrashLoopBackOff, ContainerCreating, OOMKilled
    state_message: str = ""
    last_termination_reason: str = ""  # e.g. OOMKilled, Error
    last_exit_code: int | None = None
    image: str = ""
    is_init: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DNSConfig:
    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[tuple[str, str | None], ...] = ()

    def option(self, name: str) -> str | None:
        for k, v in self.options:
            if k == name:
                return v if v is not None else ""
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class PodSpec:
    """The network-relevant part of a pod spec (shared by pods and workload templates)."""

    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    node_name: str | None = None
    host_network: bool = False
    dns_policy: str = "ClusterFirst"
    dns_config: DNSConfig | None = None
    service_account: str | None = None
    node_selector: dict[str, str] = field(default_factory=dict)
    subdomain: str | None = None
    hostname: str | None = None

    def all_ports(self) -> tuple[ContainerPort, ...]:
        """Ports of the main containers and of native sidecars (restartPolicy Always)."""
        out: list[ContainerPort] = []
        for c in self.containers:
            out.extend(c.ports)
        for c in self.init_containers:
            if c.restart_policy == "Always":
                out.extend(c.ports)
        return tuple(out)

    def resolve_named_port(self, name: str, protocol: str | None = None) -> ContainerPort | None:
        """The containerPort named ``name`` (and of ``protocol`` when given)."""
        for p in self.all_ports():
            if p.name == name and (protocol is None or p.protocol == protocol):
                return p
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Pod:
    meta: Meta
    spec: PodSpec = PodSpec()
    phase: str = "Unknown"
    pod_ips: tuple[str, ...] = ()
    host_ip: str | None = None
    conditions: tuple[Condition, ...] = ()
    container_statuses: tuple[ContainerStatus, ...] = ()
    reason: str = ""
    message: str = ""
    qos_class: str = ""

    kind = "Pod"

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def namespace(self) -> str:
        return self.meta.namespace or "default"

    @property
    def labels(self) -> dict[str, str]:
        return self.meta.labels

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.meta.name)

    @property
    def ip(self) -> str | None:
        return self.pod_ips[0] if self.pod_ips else None

    @property
    def node_name(self) -> str | None:
        return self.spec.node_name

    @property
    def host_network(self) -> bool:
        return self.spec.host_network

    @property
    def ready(self) -> bool:
        """The pod's Ready condition (what the EndpointSlice controller uses)."""
        c = find_condition(self.conditions, "Ready")
        return c is not None and c.is_true

    @property
    def terminating(self) -> bool:
        return self.meta.deletion_timestamp is not None

    @property
    def running(self) -> bool:
        return self.phase == "Running"


# --------------------------------------------------------------------------- workloads


@dataclass(frozen=True, slots=True, kw_only=True)
class PodTemplate:
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    spec: PodSpec = PodSpec()


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """A Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or ReplicationController."""

    kind: str
    meta: Meta
    selector: LabelSelector | None = None
    template: PodTemplate | None = None
    replicas: int | None = None
    ready_replicas: int = 0
    available_replicas: int = 0
    updated_replicas: int = 0
    desired_scheduled: int | None = None  # DaemonSet desiredNumberScheduled
    current_scheduled: int | None = None  # DaemonSet currentNumberScheduled
    number_ready: int | None = None  # DaemonSet numberReady
    number_unavailable: int | None = None
    service_name: str | None = None  # StatefulSet governing service
    conditions: tuple[Condition, ...] = ()
    has_status: bool = False

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def namespace(self) -> str:
        return self.meta.namespace or "default"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.meta.name)


# --------------------------------------------------------------------------- services


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicePort:
    port: int
    name: str | None = None
    protocol: str = "TCP"
    target_port: int | str | None = None
    """As written; ``None`` means "same as port" (the API server defaults it)."""
    node_port: int | None = None
    app_protocol: str | None = None

    @property
    def effective_target_port(self) -> int | str:
        return self.port if self.target_port is None else self.target_port


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    meta: Meta
    type: str = "ClusterIP"
    selector: dict[str, str] | None = None
    cluster_ip: str | None = None
    cluster_ips: tuple[str, ...] = ()
    ports: tuple[ServicePort, ...] = ()
    external_name: str | None = None
    external_ips: tuple[str, ...] = ()
    publish_not_ready_addresses: bool = False
    session_affinity: str = "None"
    external_traffic_policy: str | None = None
    internal_traffic_policy: str | None = None
    load_balancer_class: str | None = None
    load_balancer_ingress: tuple[str, ...] = ()
    """status.loadBalancer.ingress ip or hostname values."""
    ip_families: tuple[str, ...] = ()

    kind = "Service"

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def namespace(self) -> str:
        return self.meta.namespace or "default"

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.meta.name)

    @property
    def headless(self) -> bool:
        return self.cluster_ip == "None"

    @property
    def has_selector(self) -> bool:
        """An empty or absent selector means the endpoints are managed by hand."""
        return bool(self.selector)

    def port_by_name_or_number(self, ref: int | str) -> ServicePort | None:
        for p in self.ports:
            if (isinstance(ref, int) and p.port == ref) or (isinstance(ref, str) and p.name == ref):
                return p
        if isinstance(ref, str) and ref.isdigit():
            return self.port_by_name_or_number(int(ref))
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointTarget:
    kind: str
    name: str
    namespace: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    addresses: tuple[str, ...]
    ready: bool | None = None
    """``None`` means unknown, which consumers interpret as ready (API semantics)."""
    serving: bool | None = None
    terminating: bool | None = None
    node_name: str | None = None
    zone: str | None = None
    hostname: str | None = None
    target: EndpointTarget | None = None

    @property
    def is_ready(self) -> bool:
        return self.ready is not False


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointPort:
    port: int | None
    name: str | None = None
    protocol: str = "TCP"
    app_protocol: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointSlice:
    meta: Meta
    service_name: str | None
    address_type: str = "IPv4"
    endpoints: tuple[Endpoint, ...] = ()
    ports: tuple[EndpointPort, ...] = ()
    managed_by: str | None = None

    kind = "EndpointSlice"

    @property
    def namespace(self) -> str:
        return self.meta.namespace or "default"


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """v1 Endpoints, kept for old clusters; ``build_model`` turns them into derived slices."""

    meta: Meta
    ready: tuple[Endpoint, ...] = ()
    not_ready: tuple[Endpoint, ...] = ()
    ports: tuple[EndpointPort, ...] = ()

    kind = "Endpoints"


# --------------------------------------------------------------------------- network policy


@dataclass(frozen=True, slots=True, kw_only=True)
class IPBlock:
    cidr: str
    except_: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyPeer:
    """One ``from``/``to`` entry.

    ``pod_selector``/``namespace_selector`` are ``None`` when absent. Both
    present in one peer means AND; a peer with only ``pod_selector`` is
    scoped to the policy's own namespace.
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyPort:
    """One ``ports`` entry. ``port`` None means every port of ``protocol``."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRule:
    """One ingress or egress rule.

    ``peers`` empty means every peer (``from``/``to`` absent or empty);
    ``ports`` empty means every port and protocol.
    """

    peers: tuple[PolicyPeer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkPolicy:
    """A networking.k8s.io/v1 NetworkPolicy.

    ``policy_types`` is the effective value: when the manifest omits it,
    the API server defaults it to ``["Ingress"]`` plus ``"Egress"`` if the
    policy has any egress section
    (https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/).
    ``declared_policy_types`` keeps what was written (``None`` if omitted).
    """

    meta: Meta
    pod_selector: LabelSelector
    policy_types: tuple[str, ...]
    declared_policy_types: tuple[str, ...] | None = None
    ingress: tuple[PolicyRule, ...] = ()
    egress: tuple[PolicyRule, ...] = ()

    kind = "NetworkPolicy"

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def namespace(self) -> str:
        return self.meta.namespace or "default"

    @property
    def affects_ingress(self) -> bool:
        return "Ingress" in self.policy_types

    @property
    def affects_egress(self) -> bool:
        return "Egress" in self.policy_types


# --------------------------------------------------------------------------- ingress / gateway


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressBackend:
    service_name: str | None = None
    port_number: int | None = None
    port_name: str | None = None
    resource_kind: str | None = None
    resource_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressPath:
    path: str = "/"
    path_type: str = "ImplementationSpecific"
    backend: IngressBackend = IngressBackend()


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressRuleSpec:
    host: str | None = None
    paths: tuple[IngressPath, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressTLS:
    hosts: tuple[str, ...] = ()
    secret_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ingress:
    meta: Meta
    ingress_class_name: str | None = None
    default_backend: IngressBackend | None = None
    rules: tuple[IngressRuleSpec, ...] = ()
    tls: tuple[IngressTLS, ...] = ()
    load_balancer_ingress: tuple[str, ...] = ()

    kind = "Ingress"

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def namespace(self) -> str:
        return self.meta.namespace or "default"

    @property
    def class_name(self) -> str | None:
        """spec.ingressClassName, else the deprecated kubernetes.io/ingress.class annotation."""
        return self.ingress_class_name or self.meta.annotations.get("kubernetes.io/ingress.class")


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressClass:
    meta: Meta
    controller: str = ""
    is_default: bool = False

    kind = "IngressClass"


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayClass:
    meta: Meta
    controller: str = ""
    conditions: tuple[Condition, ...] = ()

    kind = "GatewayClass"


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    name: str
    port: int
    protocol: str = "HTTP"
    hostname: str | None = None
    tls_secret_refs: tuple[tuple[str | None, str], ...] = ()
    """(namespace, name) of certificateRefs."""
    allowed_namespaces: str = "Same"  # Same, All, Selector


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway:
    meta: Meta
    gateway_class_name: str = ""
    listeners: tuple[Listener, ...] = ()
    addresses: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()

    kind = "Gateway"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentRef:
    name: str
    namespace: str | None = None
    kind: str = "Gateway"
    section_name: str | None = None
    port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendRef:
    name: str
    namespace: str | None = None
    kind: str = "Service"
    group: str = ""
    port: int | None = None
    weight: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteParentStatus:
    parent: ParentRef
    controller: str = ""
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRule:
    backend_refs: tuple[BackendRef, ...] = ()
    path_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """A Gateway API HTTPRoute, GRPCRoute, TLSRoute, TCPRoute or UDPRoute."""

    kind: str
    meta: Meta
    parent_refs: tuple[ParentRef, ...] = ()
    hostnames: tuple[str, ...] = ()
    rules: tuple[RouteRule, ...] = ()
    parents_status: tuple[RouteParentStatus, ...] = ()


# --------------------------------------------------------------------------- config, secrets, events


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigMap:
    meta: Meta
    data: dict[str, str] = field(default_factory=dict)

    kind = "ConfigMap"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretRef:
    """A Secret's name and type. netsleuth never reads or stores Secret data."""

    meta: Meta
    type: str = "Opaque"

    kind = "Secret"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    meta: Meta
    involved_kind: str = ""
    involved_name: str = ""
    involved_namespace: str | None = None
    reason: str = ""
    message: str = ""
    type: str = "Normal"
    count: int = 1
    last_timestamp: str | None = None
    source: str = ""


# --------------------------------------------------------------------------- everything else


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomObject:
    """A CRD object of a kind netsleuth knows by name but models loosely
    (CiliumNetworkPolicy, Calico policies, AdminNetworkPolicy, Istio objects…).

    ``spec`` is the object's spec as parsed; the analysis package for that
    dialect turns it into its own typed form.
    """

    api_version: str
    kind: str
    meta: Meta
    spec: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownObject:
    """An object of a kind netsleuth does not analyse. Kept raw and counted."""

    api_version: str
    kind: str
    meta: Meta
    raw: dict[str, Any] = field(default_factory=dict)
