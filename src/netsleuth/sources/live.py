"""Read a live cluster through the Kubernetes API.

The official ``kubernetes`` client is used for configuration and transport
only: kubeconfig / in-cluster loading (exec plugins, client certificates,
token refresh, proxies) and its urllib3 pool. Responses are parsed with
``orjson`` into plain dicts; the client's model classes are never built
(they cost minutes at 100k pods).

What is read, in order:

1. Discovery: ``/api/v1`` and ``/apis``, then ``/apis/<group>/<version>``
   for the groups we use. Kinds whose group or resource is not served
   (Gateway API, Cilium, Calico, Istio, AdminNetworkPolicy on a plain
   cluster) are skipped. One WARNING problem lists them all, instead of one
   per group, because most clusters lack most of them.
2. Lists, ``parallel`` at a time, each paginated with ``limit`` and
   ``continue`` (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks).
   Pages are handed to the caller as they arrive through a small bounded
   queue, so memory holds a few pages, not the cluster.

Resources and why:

- core: namespaces, nodes, pods, services; events with
  ``fieldSelector=type=Warning`` (sandbox / CNI / IPAM errors);
  configmaps only in ``kube-system`` and the CNI / mesh namespaces
  (Corefile, kube-proxy, CNI configuration; application config is not
  ours to read); v1 Endpoints only when EndpointSlices cannot be listed.
- Secrets are listed as a server-side Table with ``includeObject=None``:
  the server sends name and type columns only, never ``data``. Not even
  ``includeObject=Metadata`` is used, because the
  ``kubectl.kubernetes.io/last-applied-configuration`` annotation of an
  applied Secret holds its data. Since Table rows then carry no namespace,
  secrets are listed per namespace.
- workloads (apps/v1, batch/v1), networking.k8s.io/v1 policies, ingresses
  and classes, discovery.k8s.io/v1 EndpointSlices, and the CNI / mesh /
  Gateway API custom resources when served. Calico is read from
  ``projectcalico.org/v3`` when its API server serves it, else from the
  ``crd.projectcalico.org/v1`` CRDs (never both: they hold the same objects).

Failures are values: a 403 on one resource yields a DEGRADED
:class:`LoadProblem` naming the resource and the analyses it affects, and
the resource is recorded in :meth:`LiveSource.info` ``forbidden`` (which
makes the check runner skip checks that need it). When a cluster-wide list
is forbidden, the resource is listed namespace by namespace (RoleBindings
grant per namespace); if any namespace is still refused, the resource is
recorded as forbidden, because an analysis over a partial pod list would
report false faults. Timeouts, 5xx and 429 are retried with bounded
backoff (``Retry-After`` honoured up to a cap), then recorded in
``failed``. Only a server that cannot be reached, or that refuses the
credentials (401) or discovery itself, raises :class:`SourceError`.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as _k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from netsleuth.errors import ForbiddenError, SourceError
from netsleuth.model.cluster import SourceInfo, SourceKind
from netsleuth.model.problems import Level, LoadProblem, Origin
from netsleuth.sources.base import RawObject

k8s_config: Any = _k8s_config  # the client's config loaders are untyped

__all__ = ["NETWORK_CONFIG_NAMESPACES", "LiveSource", "ProgressCallback"]

ProgressCallback = Callable[[str, int, int | None], None]
"""``progress(resource, items_so_far, total_or_None)``, called from the thread iterating collect()."""

NETWORK_CONFIG_NAMESPACES = (
    "kube-system",
    "kube-flannel",
    "calico-system",
    "tigera-operator",
    "cilium",
    "istio-system",
)
"""The only namespaces whose ConfigMaps are read (DNS, kube-proxy, CNI and mesh configuration)."""

JSON = "application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
"""Server-side printing: https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables"""

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 0.25
"""First retry delay in seconds; doubles per attempt up to :data:`BACKOFF_CAP`."""
BACKOFF_CAP = 2.0
RETRY_AFTER_CAP = 5.0
"""``Retry-After`` is honoured up to this many seconds, so one busy endpoint cannot stall the load."""
MAX_NAMES_IN_MESSAGE = 8

# The analyses each resource feeds, for the "affects" of a problem.
POLICY = ("policy engine", "connectivity", "trace policy hops", "policy checks")
PODS = (
    "nearly everything: policy engine",
    "connectivity",
    "trace",
    "service checks",
    "DNS checks",
    "CNI checks",
)
NODES = ("node checks", "overlay/MTU checks", "IPAM checks", "trace node hops")
SERVICES = (
    "service resolution",
    "trace service hops",
    "service checks",
    "DNS checks",
    "ingress checks",
)
SLICES = ("endpoints hop", "service checks")
GATEWAY = ("Gateway API checks", "trace gateway hops")
MESH = ("mesh checks",)
WORKLOADS = ("workload grouping of pods", "workload checks")


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """One resource to list, and what its absence costs."""

    group: str
    """API group, ``""`` for core."""
    versions: tuple[str, ...]
    """Acceptable versions, preferred first; the first one served (with this resource) is used."""
    plural: str
    kind: str
    namespaced: bool
    affects: tuple[str, ...]
    key: str = ""
    """The name recorded in ``info().forbidden``/``failed``; the plural unless it collides."""
    namespaces: tuple[str, ...] | None = None
    """List only in these namespaces (those of them that exist)."""
    field_selector: str | None = None
    table: bool = False
    """List as a server-side Table (name and type only): used for Secrets."""
    fallback_for: str | None = None
    """Listed only when the resource with this key could not be listed."""
    unless_served: str | None = None
    """Skipped when the same resource is served by this other group."""

    @property
    def name(self) -> str:
        return self.key or self.plural

    @property
    def group_label(self) -> str:
        return self.group or "core"

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _spec(
    group: str,
    versions: tuple[str, ...],
    plural: str,
    kind: str,
    affects: tuple[str, ...],
    *,
    namespaced: bool = True,
    **kw: Any,
) -> ResourceSpec:
    return ResourceSpec(group, versions, plural, kind, namespaced, affects, **kw)


FAMILY = {
    "gateway.networking.k8s.io": "Gateway API",
    "cilium.io": "Cilium",
    "projectcalico.org": "Calico",
    "crd.projectcalico.org": "Calico",
    "policy.networking.k8s.io": "AdminNetworkPolicy",
    "networking.istio.io": "Istio",
    "security.istio.io": "Istio",
    "route.openshift.io": "OpenShift Route",
}
"""How the "not served" warning names the checks it skips."""

V1 = ("v1",)
RESOURCES: tuple[ResourceSpec, ...] = (
    _spec("", V1, "namespaces", "Namespace", ("namespace selectors", *POLICY), namespaced=False),
    _spec("", V1, "nodes", "Node", NODES, namespaced=False),
    _spec("", V1, "pods", "Pod", PODS),
    _spec("", V1, "services", "Service", SERVICES),
    _spec("discovery.k8s.io", V1, "endpointslices", "EndpointSlice", SLICES),
    _spec("", V1, "endpoints", "Endpoints", SLICES, fallback_for="endpointslices"),
    _spec(
        "",
        V1,
        "configmaps",
        "ConfigMap",
        ("DNS Corefile checks", "kube-proxy checks", "CNI config checks"),
        namespaces=NETWORK_CONFIG_NAMESPACES,
    ),
    _spec(
        "",
        V1,
        "events",
        "Event",
        ("sandbox/CNI error checks", "IPAM event checks"),
        field_selector="type=Warning",
    ),
    _spec("", V1, "secrets", "Secret", ("ingress TLS secret checks",), table=True),
    _spec("apps", V1, "deployments", "Deployment", (*WORKLOADS, "DNS replica checks")),
    _spec("apps", V1, "statefulsets", "StatefulSet", WORKLOADS),
    _spec("apps", V1, "daemonsets", "DaemonSet", (*WORKLOADS, "CNI agent checks")),
    _spec("apps", V1, "replicasets", "ReplicaSet", WORKLOADS),
    _spec("batch", V1, "jobs", "Job", WORKLOADS),
    _spec("batch", V1, "cronjobs", "CronJob", WORKLOADS),
    _spec("networking.k8s.io", V1, "networkpolicies", "NetworkPolicy", POLICY),
    _spec(
        "networking.k8s.io", V1, "ingresses", "Ingress", ("ingress checks", "trace ingress hops")
    ),
    _spec(
        "networking.k8s.io",
        V1,
        "ingressclasses",
        "IngressClass",
        ("ingress class checks",),
        namespaced=False,
    ),
    _spec(
        "gateway.networking.k8s.io",
        ("v1", "v1beta1"),
        "gatewayclasses",
        "GatewayClass",
        GATEWAY,
        namespaced=False,
    ),
    _spec("gateway.networking.k8s.io", ("v1", "v1beta1"), "gateways", "Gateway", GATEWAY),
    _spec("gateway.networking.k8s.io", ("v1", "v1beta1"), "httproutes", "HTTPRoute", GATEWAY),
    _spec("gateway.networking.k8s.io", ("v1", "v1alpha2"), "grpcroutes", "GRPCRoute", GATEWAY),
    _spec("route.openshift.io", V1, "routes", "Route", ("ingress-controller pseudo-peer",)),
    _spec("cilium.io", ("v2",), "ciliumnetworkpolicies", "CiliumNetworkPolicy", POLICY),
    _spec(
        "cilium.io",
        ("v2",),
        "ciliumclusterwidenetworkpolicies",
        "CiliumClusterwideNetworkPolicy",
        POLICY,
        namespaced=False,
    ),
    _spec(
        "projectcalico.org",
        ("v3",),
        "networkpolicies",
        "NetworkPolicy",
        POLICY,
        key="networkpolicies.projectcalico.org",
    ),
    _spec(
        "projectcalico.org",
        ("v3",),
        "globalnetworkpolicies",
        "GlobalNetworkPolicy",
        POLICY,
        namespaced=False,
    ),
    _spec(
        "crd.projectcalico.org",
        V1,
        "networkpolicies",
        "NetworkPolicy",
        POLICY,
        key="networkpolicies.crd.projectcalico.org",
        unless_served="projectcalico.org",
    ),
    _spec(
        "crd.projectcalico.org",
        V1,
        "globalnetworkpolicies",
        "GlobalNetworkPolicy",
        POLICY,
        namespaced=False,
        unless_served="projectcalico.org",
    ),
    _spec(
        "policy.networking.k8s.io",
        ("v1alpha1",),
        "adminnetworkpolicies",
        "AdminNetworkPolicy",
        POLICY,
        namespaced=False,
    ),
    _spec(
        "policy.networking.k8s.io",
        ("v1alpha1",),
        "baselineadminnetworkpolicies",
        "BaselineAdminNetworkPolicy",
        POLICY,
        namespaced=False,
    ),
    _spec(
        "networking.istio.io",
        ("v1", "v1beta1", "v1alpha3"),
        "virtualservices",
        "VirtualService",
        MESH,
    ),
    _spec(
        "networking.istio.io",
        ("v1", "v1beta1", "v1alpha3"),
        "destinationrules",
        "DestinationRule",
        MESH,
    ),
    _spec(
        "security.istio.io", ("v1", "v1beta1"), "peerauthentications", "PeerAuthentication", MESH
    ),
)


# --------------------------------------------------------------------------- transport


class _NetError(Exception):
    """No HTTP response: connection refused, DNS, TLS, timeout, connection dropped."""

    def __init__(self, detail: str, *, definitive: bool = False, tls: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.definitive = definitive
        """Retrying cannot help (refused, unknown host, TLS): fail fast."""
        self.tls = tls
        """The TLS handshake failed (e.g. the server certificate is not trusted)."""


class _Cancelled(Exception):
    """The consumer stopped iterating; workers wind down."""


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes
    attempts: int

    def json(self) -> Any:
        return orjson.loads(self.body)

    def status_message(self) -> str:
        """The ``message`` of a ``Status`` body, or the raw status code."""
        try:
            data = self.json()
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return str(data["message"])
        return f"HTTP {self.status}"


def _classify(exc: BaseException) -> _NetError:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return _classify(exc.reason)
    if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError):
        return _NetError(f"timed out ({text})")
    if isinstance(exc, urllib3.exceptions.NameResolutionError):
        return _NetError(f"cannot resolve the host ({text})", definitive=True)
    if isinstance(exc, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
        definitive = "refused" in text.lower() or isinstance(exc, ConnectionRefusedError)
        return _NetError(f"cannot connect ({text})", definitive=definitive)
    if isinstance(exc, ApiException) and not exc.status:
        # kubernetes.client.rest wraps urllib3's SSLError as ApiException(status=0,
        # reason="SSLError\n<text>"), whose str() is a multi-line "(0)\nReason: ...".
        reason = str(exc.reason or "")
        head, _, rest = reason.partition("\n")
        text = " ".join((rest if head.endswith("Error") and rest else reason).split())
        text = text or type(exc).__name__
    if isinstance(exc, urllib3.exceptions.SSLError | ApiException):
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return _NetError(
                f"TLS verification of the server certificate failed ({text})",
                definitive=True,
                tls=True,
            )
        return _NetError(f"TLS error ({text})", definitive=True, tls=True)
    return _NetError(f"{type(exc).__name__}: {text}")


class _Deadline:
    """The total deadline of one request: when it passes, the connection is shut down.

    A socket timeout bounds each read, not the request: a server (or a proxy)
    that trickles its headers or body a byte at a time never trips it, and
    ``stream(64 KiB)`` waited for 64 KiB before looking at the clock (a body at
    1 byte/s passed a 30 s timeout). A timer shuts the socket down instead, which
    ends any read in progress; the connection is then discarded, not reused.
    """

    _current = threading.local()

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self.conn: Any = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _Deadline._current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _Deadline._current.deadline = None

    @classmethod
    def attach(cls, conn: Any) -> None:
        """Called by the connection that sends the current thread's request."""
        d = getattr(cls._current, "deadline", None)
        if d is not None:
            with d._lock:
                d.conn = conn
                if d.fired:
                    _shutdown(conn)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self.conn is not None:
                _shutdown(self.conn)


_SHUT_RDWR = 2
"""``socket.SHUT_RDWR`` (POSIX); the socket module is not imported here (only probe/ and
lab/ open sockets, an import contract): the client's own socket is only shut down."""


def _shutdown(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(_SHUT_RDWR)


class _DeadlineHTTPConnection(urllib3.connection.HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _Deadline.attach(self)
        super().request(*args, **kwargs)


class _DeadlineHTTPSConnection(urllib3.connection.HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _Deadline.attach(self)
        super().request(*args, **kwargs)


class _DeadlineHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def _install_deadlines(api: Any) -> None:
    """Make the client's pools use connections a :class:`_Deadline` can shut down.

    Only for the plain and HTTP-proxy managers (a SOCKS proxy brings its own
    pool classes; there only the per-read timeout applies).
    """
    pm = getattr(getattr(api, "rest_client", None), "pool_manager", None)
    if pm is None or pm.pool_classes_by_scheme is not urllib3.poolmanager.pool_classes_by_scheme:
        return
    pm.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


class _Transport:
    """One GET with a hard deadline, and bounded retries around it."""

    def __init__(self, api: Any, *, timeout: float, retries: int, stop: threading.Event) -> None:
        self.api = api
        self.timeout = timeout
        """Seconds for a whole request (connect, headers, body); 0 means no limit."""
        self.retries = max(0, retries)
        self.stop = stop

    def attempt(self, path: str, query: list[tuple[str, str]], accept: str) -> _Response:
        method, url, headers, _body, _post = self.api.param_serialize(
            "GET",
            path,
            query_params=query,
            header_params={"Accept": accept},
            auth_settings=["BearerToken"],
        )
        if self.timeout <= 0:
            return self._fetch(method, url, headers, None)
        with _Deadline(self.timeout) as deadline:
            try:
                return self._fetch(method, url, headers, self.timeout)
            except _NetError:
                if deadline.fired:
                    raise _NetError(
                        f"timed out: no complete answer within {self.timeout:g}s "
                        "(the total deadline of a request)"
                    ) from None
                raise

    def _fetch(self, method: str, url: str, headers: Any, timeout: float | None) -> _Response:
        try:
            resp = self.api.call_api(method, url, header_params=headers, _request_timeout=timeout)
        except (urllib3.exceptions.HTTPError, OSError, ApiException) as exc:
            raise _classify(exc) from exc
        raw = resp.response
        chunks: list[bytes] = []
        complete = False
        try:
            for chunk in raw.stream(1 << 16):
                chunks.append(chunk)
            complete = True
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _classify(exc) from exc
        finally:
            if complete:
                raw.release_conn()
            else:
                raw.close()
        hdrs = {k.lower(): v for k, v in raw.headers.items()}
        return _Response(int(resp.status), hdrs, b"".join(chunks), 1)

    def get(self, path: str, query: list[tuple[str, str]], accept: str = JSON) -> _Response:
        """GET with retries for timeouts, dropped connections, 429 and 5xx.

        Raises :class:`_NetError` when no response came after the last attempt.
        """
        attempt = 0
        while True:
            if self.stop.is_set():
                raise _Cancelled
            delay = min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt))
            try:
                r = self.attempt(path, query, accept)
            except _NetError as err:
                if err.definitive or attempt >= self.retries:
                    err.detail += f" after {attempt + 1} attempt(s)" if attempt else ""
                    raise
            else:
                if r.status not in RETRYABLE_STATUS or attempt >= self.retries:
                    return _Response(r.status, r.headers, r.body, attempt + 1)
                after = _retry_after(r.headers.get("retry-after"))
                if after is not None:
                    delay = min(after, RETRY_AFTER_CAP)
            if _pause(self.stop, delay):
                raise _Cancelled
            attempt += 1


def _pause(stop: threading.Event, delay: float) -> bool:
    """Wait ``delay`` seconds before a retry; True when the load was cancelled meanwhile."""
    return stop.wait(delay)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None  # an HTTP date: the API server sends seconds, fall back to backoff


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True, slots=True)
class _Job:
    spec: ResourceSpec
    path: str
    api_version: str
    namespace: str | None
    """The namespace of a per-namespace list, ``None`` for a cluster-wide one."""


@dataclass(slots=True)
class _Page:
    job: _Job
    objects: list[RawObject]
    total: int | None


@dataclass(slots=True)
class _Done:
    job: _Job
    outcome: str
    """ok, forbidden, failed, or incomplete (already reported by the worker)"""
    detail: str = ""
    attempts: int = 1


@dataclass(slots=True)
class _Tally:
    """The state of one resource across its jobs (per-namespace lists, fallbacks)."""

    spec: ResourceSpec
    api_version: str
    outstanding: int = 0
    jobs: int = 0
    count: int = 0
    waiting: bool = False
    """Waiting for the namespace list, or (a fallback) for its primary resource."""
    reported: bool = False
    per_namespace: bool = False
    """The cluster-wide list was forbidden and each namespace was tried instead."""
    forbidden_cluster: bool = False
    forbidden_namespaces: list[str] = field(default_factory=list)
    forbidden_detail: str = ""
    failures: list[str] = field(default_factory=list)
    path: str = ""


def list_path(group: str, version: str, plural: str, namespace: str | None) -> str:
    base = "/api/v1" if not group else f"/apis/{group}/{version}"
    if namespace is not None:
        return f"{base}/namespaces/{namespace}/{plural}"
    return f"{base}/{plural}"


def _names(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:MAX_NAMES_IN_MESSAGE])
    more = len(names) - MAX_NAMES_IN_MESSAGE
    return shown + (f" and {more} more" if more > 0 else "")


# --------------------------------------------------------------------------- the source


class LiveSource:
    """Lists the objects netsleuth needs from the API server a kubeconfig points at.

    >>> src = LiveSource(context="prod", namespace=None)   # doctest: +SKIP
    >>> for item in src.collect(): ...                      # doctest: +SKIP
    >>> src.info().forbidden                                # doctest: +SKIP
    ('networkpolicies',)
    """

    def __init__(
        self,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        page_size: int = 500,
        timeout: float = 30.0,
        retries: int = 2,
        parallel: int = 4,
        max_pages: int = 2000,
        progress: ProgressCallback | None = None,
        in_cluster: bool | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.namespace = namespace
        self.page_size = max(1, page_size)
        self.timeout = timeout
        """Seconds for each request as a whole (connect, headers and body); 0: no limit."""
        self.max_pages = max(1, max_pages)
        """Pages per list before it is cut and reported incomplete (2,000 x 500 = 1M objects)."""
        self.retries = max(0, retries)
        self.parallel = max(1, parallel)
        self.progress = progress
        self.in_cluster = in_cluster
        self._server: str | None = None
        self._context_used: str | None = None
        self._in_cluster_used = False
        self._forbidden: set[str] = set()
        self._failed: set[str] = set()
        self.not_served: tuple[str, ...] = ()
        """Qualified resources skipped because discovery does not list them (after collect())."""

    # ------------------------------------------------------------------ public

    def info(self) -> SourceInfo:
        return SourceInfo(
            kind=SourceKind.LIVE,
            context=self._context_used,
            server=self._server,
            forbidden=tuple(sorted(self._forbidden)),
            failed=tuple(sorted(self._failed - self._forbidden)),
        )

    def collect(self) -> Iterator[RawObject | LoadProblem]:
        """Yield every listed object and every problem. Raises :class:`SourceError` only
        when the server cannot be used at all (unreachable, 401, discovery refused)."""
        api = self.api_client()
        stop = threading.Event()
        transport = _Transport(api, timeout=self.timeout, retries=self.retries, stop=stop)
        pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="netsleuth-list")
        try:
            yield from _Collector(self, transport, pool, stop).run()
        finally:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            with contextlib.suppress(Exception):  # closing must not mask the real outcome
                api.close()

    # ------------------------------------------------------------------ configuration

    def _use_in_cluster(self) -> bool:
        if self.in_cluster is not None:
            return self.in_cluster
        if self.kubeconfig or os.environ.get("KUBECONFIG"):
            return False
        if Path(k8s_config.KUBE_CONFIG_DEFAULT_LOCATION).expanduser().exists():
            return False
        return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))

    def api_client(self) -> Any:
        """A ``kubernetes.client.ApiClient`` for this source's kubeconfig/context (or the
        in-cluster service account), configured as :meth:`collect` uses it: no urllib3
        retries (ours are bounded), a connection pool sized to ``parallel``, the request
        deadlines installed. Other live work (``netsleuth collect``'s node pods) uses it
        so that it talks to the same server as the same user. The caller closes it.
        Raises :class:`SourceError` when the configuration cannot be loaded."""
        cfg = k8s_client.Configuration()
        if self._use_in_cluster():
            try:
                k8s_config.load_incluster_config(client_configuration=cfg)
            except ConfigException as exc:
                raise SourceError(
                    f"cannot load the in-cluster configuration: {exc}",
                    tip="Inside a pod, the service account token must be mounted; "
                    "outside, give --kubeconfig.",
                ) from exc
            self._context_used = None
            self._in_cluster_used = True
        else:
            try:
                k8s_config.load_kube_config(
                    config_file=self.kubeconfig,
                    context=self.context,
                    client_configuration=cfg,
                    persist_config=False,  # a diagnostic tool never writes the user's kubeconfig
                )
            except Exception as exc:  # the client's loader raises anything on a malformed file
                raise SourceError(
                    f"cannot load the kubeconfig: {_kubeconfig_problem(exc)}",
                    tip=self._config_tip(),
                ) from exc
            self._context_used = self.context or self._current_context()
            self._in_cluster_used = False
        # Retries are ours (bounded, with Retry-After); urllib3's default of 3
        # silent retries per request would multiply them.
        cfg.retries = False
        cfg.connection_pool_maxsize = self.parallel + 1
        self._server = str(cfg.host)
        api = k8s_client.ApiClient(cfg)
        _install_deadlines(api)
        return api

    def _current_context(self) -> str | None:
        try:
            _contexts, active = k8s_config.list_kube_config_contexts(config_file=self.kubeconfig)
        except Exception:  # the config already loaded; this is only for display
            return None
        return str(active.get("name")) if isinstance(active, dict) else None

    def _config_tip(self) -> str:
        try:
            contexts, _ = k8s_config.list_kube_config_contexts(config_file=self.kubeconfig)
            names = [str(c.get("name")) for c in contexts or [] if isinstance(c, dict)]
        except Exception:  # no readable kubeconfig at all
            names = []
        where = self.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        if self.context and names:
            return f"Context {self.context!r} is not in {where}; it has: {', '.join(names)}."
        return f"Check {where} (`kubectl config view`), or pass --kubeconfig / --context, or -f to read files."


def _kubeconfig_problem(exc: Exception) -> str:
    """One line saying what is wrong with a kubeconfig the client's loader refused."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:  # yaml.MarkedYAMLError: the file is not YAML
        problem = getattr(exc, "problem", None) or "not valid YAML"
        return f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    if isinstance(exc, ConfigException | OSError | ValueError):
        text = str(exc)
    else:  # KeyError, TypeError, AttributeError... from a file that is YAML but not a kubeconfig
        text = (
            f"it is not a kubeconfig (expected clusters, contexts and users): "
            f"{type(exc).__name__}: {exc}"
        )
    return " ".join(text.split())


class _Collector:
    """One run of collect(): discovery, then the lists, yielding from the caller's thread."""

    def __init__(
        self,
        source: LiveSource,
        transport: _Transport,
        pool: ThreadPoolExecutor,
        stop: threading.Event,
    ) -> None:
        self.src = source
        self.t = transport
        self.pool = pool
        self.stop = stop
        self.out: queue.Queue[_Page | _Done | LoadProblem] = queue.Queue(
            maxsize=max(4, 2 * source.parallel)
        )
        self.running = 0
        self.tallies: dict[str, _Tally] = {}
        self.namespaces: list[str] | None = None
        self.namespaces_settled = False
        self.waiting_for_namespaces: list[_Tally] = []
        self.waiting_fallbacks: list[_Tally] = []
        self.origins: dict[str, Origin] = {}

    # ------------------------------------------------------------------ discovery

    def _fatal(self, r: _Response, what: str) -> SourceError:
        server = self.src._server
        if r.status == 401:
            return SourceError(
                f"the API server at {server} rejected the credentials (401 Unauthorized)",
                tip="The token or certificate is missing or expired: refresh your credentials "
                "(e.g. re-run your cloud's get-credentials command) and check `kubectl auth whoami`.",
            )
        if r.status == 403:
            return ForbiddenError(
                f"the API server at {server} refused discovery ({what}): {r.status_message()}",
                verb="get",
                resource=what,
                tip="These credentials cannot even read API discovery; "
                "check the user with `kubectl auth can-i --list`.",
            )
        return SourceError(
            f"the API server at {server} answered {r.status} for {what}: {r.status_message()}"
        )

    def _unreachable(self, err: _NetError) -> SourceError:
        server = self.src._server
        ctx = self.src._context_used
        if err.tls:
            where = (
                f"the service account CA ({k8s_config.incluster_config.SERVICE_CERT_FILENAME})"
                if self.src._in_cluster_used
                else f"the certificate-authority of {f'context {ctx!r}' if ctx else 'the kubeconfig'} "
                "(`kubectl config view --raw`)"
            )
            return SourceError(
                f"cannot reach the API server at {server}: {err.detail}",
                tip=f"The server's certificate must be signed by {where} and name the "
                "address used; a proxy that intercepts TLS also breaks this.",
            )
        return SourceError(
            f"cannot reach the API server at {server}: {err.detail}",
            tip=f"Check that the cluster is up and reachable from here (VPN, proxy, firewall) "
            f"and that context {ctx!r} points at the right server; "
            "`kubectl cluster-info` should work."
            if ctx
            else "Check that the cluster is up and reachable from here; "
            "`kubectl cluster-info` should work.",
        )

    def _discover(self) -> tuple[list[tuple[ResourceSpec, str]], list[LoadProblem]]:
        """Which specs to list, at which version; and the discovery problems."""
        try:
            core = self.t.get("/api/v1", [])
        except _NetError as err:
            raise self._unreachable(err) from None
        if core.status != 200:
            raise self._fatal(core, "/api/v1")
        self._require_discovery(core, "/api/v1", "APIResourceList", "resources")
        problems: list[LoadProblem] = []
        served: dict[tuple[str, str], dict[str, Any]] = {("", "v1"): self._resource_map(core)}

        group_versions: dict[str, list[str]] = {}
        try:
            groups = self.t.get("/apis", [])
        except _NetError as err:
            groups = None
            problems.append(self._discovery_problem("/apis", err.detail))
        if groups is not None:
            if groups.status == 401:
                raise self._fatal(groups, "/apis")
            if groups.status != 200:
                problems.append(self._discovery_problem("/apis", groups.status_message()))
            else:
                self._require_discovery(groups, "/apis", "APIGroupList", "groups")
                group_versions = self._group_versions(groups)

        wanted: list[tuple[str, str]] = []
        for spec in RESOURCES:
            if spec.group:
                wanted.extend(
                    (spec.group, v)
                    for v in spec.versions
                    if v in group_versions.get(spec.group, ()) and (spec.group, v) not in wanted
                )
        failed_gv: dict[tuple[str, str], str] = {}

        def fetch(gv: tuple[str, str]) -> tuple[tuple[str, str], _Response | str]:
            try:
                return gv, self.t.get(f"/apis/{gv[0]}/{gv[1]}", [])
            except _NetError as err:
                return gv, err.detail

        for gv, result in self.pool.map(fetch, wanted):
            if isinstance(result, str):
                failed_gv[gv] = result
            elif result.status != 200:
                if result.status == 401:
                    raise self._fatal(result, f"/apis/{gv[0]}/{gv[1]}")
                failed_gv[gv] = result.status_message()
            else:
                served[gv] = self._resource_map(result)

        chosen: list[tuple[ResourceSpec, str]] = []
        not_served: list[ResourceSpec] = []
        reported_gv: set[tuple[str, str]] = set()
        for spec in RESOURCES:
            version = next(
                (v for v in spec.versions if spec.plural in served.get((spec.group, v), {})), None
            )
            if version is not None:
                chosen.append((spec, version))
                continue
            broken = [(spec.group, v) for v in spec.versions if (spec.group, v) in failed_gv]
            if broken:
                # The group is served but its discovery failed (a down aggregated
                # API server): we cannot tell whether the resource exists.
                self.src._failed.add(spec.name)
                for gv in broken:
                    if gv not in reported_gv:
                        reported_gv.add(gv)
                        problems.append(
                            self._discovery_problem(f"/apis/{gv[0]}/{gv[1]}", failed_gv[gv])
                        )
                continue
            not_served.append(spec)
        served_names = {(s.group, s.plural) for s, _ in chosen}
        chosen = [
            (s, v)
            for s, v in chosen
            if not (s.unless_served and (s.unless_served, s.plural) in served_names)
        ]
        absent = [
            s
            for s in not_served
            if s.fallback_for is None
            # Calico's CRD group is the fallback for its API server group: absent
            # only matters when neither serves the resource.
            and not (
                s.group == "projectcalico.org"
                and ("crd.projectcalico.org", s.plural) in served_names
            )
            and not (s.unless_served and (s.unless_served, s.plural) in served_names)
        ]
        self.src.not_served = tuple(s.qualified for s in absent)
        if absent:
            missing_groups = sorted(
                {s.group for s in absent if s.group and s.group not in group_versions}
            )
            missing_resources = [
                s.qualified for s in absent if s.group in group_versions or not s.group
            ]
            parts = []
            if missing_groups:
                parts.append(f"API group not served: {', '.join(missing_groups)}")
            if missing_resources:
                parts.append(f"API resource not served: {', '.join(missing_resources)}")
            families = ", ".join(dict.fromkeys(FAMILY.get(s.group, s.kind) for s in absent))
            problems.append(
                LoadProblem(
                    level=Level.WARNING,
                    message=f"{'; '.join(parts)} (checks using {families} objects skipped)",
                    origin=Origin(live=True, file="/apis"),
                    skipped=", ".join(s.qualified for s in absent),
                )
            )
        return chosen, problems

    def _require_discovery(self, r: _Response, path: str, kind: str, key: str) -> None:
        """A 200 that is not API discovery (a proxy's login page, an HTML error page) is fatal.

        Read as "no resources", it gave an empty model that every check passed.
        """
        try:
            data = r.json()
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and isinstance(data.get(key), list):
            return
        ctype = r.headers.get("content-type", "no content type")
        got = (
            f"a {data.get('kind')!r} object"
            if isinstance(data, dict) and data.get("kind")
            else f"{len(r.body)} bytes of {ctype}"
        )
        raise SourceError(
            f"the server at {self.src._server} answered {path} with {got}, not Kubernetes API "
            f"discovery ({kind})",
            tip="Something between you and the API server (a proxy or VPN login page, a wrong "
            "server URL or port) answered instead; check `kubectl get --raw /api/v1`.",
        )

    def _discovery_problem(self, path: str, detail: str) -> LoadProblem:
        return LoadProblem(
            level=Level.DEGRADED,
            message=f"API discovery failed for {path}: {detail}",
            origin=Origin(live=True, file=path),
            object=path,
            skipped="the resources of this API group",
        )

    @staticmethod
    def _resource_map(r: _Response) -> dict[str, Any]:
        """``plural -> APIResource`` for listable top-level resources of an APIResourceList."""
        try:
            data = r.json()
        except orjson.JSONDecodeError:
            return {}
        out: dict[str, Any] = {}
        for res in data.get("resources") or [] if isinstance(data, dict) else []:
            if not isinstance(res, dict) or not isinstance(res.get("name"), str):
                continue
            name = res["name"]
            verbs = res.get("verbs")
            if "/" in name or (isinstance(verbs, list) and "list" not in verbs):
                continue  # subresources (pods/log) and resources we may not list
            out[name] = res
        return out

    @staticmethod
    def _group_versions(r: _Response) -> dict[str, list[str]]:
        try:
            data = r.json()
        except orjson.JSONDecodeError:
            return {}
        out: dict[str, list[str]] = {}
        for g in data.get("groups") or [] if isinstance(data, dict) else []:
            if not isinstance(g, dict) or not isinstance(g.get("name"), str):
                continue
            out[g["name"]] = [
                str(v.get("version"))
                for v in g.get("versions") or []
                if isinstance(v, dict) and v.get("version")
            ]
        return out

    # ------------------------------------------------------------------ scheduling
    #
    # Everything below runs in the thread iterating collect(), except _work()
    # and what it calls, which run in the pool and talk back only through
    # self.out (pages, problems, and one _Done per list).

    def run(self) -> Iterator[RawObject | LoadProblem]:
        chosen, problems = self._discover()
        yield from problems
        chosen_keys = {s.name for s, _ in chosen}
        if self.src.namespace is not None:
            # Every namespaced list is in that one namespace: nothing waits for the list.
            self.namespaces = [self.src.namespace]
            self.namespaces_settled = True
        elif "namespaces" not in chosen_keys:
            self.namespaces_settled = True
        for spec, version in chosen:
            tally = _Tally(spec, self._api_version(spec, version))
            self.tallies[spec.name] = tally
            if spec.fallback_for is not None and spec.fallback_for in chosen_keys:
                tally.waiting = True  # decided when the primary resource is done
                continue
            self._start(tally)
        yield from self._drain()

    @staticmethod
    def _api_version(spec: ResourceSpec, version: str) -> str:
        return f"{spec.group}/{version}" if spec.group else version

    @staticmethod
    def _version(tally: _Tally) -> str:
        return tally.api_version.rsplit("/", 1)[-1]

    def _start(self, tally: _Tally) -> None:
        spec = tally.spec
        ns_filter = self.src.namespace
        tally.waiting = False
        if not spec.namespaced:
            self._submit(tally, None)
        elif ns_filter is not None:
            if spec.namespaces is None or ns_filter in spec.namespaces:
                self._submit(tally, ns_filter)
        elif spec.namespaces is not None or spec.table:
            if self.namespaces_settled:
                self._start_per_namespace(tally)
            else:
                tally.waiting = True
                self.waiting_for_namespaces.append(tally)
        else:
            self._submit(tally, None)

    def _start_per_namespace(self, tally: _Tally) -> None:
        spec = tally.spec
        known = self.namespaces
        tally.waiting = False
        if spec.namespaces is not None:
            # Listing in a namespace that does not exist returns an empty list,
            # so without the namespace list we can still try each of them.
            for ns in spec.namespaces:
                if known is None or ns in known:
                    self._submit(tally, ns)
        elif known is not None:
            for ns in known:
                self._submit(tally, ns)
        else:
            tally.failures.append(
                f"{spec.plural} are listed per namespace and the namespaces could not be listed"
            )

    def _submit(self, tally: _Tally, namespace: str | None) -> None:
        spec = tally.spec
        path = list_path(spec.group, self._version(tally), spec.plural, namespace)
        job = _Job(spec, path, tally.api_version, namespace)
        tally.outstanding += 1
        tally.jobs += 1
        tally.path = tally.path or path
        self.running += 1
        self.pool.submit(self._work, job)

    def _namespaces_known(self) -> None:
        """The namespace list is settled: start what waited for it."""
        self.namespaces_settled = True
        for tally in self.waiting_for_namespaces:
            self._start_per_namespace(tally)
        self.waiting_for_namespaces = []
        for tally in self.waiting_fallbacks:
            tally.waiting = False
            if self.namespaces:
                tally.per_namespace = True
                for ns in self.namespaces:
                    self._submit(tally, ns)
        self.waiting_fallbacks = []

    def _settle_finished(self) -> Iterator[LoadProblem]:
        """Report each resource whose lists are all done; start fallbacks they call for."""
        progressed = True
        while progressed:
            progressed = False
            for tally in self.tallies.values():
                if tally.reported or tally.waiting or tally.outstanding:
                    continue
                tally.reported = True
                progressed = True
                yield from self._finish(tally)
                fallback = next(
                    (t for t in self.tallies.values() if t.spec.fallback_for == tally.spec.name),
                    None,
                )
                if fallback is not None and fallback.waiting:
                    if (
                        tally.spec.name in self.src._forbidden
                        or tally.spec.name in self.src._failed
                    ):
                        self._start(fallback)
                    else:
                        # The primary loaded: the fallback is not needed.
                        fallback.waiting = False
                        fallback.reported = True

    def _drain(self) -> Iterator[RawObject | LoadProblem]:
        ns_names: list[str] = []
        while True:
            yield from self._settle_finished()
            if self.running == 0:
                if not self.namespaces_settled:
                    self._namespaces_known()
                    continue
                stuck = [t for t in self.tallies.values() if t.waiting]
                if not stuck:
                    return
                for tally in stuck:  # nothing can start them any more
                    tally.waiting = False
                continue
            msg = self.out.get()
            if isinstance(msg, LoadProblem):
                yield msg
            elif isinstance(msg, _Page):
                tally = self.tallies[msg.job.spec.name]
                tally.count += len(msg.objects)
                is_ns = msg.job.spec.name == "namespaces"
                if is_ns:
                    for o in msg.objects:
                        meta = o.data.get("metadata")
                        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                            ns_names.append(meta["name"])
                yield from msg.objects
                if self.src.progress is not None:
                    total = msg.total if tally.jobs == 1 else None
                    self.src.progress(tally.spec.name, tally.count, total)
            else:
                self.running -= 1
                tally = self.tallies[msg.job.spec.name]
                tally.outstanding -= 1
                self._record(tally, msg)
                if msg.job.spec.name == "namespaces" and not self.namespaces_settled:
                    self.namespaces = ns_names if msg.outcome == "ok" else None
                    self._namespaces_known()

    def _record(self, tally: _Tally, done: _Done) -> None:
        job = done.job
        if done.outcome == "forbidden":
            tally.forbidden_detail = tally.forbidden_detail or done.detail
            if job.namespace is not None:
                tally.forbidden_namespaces.append(job.namespace)
                return
            tally.forbidden_cluster = True
            if job.spec.namespaced and self.src.namespace is None:
                # RBAC may grant the resource per namespace (RoleBindings): try
                # each namespace before giving up on it.
                if not self.namespaces_settled:
                    tally.waiting = True
                    self.waiting_fallbacks.append(tally)
                elif self.namespaces:
                    tally.per_namespace = True
                    for ns in self.namespaces:
                        self._submit(tally, ns)
        elif done.outcome == "incomplete":
            # The worker reported it (a WARNING); an incomplete list is still
            # not to be trusted by analyses that need all of it.
            self.src._failed.add(tally.spec.name)
        elif done.outcome == "failed":
            where = f" in namespace {job.namespace}" if job.namespace else ""
            tally.failures.append(f"{done.detail}{where}")

    def _finish(self, tally: _Tally) -> Iterator[LoadProblem]:
        """All lists of a resource are done: report what is missing."""
        spec = tally.spec
        origin = Origin(live=True, file=tally.path or None)
        group = spec.group_label
        if tally.forbidden_cluster and not tally.per_namespace:
            self.src._forbidden.add(spec.name)
            yield LoadProblem(
                level=Level.DEGRADED,
                message=f"forbidden: cannot list {spec.plural} ({group}) at the cluster scope: "
                f"{tally.forbidden_detail}",
                origin=origin,
                object=spec.plural,
                skipped=f"all {spec.kind} objects",
                affects=spec.affects,
            )
        elif tally.forbidden_namespaces:
            self.src._forbidden.add(spec.name)
            nss = tally.forbidden_namespaces
            everywhere = tally.per_namespace and len(nss) >= len(self.namespaces or ())
            scope = (
                "at the cluster scope or in any namespace"
                if everywhere
                else f"in namespace{'s' if len(nss) > 1 else ''} {_names(nss)}"
            )
            yield LoadProblem(
                level=Level.DEGRADED,
                message=f"forbidden: cannot list {spec.plural} ({group}) {scope}: "
                f"{tally.forbidden_detail}",
                origin=origin,
                object=spec.plural,
                skipped=f"all {spec.kind} objects"
                if everywhere
                else f"{spec.kind} objects in {_names(nss)}",
                affects=spec.affects,
            )
        if tally.failures:
            self.src._failed.add(spec.name)
            yield LoadProblem(
                level=Level.DEGRADED,
                message=f"could not list {spec.plural} ({group}): {'; '.join(tally.failures[:3])}"
                + (f" (and {len(tally.failures) - 3} more)" if len(tally.failures) > 3 else ""),
                origin=origin,
                object=spec.plural,
                skipped=f"{spec.kind} objects (the list is incomplete)",
                affects=spec.affects,
            )

    # ------------------------------------------------------------------ workers

    def _put(self, msg: _Page | _Done | LoadProblem) -> None:
        while True:
            if self.stop.is_set():
                raise _Cancelled
            try:
                self.out.put(msg, timeout=0.1)
                return
            except queue.Full:
                continue

    def _work(self, job: _Job) -> None:
        done = _Done(job, "failed", "internal error")
        try:
            done = self._list(job)
        except _Cancelled:
            return
        except _NetError as err:
            done = _Done(job, "failed", err.detail)
        except Exception as exc:  # a bug or a response shape we did not foresee
            done = _Done(job, "failed", f"{type(exc).__name__}: {exc}")
        try:
            self._put(done)
        except _Cancelled:
            return

    def _origin(self, path: str) -> Origin:
        origin = self.origins.get(path)
        if origin is None:
            origin = self.origins.setdefault(path, Origin(live=True, file=path))
        return origin

    def _list(self, job: _Job) -> _Done:
        spec = job.spec
        origin = self._origin(job.path)
        base_query: list[tuple[str, str]] = [("limit", str(self.src.page_size))]
        if spec.field_selector:
            base_query.append(("fieldSelector", spec.field_selector))
        accept = JSON
        if spec.table:
            base_query.append(("includeObject", "None"))
            accept = TABLE
        token = ""
        restarted = False
        seen: set[str] = set()
        tokens: set[str] = set()
        pages = 0
        count = 0
        attempts = 1
        while True:
            if pages >= self.src.max_pages:
                return self._incomplete(
                    job,
                    f"stopped after {pages:,} pages ({count:,} items): the page cap "
                    f"(max_pages={self.src.max_pages:,}) was reached",
                    attempts,
                )
            pages += 1
            query = [*base_query, ("continue", token)] if token else base_query
            r = self.t.get(job.path, query, accept)
            attempts = max(attempts, r.attempts)
            if r.status == 410 and token:
                # https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
                # "If the continue token has expired … the client must restart the list."
                if restarted:
                    self._put(
                        LoadProblem(
                            level=Level.WARNING,
                            message=f"list of {spec.plural} ({spec.group_label}) is incomplete: "
                            f"the continue token expired again after a restart "
                            f"({r.status_message()})",
                            origin=origin,
                            object=spec.plural,
                            skipped=f"the rest of the {spec.kind} list",
                            affects=spec.affects,
                        )
                    )
                    return _Done(job, "incomplete", "continue token expired twice", attempts)
                restarted = True
                token = ""
                continue
            if r.status in (401, 403):
                what = "forbidden" if r.status == 403 else "failed"
                detail = (
                    r.status_message()
                    if r.status == 403
                    else "401 Unauthorized (credentials expired?)"
                )
                return _Done(job, what, detail, attempts)
            if r.status == 404:
                return _Done(job, "failed", f"404 Not Found ({r.status_message()})", attempts)
            if r.status != 200:
                tries = f" after {r.attempts} attempts" if r.attempts > 1 else ""
                return _Done(
                    job, "failed", f"HTTP {r.status}{tries}: {r.status_message()}", attempts
                )
            try:
                body = r.json()
            except orjson.JSONDecodeError as exc:
                return _Done(job, "failed", f"the response is not JSON ({exc})", attempts)
            del r
            if not isinstance(body, dict):
                return _Done(job, "failed", "the response is not an object", attempts)
            if spec.table:
                objects = self._table_rows(job, body, origin)
                if objects is None:
                    return _Done(
                        job,
                        "failed",
                        f"the server answered {body.get('kind')!r} instead of a Table; "
                        "ignored so that no Secret data is read",
                        attempts,
                    )
            else:
                objects = self._items(job, body, origin)
                if objects is None:
                    return _Done(
                        job, "failed", f"unexpected response kind {body.get('kind')!r}", attempts
                    )
            if restarted:
                objects = [o for o in objects if _key(o.data) not in seen]
            seen.update(_key(o.data) for o in objects)
            count += len(objects)
            meta = body.get("metadata")
            if not isinstance(meta, dict):
                meta = {}
            token = str(meta.get("continue") or "")
            if token and token in tokens:
                # A real API server never hands out the same token twice; a broken
                # aggregated server or proxy that does would have us loop forever.
                self._put(_Page(job, objects, None))
                return self._incomplete(
                    job,
                    f"the server repeated a continue token after {pages:,} pages ({count:,} items)",
                    attempts,
                )
            tokens.add(token)
            remaining = meta.get("remainingItemCount")
            total = count + remaining if isinstance(remaining, int) and token else None
            if not token:
                total = count
            self._put(_Page(job, objects, total))
            if not token:
                return _Done(job, "ok", "", attempts)

    def _incomplete(self, job: _Job, why: str, attempts: int) -> _Done:
        """Stop a list that would not end, reporting what was kept."""
        spec = job.spec
        where = f" in namespace {job.namespace}" if job.namespace else ""
        self._put(
            LoadProblem(
                level=Level.WARNING,
                message=f"list of {spec.plural} ({spec.group_label}){where} is incomplete: {why}",
                origin=self._origin(job.path),
                object=spec.plural,
                skipped=f"the rest of the {spec.kind} list",
                affects=spec.affects,
            )
        )
        return _Done(job, "incomplete", why, attempts)

    @staticmethod
    def _items(job: _Job, body: dict[str, Any], origin: Origin) -> list[RawObject] | None:
        items = body.get("items")
        list_kind = body.get("kind")
        if not isinstance(items, list):
            return None
        # Items of a list carry no apiVersion/kind (https://kubernetes.io/docs/reference/using-api/api-concepts/#collections):
        # they are the list's, minus the List suffix.
        kind = (
            list_kind[: -len("List")]
            if isinstance(list_kind, str) and list_kind.endswith("List") and len(list_kind) > 4
            else job.spec.kind
        )
        api_version = body.get("apiVersion") if isinstance(body.get("apiVersion"), str) else None
        api_version = api_version or job.api_version
        out: list[RawObject] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            if not item.get("kind"):
                item["kind"] = kind
            if not item.get("apiVersion"):
                item["apiVersion"] = api_version
            out.append(RawObject(item, origin))
        return out

    @staticmethod
    def _table_rows(job: _Job, body: dict[str, Any], origin: Origin) -> list[RawObject] | None:
        """Secret name and type from a Table: nothing else is copied, whatever the server sent."""
        if body.get("kind") != "Table":
            return None
        cols = body.get("columnDefinitions")
        names = [str(c.get("name", "")).lower() if isinstance(c, dict) else "" for c in cols or []]
        i_name = names.index("name") if "name" in names else 0
        i_type = names.index("type") if "type" in names else None
        out: list[RawObject] = []
        for row in body.get("rows") or []:
            cells = row.get("cells") if isinstance(row, dict) else None
            if not isinstance(cells, list) or len(cells) <= i_name:
                continue
            secret_type = (
                str(cells[i_type]) if i_type is not None and len(cells) > i_type else "Opaque"
            )
            data: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": str(cells[i_name]), "namespace": job.namespace},
                "type": secret_type,
            }
            out.append(RawObject(data, origin))
        return out


def _key(item: dict[str, Any]) -> str:
    meta = item.get("metadata")
    if not isinstance(meta, dict):
        return ""
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"
