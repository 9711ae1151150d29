"""A small kube-apiserver for tests, written from the API conventions.

It follows https://kubernetes.io/docs/reference/using-api/api-concepts/ and
the shapes a real server returns, not what netsleuth happens to send:

- discovery: ``/api`` (APIVersions), ``/api/v1`` and ``/apis/<g>/<v>``
  (APIResourceList, with subresources such as ``pods/status``),
  ``/apis`` (APIGroupList), ``/apis/<g>`` (APIGroup);
- lists at cluster scope and per namespace, and single GETs, answering
  ``<Kind>List`` with ``metadata.resourceVersion``; chunking with ``limit``
  and opaque ``continue`` tokens over a consistent snapshot, with
  ``remainingItemCount`` (omitted when a selector is used, as the real server
  does); a ``continue`` token the server no longer knows gives 410 ``Expired``;
  a token that does not decode gives 400;
- ``labelSelector`` (equality, inequality, set-based, existence) and
  ``fieldSelector`` (``metadata.name``/``metadata.namespace`` everywhere, and
  the per-kind fields the real server supports, e.g. ``type`` on events;
  unknown fields give 400 like ``field label not supported``);
- bearer tokens: no or unknown token gives a 401 ``Status``;
- RBAC denials per user, resource and namespace, with the real 403 body;
  a user granted a resource only in some namespaces (RoleBindings) is
  refused the cluster-wide list, as RBAC would;
- server-side Tables (``as=Table;v=v1;g=meta.k8s.io``) with the columns
  kubectl shows (secrets: Name, Type, Data, Age) and ``includeObject``
  None / Metadata (the default) / Object; an Accept it does not serve gives 406;
- injected faults: slow resources (sleep before answering), flaky ones
  (503 a number of times, then OK), expiring continue tokens; API Priority and
  Fairness throttling (429 ``TooManyRequests`` with ``Retry-After`` and
  ``details.retryAfterSeconds``); bodies trickled a byte at a time; and what
  only a broken server or a proxy does: a ``continue`` token repeated forever,
  discovery answered by an HTML login page with status 200;
- writes: ``POST`` (create, with ``generateName``, ``dryRun=All``, 409
  AlreadyExists, 404 for a missing namespace, 422 Invalid for a Pod without
  containers or images, and Pod Security admission: a namespace labelled
  ``pod-security.kubernetes.io/enforce: baseline|restricted`` refuses host
  namespaces, privileged containers and hostPath volumes with the real 403),
  ``DELETE`` of one object (a Pod keeps a ``deletionTimestamp`` until its
  kubelet is done) and of a collection (``labelSelector``); RBAC denials per
  verb and (sub)resource (:attr:`FakeApiServer.denied_verbs`);
- a kubelet for Pods bound to a Node of the store (``spec.nodeName``): Pending,
  then Running with hostIP/podIP after :attr:`FakeApiServer.pod_start_delay`;
  stuck in ContainerCreating on :attr:`FakeApiServer.stuck_nodes`, ErrImagePull
  for :attr:`FakeApiServer.unpullable_images`, Failed/DeadlineExceeded after
  ``activeDeadlineSeconds``; a Pod bound to a Node that does not exist stays Pending;
- ``pods/exec`` over a WebSocket with the remotecommand channel protocol the
  official clients speak (``v4.channel.k8s.io``; ``v5.channel.k8s.io`` too with
  :attr:`FakeApiServer.exec_v5`): the subprotocol is the first of the client's
  list the server supports, an empty frame on the lowest output channel opens
  the stream, stdout/stderr are binary frames prefixed with their channel byte,
  and the error channel carries the v4 ``Status`` JSON (``Success``, or
  ``NonZeroExitCode`` with the exit code as the cause, or ``InternalError``)
  before the close frame. What runs is :attr:`FakeApiServer.exec_handler`
  (:func:`subprocess_exec` runs the command for real, e.g. in a network namespace);
- ``pods/log`` as ``text/plain`` with ``container`` (required when the Pod has
  several), ``tailLines``, ``timestamps``, ``limitBytes`` and ``previous``;
- ``pods/ephemeralcontainers``: ``GET``, and ``PATCH`` (strategic-merge or
  JSON-merge, merged by name as the real server does) that may only add
  containers (changing or removing one is 422, as the API forbids); the
  kubelet starts an added container in a Running pod by running its
  ``command + args`` through :attr:`FakeApiServer.exec_handler`, its output
  becomes the container's log and its exit code the ``terminated`` state in
  ``status.ephemeralContainerStatuses`` (an unpullable image waits in
  ErrImagePull);
- a DaemonSet controller: a Pod per Node for every DaemonSet (named
  ``<ds>-<5 chars>``, the template's labels, a controller ownerReference,
  ``spec.nodeName`` set), and the garbage collector: Pods whose DaemonSet is
  gone are deleted.

Listing in a namespace that does not exist returns an empty list, as the
real server does. Objects come from a directory of YAML manifests.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import random
import select
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from live.websocket import OP_BINARY, OP_CLOSE, Connection, ProtocolError, accept_key

ADMIN = "kubernetes-admin"
VIEWER = "system:serviceaccount:default:viewer"


@dataclass(frozen=True)
class ApiResource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def _r(gv: str, plural: str, kind: str, namespaced: bool = True, *sub: str) -> ApiResource:
    group, _, version = gv.rpartition("/")
    return ApiResource(group, version, plural, kind, namespaced, subresources=sub)


# What a v1.30 cluster serves (a subset), plus the optional groups tests switch on.
BUILTIN: tuple[ApiResource, ...] = (
    _r("v1", "namespaces", "Namespace", False, "status", "finalize"),
    _r("v1", "nodes", "Node", False, "status", "proxy"),
    _r("v1", "pods", "Pod", True, "status", "log", "exec", "eviction", "ephemeralcontainers"),
    _r("v1", "services", "Service", True, "status", "proxy"),
    _r("v1", "endpoints", "Endpoints"),
    _r("v1", "configmaps", "ConfigMap"),
    _r("v1", "secrets", "Secret"),
    _r("v1", "events", "Event"),
    _r("v1", "serviceaccounts", "ServiceAccount", True, "token"),
    _r("v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, "status"),
    _r("apps/v1", "deployments", "Deployment", True, "status", "scale"),
    _r("apps/v1", "statefulsets", "StatefulSet", True, "status", "scale"),
    _r("apps/v1", "daemonsets", "DaemonSet", True, "status"),
    _r("apps/v1", "replicasets", "ReplicaSet", True, "status", "scale"),
    _r("apps/v1", "controllerrevisions", "ControllerRevision"),
    _r("batch/v1", "jobs", "Job", True, "status"),
    _r("batch/v1", "cronjobs", "CronJob", True, "status"),
    _r("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy"),
    _r("networking.k8s.io/v1", "ingresses", "Ingress", True, "status"),
    _r("networking.k8s.io/v1", "ingressclasses", "IngressClass", False),
    _r("discovery.k8s.io/v1", "endpointslices", "EndpointSlice"),
    _r("rbac.authorization.k8s.io/v1", "roles", "Role"),
    _r("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False),
    _r("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", True, "status"),
)
OPTIONAL: tuple[ApiResource, ...] = (
    _r("gateway.networking.k8s.io/v1", "gatewayclasses", "GatewayClass", False, "status"),
    _r("gateway.networking.k8s.io/v1", "gateways", "Gateway", True, "status"),
    _r("gateway.networking.k8s.io/v1", "httproutes", "HTTPRoute", True, "status"),
    _r("gateway.networking.k8s.io/v1", "grpcroutes", "GRPCRoute", True, "status"),
    _r("gateway.networking.k8s.io/v1beta1", "gatewayclasses", "GatewayClass", False, "status"),
    _r("gateway.networking.k8s.io/v1beta1", "gateways", "Gateway", True, "status"),
    _r("gateway.networking.k8s.io/v1beta1", "httproutes", "HTTPRoute", True, "status"),
    _r("gateway.networking.k8s.io/v1beta1", "referencegrants", "ReferenceGrant"),
    _r("cilium.io/v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", True, "status"),
    _r("cilium.io/v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", False),
    _r("crd.projectcalico.org/v1", "networkpolicies", "NetworkPolicy"),
    _r("crd.projectcalico.org/v1", "globalnetworkpolicies", "GlobalNetworkPolicy", False),
)

# Field selectors the real server supports beyond metadata.name/namespace
# (pkg/registry/*/strategy.go, GetAttrs / SelectableFields).
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "Event": {
        "type": ("type",),
        "reason": ("reason",),
        "involvedObject.kind": ("involvedObject", "kind"),
        "involvedObject.name": ("involvedObject", "name"),
        "involvedObject.namespace": ("involvedObject", "namespace"),
        "involvedObject.uid": ("involvedObject", "uid"),
        "source": ("source", "component"),
    },
    "Pod": {
        "spec.nodeName": ("spec", "nodeName"),
        "spec.restartPolicy": ("spec", "restartPolicy"),
        "spec.schedulerName": ("spec", "schedulerName"),
        "spec.serviceAccountName": ("spec", "serviceAccountName"),
        "status.phase": ("status", "phase"),
        "status.podIP": ("status", "podIP"),
        "status.nominatedNodeName": ("status", "nominatedNodeName"),
    },
    "Secret": {"type": ("type",)},
    "Node": {"spec.unschedulable": ("spec", "unschedulable")},
    "Namespace": {"status.phase": ("status", "phase")},
}

EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter, or use the continue token "
    "in this response to retrieve the remainder of the results. Continuing with the provided "
    "token results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)


def status(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


@dataclass
class Request:
    """What the server received (for assertions on what the client asked)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    user: str | None = None
    status: int = 0
    body: bytes = b""


# remotecommand channels (k8s.io/apimachinery/pkg/util/remotecommand, kubelet cri/streaming).
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
V4 = "v4.channel.k8s.io"
V5 = "v5.channel.k8s.io"


class ExecFailed(Exception):
    """Raised by an exec handler when the runtime cannot start the command at all
    (the kubelet answers an ``InternalError`` Status on the error channel)."""


@dataclass
class ExecCall:
    """One ``pods/exec`` request as the container runtime sees it."""

    pod: dict[str, Any]
    container: str
    command: list[str]
    tty: bool
    stdin: Any
    """A readable binary file fed from the client's stdin channel, or ``None``."""
    write_stdout: Callable[[bytes], None]
    write_stderr: Callable[[bytes], None]

    @property
    def node(self) -> str:
        return str(self.pod.get("spec", {}).get("nodeName") or "")


ExecHandler = Callable[[ExecCall], int]
"""Runs the command, writes its output through the call, returns the exit code."""


def no_such_executable(call: ExecCall) -> int:
    """The default runtime: nothing is installed in the fake containers."""
    raise ExecFailed(
        "error executing command in container: failed to exec in container: failed to start "
        f'exec "{os.urandom(8).hex()}": OCI runtime exec failed: exec failed: unable to start '
        f'container process: exec: "{call.command[0]}": executable file not found in $PATH: unknown'
    )


def subprocess_exec(
    prefix: Callable[[ExecCall], list[str]] | list[str] | None = None,
) -> ExecHandler:
    """An exec handler that runs the command for real: ``prefix + command`` (a list, or a
    function of the call, e.g. ``ip netns exec <netns-of-that-node>``), streaming its output."""

    def run(call: ExecCall) -> int:
        head = prefix(call) if callable(prefix) else list(prefix or [])
        try:
            proc = subprocess.Popen(
                [*head, *call.command],
                stdin=subprocess.PIPE if call.stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except FileNotFoundError as exc:
            raise ExecFailed(
                f'exec: "{call.command[0]}": executable file not found in $PATH: unknown'
            ) from exc
        assert proc.stdout is not None and proc.stderr is not None

        def feed() -> None:
            assert proc.stdin is not None
            try:
                while chunk := call.stdin.read1(65536):
                    proc.stdin.write(chunk)
                    proc.stdin.flush()
            except (OSError, ValueError):
                pass
            finally:
                with contextlib.suppress(OSError):
                    proc.stdin.close()

        if call.stdin is not None:
            threading.Thread(target=feed, daemon=True).start()
        streams = {proc.stdout.fileno(): call.write_stdout, proc.stderr.fileno(): call.write_stderr}
        while streams:
            ready, _, _ = select.select(list(streams), [], [])
            for fd in ready:
                chunk = os.read(fd, 65536)
                if chunk:
                    streams[fd](chunk)
                else:
                    del streams[fd]
        return proc.wait()

    return run


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Pod Security Standards "baseline" checks that a node-debugging Pod trips
# (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
def _baseline_violations(pod: dict[str, Any]) -> list[str]:
    spec = pod.get("spec") or {}
    out: list[str] = []
    hosts = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k) is True]
    if hosts:
        out.append(f"host namespaces ({', '.join(hosts)})")
    priv = [
        c.get("name", "")
        for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        if ((c.get("securityContext") or {}).get("privileged")) is True
    ]
    if priv:
        names = ", ".join(f'"{n}"' for n in priv)
        out.append(
            f"privileged (container{'s' if len(priv) > 1 else ''} {names} must not set "
            "securityContext.privileged=true)"
        )
    host_path = [v.get("name", "") for v in spec.get("volumes") or [] if "hostPath" in v]
    if host_path:
        names = ", ".join(f'"{n}"' for n in host_path)
        out.append(f"hostPath volumes (volume{'s' if len(host_path) > 1 else ''} {names})")
    return out


@dataclass
class Snapshot:
    items: list[dict[str, Any]]
    resource_version: str


@dataclass
class FakeApiServer:
    """Configure, then :meth:`start`. Every knob is a plain attribute tests may set."""

    objects_dir: Path | None = None
    tokens: dict[str, str] = field(
        default_factory=lambda: {"admin-token": ADMIN, "viewer-token": VIEWER}
    )
    optional_groups: set[str] = field(default_factory=set)
    """Optional API groups to serve (``gateway.networking.k8s.io``, ``cilium.io``, …)."""
    restricted_users: set[str] = field(default_factory=lambda: {VIEWER})
    denied: dict[str, set[str] | None] = field(default_factory=dict)
    """plural (or ``plural.group``) → None (denied everywhere) or the namespaces it is denied
    in, for :attr:`restricted_users`. A namespace denial also denies the cluster-wide list."""
    slow: dict[str, float] = field(default_factory=dict)
    """plural → seconds to wait before answering a list."""
    flaky: dict[str, int] = field(default_factory=dict)
    """plural → how many more list requests get 503 before it answers."""
    flaky_retry_after: str | None = None
    expire_continue: dict[str, int] = field(default_factory=dict)
    """plural → how many more ``continue`` requests get 410 Expired (the snapshot is dropped)."""
    throttled: dict[str, int] = field(default_factory=dict)
    """plural → how many more list requests API Priority and Fairness rejects: 429
    ``TooManyRequests`` with ``Retry-After`` (:attr:`throttle_retry_after` seconds)."""
    throttle_retry_after: int = 1
    trickle: dict[str, float] = field(default_factory=dict)
    """plural → seconds between the bytes of a list's body (a slow link or a stalling proxy)."""
    repeat_continue: set[str] = field(default_factory=set)
    """plurals whose lists answer every ``continue`` with that same token (a broken
    aggregated API server or proxy; a real kube-apiserver never does)."""
    discovery_html: bool = False
    """Something in front of the server answers ``/api`` and ``/apis`` discovery with a
    200 HTML login page (an intercepting proxy, a VPN portal)."""

    denied_verbs: dict[str, set[str]] = field(default_factory=dict)
    """``plural`` or ``plural/subresource`` (``pods/exec``, ``pods/log``) → verbs
    (``create``, ``delete``, ``get``, ``deletecollection``) refused to :attr:`restricted_users`."""

    exec_handler: ExecHandler = no_such_executable
    """What ``pods/exec`` runs (see :class:`ExecCall`, :func:`subprocess_exec`)."""
    exec_v5: bool = False
    """Also offer ``v5.channel.k8s.io`` (1.30+ servers); otherwise only v4, as before 1.30."""
    pod_start_delay: float = 0.0
    """Seconds from creation until the kubelet reports a bound Pod Running."""
    pod_termination_delay: float = 0.0
    """Seconds a deleted Pod keeps its ``deletionTimestamp`` before it is gone."""
    stuck_nodes: set[str] = field(default_factory=set)
    """Nodes whose kubelet never starts a container (Pods stay ContainerCreating)."""
    unpullable_images: set[str] = field(default_factory=set)
    """Images that fail to pull (the container waits in ErrImagePull)."""
    logs: dict[tuple[str, str, str], list[tuple[str, str]]] = field(default_factory=dict)
    before_route: Callable[[Request], None] | None = None
    """Called (in the request's thread) with each authenticated-or-not request before the
    server acts on it: a test can hold a ``create`` there, so that it takes effect (and is
    answered) late, as a slow admission webhook or a busy etcd makes a real one."""
    """``(namespace, pod, container)`` → ``[(RFC 3339 timestamp, line), …]`` for ``pods/log``."""

    tls: tuple[Path, Path] | None = None
    """``(certfile, keyfile)``: serve HTTPS with this certificate (chain) and key."""

    url: str = ""
    """``http://127.0.0.1:<port>`` (``https://`` with :attr:`tls`) once started."""
    requests: list[Request] = field(default_factory=list)
    secret_bodies: list[bytes] = field(default_factory=list)
    """Every response body sent for a secrets path."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._rv = 1000
        self._snapshots: dict[str, Snapshot] = {}
        self._next_snapshot = 0
        self.store: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._pod_clock: dict[str, float] = {}  # uid -> monotonic creation time
        self._pod_deleted: dict[str, float] = {}  # uid -> monotonic deletion time
        self._controlled_ds: set[str] = set()  # uids of DaemonSets created through the API
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if self.objects_dir is not None:
            self.load_dir(self.objects_dir)

    # ------------------------------------------------------------------ data

    def served(self) -> list[ApiResource]:
        return [*BUILTIN, *(r for r in OPTIONAL if r.group in self.optional_groups)]

    def _by_kind(self, api_version: str, kind: str) -> ApiResource | None:
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        for r in (*BUILTIN, *OPTIONAL):
            if r.group == group and r.kind == kind:
                return r
        return None

    def add(self, obj: dict[str, Any]) -> None:
        res = self._by_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        if res is None:
            raise ValueError(
                f"the fake server does not know {obj.get('apiVersion')} {obj.get('kind')}"
            )
        self._rv += 1
        meta = obj.setdefault("metadata", {})
        meta.setdefault("resourceVersion", str(self._rv))
        meta.setdefault("uid", f"00000000-0000-4000-8000-{self._rv:012d}")
        meta.setdefault("creationTimestamp", "2024-05-01T10:00:00Z")
        if not res.namespaced:
            meta.pop("namespace", None)
        self.store.setdefault((res.group, res.plural), []).append(obj)

    def load_dir(self, path: Path) -> None:
        for f in sorted(path.glob("*.yaml")):
            for doc in yaml.load_all(f.read_text(), Loader=yaml.CSafeLoader):
                if not doc:
                    continue
                for obj in (
                    doc.get("items", []) if str(doc.get("kind", "")).endswith("List") else [doc]
                ):
                    self.add(obj)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> str:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY, as Go's net/http (the real apiserver) sets by default: headers and
            # body go out in two writes, and Nagle + delayed ACK would stall each answer ~40 ms.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                api._handle(self, "GET")

            def do_POST(self) -> None:
                api._handle(self, "POST")

            def do_DELETE(self) -> None:
                api._handle(self, "DELETE")

            def do_PATCH(self) -> None:
                api._handle(self, "PATCH")

            def _not_allowed(self) -> None:
                api._send(
                    self,
                    405,
                    status(
                        405,
                        "MethodNotAllowed",
                        "the server does not allow this method on the requested resource",
                    ),
                )

            do_PUT = _not_allowed

            def log_message(self, format: str, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        scheme = "http"
        if self.tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile=str(self.tls[0]), keyfile=str(self.tls[1]))
            # The handshake runs on accept; one a client aborts (it does not trust the
            # certificate) raises an OSError there, which the server drops and goes on.
            httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
            scheme = "https"
        self._httpd = httpd
        # serve_forever polls for shutdown every 0.5 s by default: that half second was
        # paid at the end of every live test.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.url = f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
        return self.url

    def stop(self) -> None:
        self._closing.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # ------------------------------------------------------------------ HTTP

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        code: int,
        body: dict[str, Any] | str,
        headers: dict[str, str] | None = None,
        record_secret: bool = False,
    ) -> None:
        text = isinstance(body, str)
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        if record_secret:
            with self._lock:
                self.secret_bodies.append(data)
        try:
            h.send_response(code)
            h.send_header("Content-Type", "text/plain" if text else "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.send_header("Audit-Id", f"audit-{time.monotonic_ns()}")
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); nothing to do

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(h.path)
        query = parse_qs(url.query, keep_blank_values=True)
        req = Request(method, url.path, query, {k.lower(): v for k, v in h.headers.items()})
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            req.body = h.rfile.read(length)
        with self._lock:
            self.requests.append(req)
            self._kubelet()
        if self._login_page(h, req):
            return
        if self.before_route is not None:
            self.before_route(req)
        code, body, headers = self._route(req)
        req.status = code
        if isinstance(body, _Upgrade):
            body.run(h)
            return
        delay = self._trickle_delay(req)
        if delay:
            self._send_trickling(h, code, body, headers, delay)
            return
        self._send(h, code, body, headers, record_secret="/secrets" in url.path)

    def _route(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        auth = req.headers.get("authorization", "")
        # The scheme is case-insensitive, as the real authenticator reads it
        # (apiserver/pkg/authentication/request/bearertoken: strings.ToLower(parts[0]) == "bearer");
        # the official client's in-cluster loader sends "bearer <token>".
        scheme, _, rest = auth.partition(" ")
        token = rest if scheme.lower() == "bearer" else None
        user = self.tokens.get(token or "")
        if user is None:
            return 401, status(401, "Unauthorized", "Unauthorized"), {}
        req.user = user
        parts = [p for p in req.path.split("/") if p]
        if parts == ["api"]:
            return (
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.10:6443"}
                    ],
                },
                {},
            )
        if parts == ["apis"]:
            return 200, self._group_list(), {}
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif parts and parts[0] == "apis" and len(parts) >= 2:
            group = parts[1]
            if len(parts) == 2:
                g = self._group(group)
                return (200, g, {}) if g else (404, self._not_found(req.path), {})
            version, rest = parts[2], parts[3:]
        else:
            return 404, self._not_found(req.path), {}
        resources = [r for r in self.served() if r.group == group and r.version == version]
        if not resources:
            return 404, self._not_found(req.path), {}
        if not rest:
            return 200, self._resource_list(group, version, resources), {}
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural, name = rest[0], (rest[1] if len(rest) > 1 else None)
        sub = rest[2] if len(rest) == 3 else None
        if len(rest) > 3:
            return 404, self._not_found(req.path), {}
        res = next((r for r in resources if r.plural == plural), None)
        if res is None or (namespace is not None and not res.namespaced):
            return 404, self._not_found(req.path), {}
        if sub is not None:
            if sub not in res.subresources:
                return 404, self._not_found(req.path), {}
            assert name is not None
            return self._subresource(req, res, namespace, name, sub)
        if req.method == "POST":
            if name is not None:
                return 405, _method_not_allowed(), {}
            return self._create(req, res, namespace)
        if req.method == "DELETE":
            if name is None:
                return self._delete_collection(req, res, namespace)
            return self._delete(req, res, namespace, name)
        if req.method == "PATCH":
            return 405, _method_not_allowed(), {}
        return self._serve(req, res, namespace, name)

    @staticmethod
    def _not_found(path: str) -> dict[str, Any]:
        return status(404, "NotFound", "the server could not find the requested resource", {})

    def _group(self, name: str) -> dict[str, Any] | None:
        versions = list(dict.fromkeys(r.version for r in self.served() if r.group == name))
        if not versions:
            return None
        vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": name,
            "versions": vs,
            "preferredVersion": vs[0],
        }

    def _group_list(self) -> dict[str, Any]:
        names = list(dict.fromkeys(r.group for r in self.served() if r.group))
        groups = [
            {k: v for k, v in g.items() if k not in ("kind", "apiVersion")}
            for n in names
            if (g := self._group(n))
        ]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    @staticmethod
    def _resource_list(group: str, version: str, resources: list[ApiResource]) -> dict[str, Any]:
        verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        out: list[dict[str, Any]] = []
        for r in resources:
            out.append(
                {
                    "name": r.plural,
                    "singularName": r.kind.lower(),
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": verbs,
                    "storageVersionHash": base64.b64encode(r.plural.encode()).decode()[:11],
                }
            )
            for sub in r.subresources:
                out.append(
                    {
                        "name": f"{r.plural}/{sub}",
                        "singularName": "",
                        "namespaced": r.namespaced,
                        "kind": r.kind,
                        "verbs": ["get", "patch", "update"],
                    }
                )
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}

    # ------------------------------------------------------------------ lists

    def _forbidden(
        self, user: str, res: ApiResource, namespace: str | None
    ) -> dict[str, Any] | None:
        if user not in self.restricted_users:
            return None
        rule = self.denied.get(res.plural, self.denied.get(f"{res.plural}.{res.group}", False))
        if rule is False:
            return None
        if rule is not None and namespace is not None and namespace not in rule:
            return None
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        what = f"{res.plural}.{res.group}" if res.group else res.plural
        details: dict[str, Any] = {"kind": res.plural}
        if res.group:
            details = {"group": res.group, "kind": res.plural}
        return status(
            403,
            "Forbidden",
            f'{what} is forbidden: User "{user}" cannot list resource "{res.plural}" '
            f'in API group "{res.group}" {scope}',
            details,
        )

    def _negotiate(self, accept: str) -> str | None:
        """``json`` or ``table`` (and its version), or None when nothing acceptable is served."""
        if not accept.strip():
            return "json"
        for media_range in accept.split(","):
            bits = [b.strip() for b in media_range.split(";")]
            mime, params = bits[0].lower(), dict(b.split("=", 1) for b in bits[1:] if "=" in b)
            params.pop("q", None)
            if mime not in ("application/json", "application/*", "*/*"):
                continue
            if not params:
                return "json"
            if (
                params.get("as") == "Table"
                and params.get("g") == "meta.k8s.io"
                and params.get("v") in ("v1", "v1beta1")
            ):
                return "table-" + params["v"]
        return None

    def _serve(
        self, req: Request, res: ApiResource, namespace: str | None, name: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert req.user is not None
        denied = self._forbidden(req.user, res, namespace)
        if denied is not None:
            return 403, denied, {}
        media = self._negotiate(req.headers.get("accept", ""))
        if media is None:
            return (
                406,
                status(
                    406,
                    "NotAcceptable",
                    "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
                ),
                {},
            )
        if res.plural in self.slow and self._closing.wait(self.slow[res.plural]):
            return 503, status(503, "ServiceUnavailable", "shutting down"), {}
        throttled = self._throttle(res)
        if throttled is not None:
            return throttled
        with self._lock:
            if self.flaky.get(res.plural, 0) > 0:
                self.flaky[res.plural] -= 1
                hdrs = {"Retry-After": self.flaky_retry_after} if self.flaky_retry_after else {}
                return (
                    503,
                    status(
                        503,
                        "ServiceUnavailable",
                        "the server is currently unable to handle the request",
                    ),
                    hdrs,
                )
        items = [
            o
            for o in self.store.get((res.group, res.plural), [])
            if namespace is None or o["metadata"].get("namespace") == namespace
        ]
        if name is not None:
            found = next((o for o in items if o["metadata"]["name"] == name), None)
            if found is None:
                return (
                    404,
                    status(
                        404,
                        "NotFound",
                        f'{res.plural} "{name}" not found',
                        {"name": name, "kind": res.plural},
                    ),
                    {},
                )
            return 200, self._full(res, found), {}
        q = {k: v[-1] for k, v in req.query.items()}
        try:
            items = [
                o
                for o in items
                if _labels_match(q.get("labelSelector", ""), o["metadata"].get("labels") or {})
            ]
            items = [o for o in items if _fields_match(q.get("fieldSelector", ""), res.kind, o)]
        except ValueError as exc:
            return 400, status(400, "BadRequest", str(exc)), {}
        items.sort(key=lambda o: f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}")
        try:
            limit = int(q.get("limit", "0") or 0)
        except ValueError:
            return 400, status(400, "BadRequest", f"invalid limit {q.get('limit')!r}"), {}
        token = q.get("continue", "")
        with self._lock:
            if token:
                try:
                    decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                    snap_id, offset = str(decoded["s"]), int(decoded["o"])
                except (ValueError, KeyError, TypeError):
                    return (
                        400,
                        status(
                            400,
                            "BadRequest",
                            "continue key is not valid: incorrect encoded start resourceVersion",
                        ),
                        {},
                    )
                if self.expire_continue.get(res.plural, 0) > 0:
                    self.expire_continue[res.plural] -= 1
                    self._snapshots.pop(snap_id, None)  # compacted away
                snap = self._snapshots.get(snap_id)
                if snap is None:
                    return 410, status(410, "Expired", EXPIRED_MESSAGE), {}
            else:
                self._next_snapshot += 1
                snap_id, offset = str(self._next_snapshot), 0
                snap = Snapshot([self._full(res, o) for o in items], str(self._rv))
                self._snapshots[snap_id] = snap
        end = len(snap.items) if limit <= 0 else min(len(snap.items), offset + limit)
        page = snap.items[offset:end]
        meta: dict[str, Any] = {"resourceVersion": snap.resource_version}
        if end < len(snap.items):
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps({"s": snap_id, "o": end}).encode()
            ).decode()
            if token and res.plural in self.repeat_continue:
                meta["continue"] = token  # the broken server: the same page, the same token
            if not q.get("labelSelector") and not q.get("fieldSelector"):
                meta["remainingItemCount"] = len(snap.items) - end
        if media.startswith("table-"):
            return (
                200,
                self._table(
                    res, page, meta, media[len("table-") :], q.get("includeObject", "Metadata")
                ),
                {},
            )
        listed = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in page]
        return (
            200,
            {
                "kind": f"{res.kind}List",
                "apiVersion": res.group_version,
                "metadata": meta,
                "items": listed,
            },
            {},
        )

    # ------------------------------------------------------------------ injected faults

    def _throttle(self, res: ApiResource) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """API Priority and Fairness rejecting a request: the real 429 body and header."""
        with self._lock:
            if self.throttled.get(res.plural, 0) <= 0:
                return None
            self.throttled[res.plural] -= 1
        after = self.throttle_retry_after
        body = status(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
            {"retryAfterSeconds": after},
        )
        body["code"] = 429
        return 429, body, {"Retry-After": str(after)}

    def _trickle_delay(self, req: Request) -> float:
        if req.method != "GET" or not self.trickle:
            return 0.0
        plural = req.path.rstrip("/").rsplit("/", 1)[-1]
        return self.trickle.get(plural, 0.0)

    def _send_trickling(
        self,
        h: BaseHTTPRequestHandler,
        code: int,
        body: dict[str, Any] | str,
        headers: dict[str, str],
        delay: float,
    ) -> None:
        """Headers at once, then the body one byte per ``delay`` seconds (until the client leaves)."""
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        try:
            h.send_response(code)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.flush()
            for i in range(len(data)):
                if self._closing.wait(delay):
                    return
                h.wfile.write(data[i : i + 1])
                h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up: what the test wants

    def _login_page(self, h: BaseHTTPRequestHandler, req: Request) -> bool:
        """With :attr:`discovery_html`, discovery gets a proxy's HTML page (status 200)."""
        if not self.discovery_html or req.path.rstrip("/") not in ("/api", "/api/v1", "/apis"):
            return False
        page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Corporate proxy: please sign in</body></html>"
        try:
            h.send_response(200)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            h.send_header("Content-Length", str(len(page)))
            h.end_headers()
            h.wfile.write(page)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return True

    @staticmethod
    def _full(res: ApiResource, obj: dict[str, Any]) -> dict[str, Any]:
        return {**obj, "apiVersion": res.group_version, "kind": res.kind}

    @staticmethod
    def _table(
        res: ApiResource,
        page: list[dict[str, Any]],
        meta: dict[str, Any],
        version: str,
        include: str,
    ) -> dict[str, Any]:
        if res.kind == "Secret":
            cols = [
                ("Name", "string", "name"),
                ("Type", "string", ""),
                ("Data", "string", ""),
                ("Age", "string", ""),
            ]

            def cells(o: dict[str, Any]) -> list[Any]:
                return [
                    o["metadata"]["name"],
                    o.get("type", "Opaque"),
                    len(o.get("data") or {}),
                    "10d",
                ]
        else:
            cols = [("Name", "string", "name"), ("Created At", "date", "")]

            def cells(o: dict[str, Any]) -> list[Any]:
                return [o["metadata"]["name"], o["metadata"].get("creationTimestamp")]

        rows = []
        for o in page:
            row: dict[str, Any] = {"cells": cells(o)}
            if include == "Object":
                row["object"] = o
            elif include == "Metadata":
                row["object"] = {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o["metadata"],
                }
            rows.append(row)
        return {
            "kind": "Table",
            "apiVersion": f"meta.k8s.io/{version}",
            "metadata": meta,
            "columnDefinitions": [
                {"name": n, "type": t, "format": f, "description": "", "priority": 0}
                for n, t, f in cols
            ],
            "rows": rows,
        }

    # ------------------------------------------------------------------ writes

    def _verb_forbidden(
        self,
        user: str,
        res: ApiResource,
        verb: str,
        namespace: str | None,
        name: str | None = None,
        sub: str | None = None,
    ) -> dict[str, Any] | None:
        """The 403 RBAC writes for a denied verb (``pods "x" is forbidden: User … cannot
        create resource "pods/exec" in API group "" in the namespace "ns"``)."""
        if user not in self.restricted_users:
            return None
        resource = f"{res.plural}/{sub}" if sub else res.plural
        if verb not in self.denied_verbs.get(resource, set()):
            return None
        what = f"{res.plural}.{res.group}" if res.group else res.plural
        subject = f'{what} "{name}"' if name else what
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        details: dict[str, Any] = {"kind": res.plural}
        if name:
            details = {"name": name, **details}
        if res.group:
            details["group"] = res.group
        return status(
            403,
            "Forbidden",
            f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
            f'in API group "{res.group}" {scope}',
            details,
        )

    def _namespace_exists(self, namespace: str) -> dict[str, Any] | None:
        found = next(
            (
                o
                for o in self.store.get(("", "namespaces"), [])
                if o["metadata"]["name"] == namespace
            ),
            None,
        )
        if found is None and namespace in (
            "default",
            "kube-system",
            "kube-public",
            "kube-node-lease",
        ):
            return {"metadata": {"name": namespace}}  # the server creates these itself
        return found

    def _create(
        self, req: Request, res: ApiResource, namespace: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert req.user is not None
        denied = self._verb_forbidden(req.user, res, "create", namespace)
        if denied is not None:
            return 403, denied, {}
        try:
            obj = json.loads(req.body or b"null")
        except ValueError as exc:
            return 400, status(400, "BadRequest", f"error decoding the request body: {exc}"), {}
        if not isinstance(obj, dict):
            return 400, status(400, "BadRequest", "the request body is not an object"), {}
        if obj.get("kind") not in (None, res.kind) or obj.get("apiVersion") not in (
            None,
            res.group_version,
        ):
            return (
                400,
                status(
                    400,
                    "BadRequest",
                    f"the API version in the data ({obj.get('apiVersion')}) does not match the "
                    f"expected API version ({res.group_version})",
                ),
                {},
            )
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            if namespace is None:
                return 404, self._not_found(req.path), {}
            if meta.get("namespace") not in (None, namespace):
                return (
                    400,
                    status(
                        400,
                        "BadRequest",
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ),
                    {},
                )
            meta["namespace"] = namespace
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            alphabet = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
            name = meta["generateName"] + "".join(random.choice(alphabet) for _ in range(5))
        invalid: list[tuple[str, str]] = []
        if not name:
            invalid.append(("metadata.name", "Required value: name or generateName is required"))
        if res.kind == "Pod":
            containers = (obj.get("spec") or {}).get("containers") or []
            if not containers:
                invalid.append(("spec.containers", "Required value"))
            for i, c in enumerate(containers):
                if not c.get("name"):
                    invalid.append((f"spec.containers[{i}].name", "Required value"))
                if not c.get("image"):
                    invalid.append((f"spec.containers[{i}].image", "Required value"))
        if invalid:
            msg = ", ".join(f"{f}: {m}" for f, m in invalid)
            return (
                422,
                status(
                    422,
                    "Invalid",
                    f'{res.kind} "{name}" is invalid: {msg}',
                    {
                        "name": name,
                        "kind": res.kind,
                        "causes": [
                            {"reason": "FieldValueRequired", "message": m, "field": f}
                            for f, m in invalid
                        ],
                    },
                ),
                {},
            )
        if res.namespaced and namespace is not None and self._namespace_exists(namespace) is None:
            return (
                404,
                status(
                    404,
                    "NotFound",
                    f'namespaces "{namespace}" not found',
                    {"name": namespace, "kind": "namespaces"},
                ),
                {},
            )
        if res.kind == "Pod" and namespace is not None:
            ns_obj = self._namespace_exists(namespace) or {}
            level = (ns_obj["metadata"].get("labels") or {}).get(
                "pod-security.kubernetes.io/enforce", "privileged"
            )
            version = (ns_obj["metadata"].get("labels") or {}).get(
                "pod-security.kubernetes.io/enforce-version", "latest"
            )
            violations = _baseline_violations(obj) if level in ("baseline", "restricted") else []
            if violations:
                return (
                    403,
                    status(
                        403,
                        "Forbidden",
                        f'pods "{name}" is forbidden: violates PodSecurity "{level}:{version}": '
                        + ", ".join(violations),
                        {"name": name, "kind": "pods"},
                    ),
                    {},
                )
        with self._lock:
            existing = self.store.get((res.group, res.plural), [])
            if any(
                o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace
                for o in existing
            ):
                return (
                    409,
                    status(
                        409,
                        "AlreadyExists",
                        f'{res.plural} "{name}" already exists',
                        {"name": name, "kind": res.plural},
                    ),
                    {},
                )
            meta["name"] = name
            meta["creationTimestamp"] = _now()
            obj["apiVersion"], obj["kind"] = res.group_version, res.kind
            if res.kind == "Pod":
                spec = obj.setdefault("spec", {})
                spec.setdefault("restartPolicy", "Always")
                spec.setdefault("terminationGracePeriodSeconds", 30)
                spec.setdefault("dnsPolicy", "ClusterFirst")
                obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
                if spec.get("nodeName"):
                    obj["status"]["conditions"] = [
                        {"type": "PodScheduled", "status": "True", "lastTransitionTime": _now()}
                    ]
            if "dryRun" in req.query:
                self._rv += 1
                meta.setdefault("uid", f"00000000-0000-4000-8000-{self._rv:012d}")
                return 201, obj, {}
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            meta["uid"] = f"00000000-0000-4000-8000-{self._rv:012d}"
            self.store.setdefault((res.group, res.plural), []).append(obj)
            if res.kind == "Pod":
                self._pod_clock[meta["uid"]] = time.monotonic()
            if res.kind == "DaemonSet":
                self._controlled_ds.add(meta["uid"])
            return 201, json.loads(json.dumps(obj)), {}

    def _find(self, res: ApiResource, namespace: str | None, name: str) -> dict[str, Any] | None:
        return next(
            (
                o
                for o in self.store.get((res.group, res.plural), [])
                if o["metadata"]["name"] == name
                and (namespace is None or o["metadata"].get("namespace") == namespace)
            ),
            None,
        )

    def _mark_deleted(self, res: ApiResource, obj: dict[str, Any], grace: int | None) -> None:
        """Under the lock: a Pod keeps a deletionTimestamp until its kubelet is done
        (:attr:`pod_termination_delay`); anything else is gone at once."""
        self._rv += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self._rv)
        if res.kind == "Pod":
            if "deletionTimestamp" not in meta:
                meta["deletionTimestamp"] = _now()
                meta["deletionGracePeriodSeconds"] = (
                    grace
                    if grace is not None
                    else obj.get("spec", {}).get("terminationGracePeriodSeconds", 30)
                )
                self._pod_deleted[meta["uid"]] = time.monotonic()
            if self.pod_termination_delay > 0 and grace != 0:
                return
        items = self.store.get((res.group, res.plural), [])
        self.store[(res.group, res.plural)] = [o for o in items if o is not obj]

    @staticmethod
    def _grace(req: Request) -> int | None:
        raw = req.query.get("gracePeriodSeconds", [None])[-1]
        if raw is None and req.body:
            try:
                opts = json.loads(req.body)
                raw = opts.get("gracePeriodSeconds") if isinstance(opts, dict) else None
            except ValueError:
                raw = None
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None

    def _delete(
        self, req: Request, res: ApiResource, namespace: str | None, name: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert req.user is not None
        denied = self._verb_forbidden(req.user, res, "delete", namespace, name)
        if denied is not None:
            return 403, denied, {}
        with self._lock:
            obj = self._find(res, namespace, name)
            if obj is None:
                return (
                    404,
                    status(
                        404,
                        "NotFound",
                        f'{res.plural} "{name}" not found',
                        {"name": name, "kind": res.plural},
                    ),
                    {},
                )
            self._mark_deleted(res, obj, self._grace(req))
            return 200, json.loads(json.dumps(obj)), {}

    def _delete_collection(
        self, req: Request, res: ApiResource, namespace: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert req.user is not None
        denied = self._verb_forbidden(req.user, res, "deletecollection", namespace)
        if denied is not None:
            return 403, denied, {}
        q = {k: v[-1] for k, v in req.query.items()}
        with self._lock:
            try:
                victims = [
                    o
                    for o in self.store.get((res.group, res.plural), [])
                    if (namespace is None or o["metadata"].get("namespace") == namespace)
                    and _labels_match(q.get("labelSelector", ""), o["metadata"].get("labels") or {})
                    and _fields_match(q.get("fieldSelector", ""), res.kind, o)
                ]
            except ValueError as exc:
                return 400, status(400, "BadRequest", str(exc)), {}
            for o in victims:
                self._mark_deleted(res, o, self._grace(req))
            listed = [
                {k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in victims
            ]
            return (
                200,
                {
                    "kind": f"{res.kind}List",
                    "apiVersion": res.group_version,
                    "metadata": {"resourceVersion": str(self._rv)},
                    "items": json.loads(json.dumps(listed)),
                },
                {},
            )

    # ------------------------------------------------------------------ kubelet

    def _node(self, name: str) -> dict[str, Any] | None:
        return next(
            (o for o in self.store.get(("", "nodes"), []) if o["metadata"]["name"] == name), None
        )

    def _kubelet(self) -> None:
        """Under the lock: advance the Pods this fake kubelet runs (no threads, lazily)."""
        self._daemonsets()
        now = time.monotonic()
        pods = self.store.get(("", "pods"), [])
        for pod in list(pods):
            meta, spec, st = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
            uid = meta.get("uid", "")
            if uid in self._pod_deleted:
                if now - self._pod_deleted[uid] >= self.pod_termination_delay:
                    self.store[("", "pods")] = [o for o in self.store[("", "pods")] if o is not pod]
                continue
            born = self._pod_clock.get(uid)
            if born is None or st.get("phase") in ("Succeeded", "Failed"):
                continue  # loaded from the fixtures, or finished
            node = self._node(spec.get("nodeName") or "")
            if node is None:
                continue  # unscheduled, or bound to a Node that does not exist: stays Pending
            deadline = spec.get("activeDeadlineSeconds")
            if isinstance(deadline, int) and now - born >= deadline:
                st.update(
                    phase="Failed",
                    reason="DeadlineExceeded",
                    message="Pod was active on the node longer than the specified deadline",
                )
                continue
            if now - born < self.pod_start_delay or st.get("phase") == "Running":
                continue
            containers = spec.get("containers") or []
            statuses = []
            running = True
            for c in containers:
                cs: dict[str, Any] = {
                    "name": c.get("name"),
                    "image": c.get("image"),
                    "imageID": "",
                    "restartCount": 0,
                    "started": False,
                    "ready": False,
                }
                if spec.get("nodeName") in self.stuck_nodes:
                    cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
                    running = False
                elif c.get("image") in self.unpullable_images:
                    cs["state"] = {
                        "waiting": {
                            "reason": "ErrImagePull",
                            "message": f'failed to pull and unpack image "{c.get("image")}": '
                            "failed to resolve reference: not found",
                        }
                    }
                    running = False
                else:
                    cs.update(started=True, ready=True, state={"running": {"startedAt": _now()}})
                statuses.append(cs)
            addresses = (node.get("status") or {}).get("addresses") or []
            host_ip = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")
            st["containerStatuses"] = statuses
            st["hostIP"] = host_ip
            st.setdefault("startTime", _now())
            if running:
                st["phase"] = "Running"
                if spec.get("hostNetwork"):
                    st["podIP"] = host_ip
                    st["podIPs"] = [{"ip": host_ip}] if host_ip else []
                st["conditions"] = [
                    {"type": t, "status": "True", "lastTransitionTime": _now()}
                    for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
                ]
            pod["status"] = st

    # ------------------------------------------------------------------ subresources

    def _subresource(
        self, req: Request, res: ApiResource, namespace: str | None, name: str, sub: str
    ) -> tuple[int, Any, dict[str, str]]:
        assert req.user is not None
        if sub == "status" and req.method == "GET":
            return self._serve(req, res, namespace, name)
        if res.kind == "Pod" and sub == "ephemeralcontainers":
            return self._ephemeral(req, res, namespace, name)
        if res.kind != "Pod" or sub not in ("exec", "log"):
            return 405, _method_not_allowed(), {}
        verb = "get" if sub == "log" else "create"
        denied = self._verb_forbidden(req.user, res, verb, namespace, name, sub)
        if denied is not None:
            return 403, denied, {}
        with self._lock:
            pod = self._find(res, namespace, name)
            pod = json.loads(json.dumps(pod)) if pod is not None else None
        if pod is None:
            return (
                404,
                status(404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"}),
                {},
            )
        q = {k: v[-1] for k, v in req.query.items()}
        containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        ephemeral = [
            c.get("name") for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
        ]
        container = q.get("container") or ""
        if not container:
            if len(containers) != 1:
                return (
                    400,
                    status(
                        400,
                        "BadRequest",
                        f"a container name must be specified for pod {name}, choose one of: "
                        f"[{' '.join(str(c) for c in containers)}]",
                    ),
                    {},
                )
            container = str(containers[0])
        if container not in containers and container not in ephemeral:
            return (
                400,
                status(400, "BadRequest", f"container {container} is not valid for pod {name}"),
                {},
            )
        if sub == "log":
            return self._log(pod, container, q)
        if req.method not in ("GET", "POST"):
            return 405, _method_not_allowed(), {}
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            return (
                400,
                status(
                    400,
                    "BadRequest",
                    f"cannot exec into a container in a completed pod; current phase is {phase}",
                ),
                {},
            )
        if not (pod.get("spec") or {}).get("nodeName"):
            return (
                400,
                status(400, "BadRequest", f"pod {name} does not have a host assigned"),
                {},
            )
        command = req.query.get("command", [])
        if not command:
            return 400, status(400, "BadRequest", "you must specify at least 1 command"), {}
        flags = {
            k: q.get(k, "").lower() in ("true", "1") for k in ("stdin", "stdout", "stderr", "tty")
        }
        if not (flags["stdin"] or flags["stdout"] or flags["stderr"]):
            return (
                400,
                status(400, "BadRequest", "you must specify at least one of stdin, stdout, stderr"),
                {},
            )
        if (
            req.headers.get("upgrade", "").lower() != "websocket"
            or "upgrade" not in req.headers.get("connection", "").lower()
        ):
            return 400, status(400, "BadRequest", "Upgrade request required"), {}
        statuses = {
            c.get("name"): c for c in (pod.get("status") or {}).get("containerStatuses") or []
        }
        if "running" not in (statuses.get(container, {}).get("state") or {}):
            return 500, f'container not found ("{container}")', {}
        offered = [
            p.strip() for p in req.headers.get("sec-websocket-protocol", "").split(",") if p.strip()
        ]
        supported = [V5, V4] if self.exec_v5 else [V4]
        chosen = next((p for p in offered if p in supported), None)
        if chosen is None:
            return (
                400,
                status(
                    400,
                    "BadRequest",
                    f"requested protocol(s) are not supported: {offered}; supports {supported}",
                ),
                {},
            )
        call = ExecCall(
            pod=pod,
            container=container,
            command=command,
            tty=flags["tty"],
            stdin=None,
            write_stdout=lambda b: None,
            write_stderr=lambda b: None,
        )
        return 101, _Upgrade(self, req, call, chosen, flags), {}

    def _ephemeral(
        self, req: Request, res: ApiResource, namespace: str | None, name: str
    ) -> tuple[int, Any, dict[str, str]]:
        """``pods/ephemeralcontainers``: GET, or PATCH that adds containers (merged by name)."""
        assert req.user is not None
        if req.method == "GET":
            return self._serve(req, res, namespace, name)
        if req.method != "PATCH":
            return 405, _method_not_allowed(), {}
        denied = self._verb_forbidden(
            req.user, res, "patch", namespace, name, "ephemeralcontainers"
        )
        if denied is not None:
            return 403, denied, {}
        ctype = req.headers.get("content-type", "").split(";")[0].strip()
        if ctype not in ("application/strategic-merge-patch+json", "application/merge-patch+json"):
            return (
                415,
                status(
                    415,
                    "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: application/strategic-merge-patch+json, application/merge-patch+json; got {ctype}",
                ),
                {},
            )
        try:
            patch = json.loads(req.body or b"null")
            added = patch["spec"]["ephemeralContainers"]
            assert isinstance(added, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            return 400, status(400, "BadRequest", "the patch must set spec.ephemeralContainers"), {}
        with self._lock:
            pod = self._find(res, namespace, name)
            if pod is None:
                return (
                    404,
                    status(
                        404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"}
                    ),
                    {},
                )
            spec = pod.setdefault("spec", {})
            current = {c.get("name"): c for c in spec.get("ephemeralContainers") or []}
            taken = {c.get("name") for c in spec.get("containers") or []}
            invalid: list[tuple[str, str]] = []
            new: list[dict[str, Any]] = []
            for i, c in enumerate(added):
                cname = c.get("name") if isinstance(c, dict) else None
                where = f"spec.ephemeralContainers[{i}]"
                if not cname or not c.get("image"):
                    invalid.append((where, "Required value: name and image"))
                elif cname in taken:
                    invalid.append((f"{where}.name", f'Duplicate value: "{cname}"'))
                elif cname in current and current[cname] != c:
                    invalid.append(
                        (where, "Forbidden: existing ephemeral containers may not be changed")
                    )
                elif cname not in current:
                    new.append(c)
            if ctype == "application/merge-patch+json":
                # a JSON merge patch replaces the list: leaving one out removes it
                kept = {c.get("name") for c in added if isinstance(c, dict)}
                if any(n not in kept for n in current):
                    invalid.append(
                        (
                            "spec.ephemeralContainers",
                            "Forbidden: existing ephemeral containers may not be removed",
                        )
                    )
            if invalid:
                msg = ", ".join(f"{f}: {m}" for f, m in invalid)
                return (
                    422,
                    status(
                        422,
                        "Invalid",
                        f'Pod "{name}" is invalid: {msg}',
                        {"name": name, "kind": "Pod"},
                    ),
                    {},
                )
            spec["ephemeralContainers"] = [*current.values(), *new]
            st = pod.setdefault("status", {})
            statuses = st.setdefault("ephemeralContainerStatuses", [])
            running = st.get("phase") == "Running"
            for c in new:
                cs: dict[str, Any] = {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                }
                if c.get("image") in self.unpullable_images:
                    cs["state"] = {
                        "waiting": {
                            "reason": "ErrImagePull",
                            "message": f'failed to pull and unpack image "{c.get("image")}"',
                        }
                    }
                elif not running:
                    cs["state"] = {"waiting": {"reason": "PodInitializing"}}
                else:
                    cs["state"] = {"running": {"startedAt": _now()}}
                    threading.Thread(
                        target=self._run_ephemeral,
                        args=(json.loads(json.dumps(pod)), c, cs),
                        daemon=True,
                    ).start()
                statuses.append(cs)
            self._rv += 1
            pod["metadata"]["resourceVersion"] = str(self._rv)
            return 200, json.loads(json.dumps(pod)), {}

    def _run_ephemeral(self, pod: dict[str, Any], c: dict[str, Any], cs: dict[str, Any]) -> None:
        """The kubelet running one ephemeral container: output to its log, then terminated."""
        out: list[bytes] = []
        call = ExecCall(
            pod=pod,
            container=c["name"],
            command=[*(c.get("command") or []), *(c.get("args") or [])],
            tty=False,
            stdin=None,
            write_stdout=out.append,
            write_stderr=out.append,
        )
        try:
            code = self.exec_handler(call)
            reason = "Completed" if code == 0 else "Error"
        except ExecFailed as exc:
            out.append(str(exc).encode())
            code, reason = 128, "StartError"
        text = b"".join(out).decode(errors="replace")
        meta = pod["metadata"]
        with self._lock:
            self.logs[(meta.get("namespace", ""), meta["name"], c["name"])] = [
                (_now(), line) for line in text.splitlines()
            ]
            cs["state"] = {"terminated": {"exitCode": code, "reason": reason, "finishedAt": _now()}}
            self._rv += 1

    def _daemonsets(self) -> None:
        """Under the lock: the DaemonSet controller for DaemonSets created through the API
        (those loaded from the fixtures keep the pods the fixtures list), and the garbage
        collector of the pods it made."""
        sets = [
            d
            for d in self.store.get(("apps", "daemonsets"), [])
            if d["metadata"].get("uid") in self._controlled_ds
        ]
        live = {d["metadata"].get("uid") for d in sets}
        for pod in list(self.store.get(("", "pods"), [])):
            owner = next(
                (
                    o.get("uid")
                    for o in pod["metadata"].get("ownerReferences") or []
                    if o.get("kind") == "DaemonSet"
                ),
                None,
            )
            if owner in self._controlled_ds and owner not in live:
                self._mark_deleted(_POD_RESOURCE, pod, 0)
        self._controlled_ds &= live | {
            o.get("uid")
            for p in self.store.get(("", "pods"), [])
            for o in p["metadata"].get("ownerReferences") or []
        }
        nodes = [n["metadata"]["name"] for n in self.store.get(("", "nodes"), [])]
        alphabet = "bcdfghjklmnpqrstvwxz2456789"
        for ds in sets:
            meta = ds["metadata"]
            template = ((ds.get("spec") or {}).get("template")) or {}
            have = {
                (p.get("spec") or {}).get("nodeName")
                for p in self.store.get(("", "pods"), [])
                if any(
                    o.get("uid") == meta.get("uid")
                    for o in p["metadata"].get("ownerReferences") or []
                )
            }
            for node in nodes:
                if node in have:
                    continue
                self._rv += 1
                spec = json.loads(json.dumps(template.get("spec") or {}))
                spec["nodeName"] = node
                spec.setdefault("dnsPolicy", "ClusterFirst")
                suffix = "".join(random.choice(alphabet) for _ in range(5))
                pod = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{meta['name']}-{suffix}",
                        "namespace": meta.get("namespace"),
                        "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "DaemonSet",
                                "name": meta["name"],
                                "uid": meta.get("uid"),
                                "controller": True,
                            }
                        ],
                        "uid": f"00000000-0000-4000-8000-{self._rv:012d}",
                        "resourceVersion": str(self._rv),
                        "creationTimestamp": _now(),
                    },
                    "spec": spec,
                    "status": {"phase": "Pending", "qosClass": "BestEffort"},
                }
                self.store.setdefault(("", "pods"), []).append(pod)
                self._pod_clock[pod["metadata"]["uid"]] = time.monotonic()

    def _log(
        self, pod: dict[str, Any], container: str, q: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        meta = pod["metadata"]
        name = meta["name"]
        if q.get("previous", "").lower() == "true":
            return (
                400,
                status(
                    400,
                    "BadRequest",
                    f'previous terminated container "{container}" in pod "{name}" not found',
                ),
                {},
            )
        statuses = {
            c.get("name"): c
            for c in [
                *((pod.get("status") or {}).get("containerStatuses") or []),
                *((pod.get("status") or {}).get("ephemeralContainerStatuses") or []),
            ]
        }
        state = statuses.get(container, {}).get("state") or {}
        if "running" not in state and "terminated" not in state:
            reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
            return (
                400,
                status(
                    400,
                    "BadRequest",
                    f'container "{container}" in pod "{name}" is waiting to start: {reason}',
                ),
                {},
            )
        lines = self.logs.get((meta.get("namespace", ""), name, container), [])
        try:
            tail = int(q["tailLines"]) if "tailLines" in q else None
            limit = int(q["limitBytes"]) if "limitBytes" in q else None
        except ValueError as exc:
            return 400, status(400, "BadRequest", f"invalid query: {exc}"), {}
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        stamps = q.get("timestamps", "").lower() == "true"
        text = "".join((f"{ts} {line}" if stamps else line) + "\n" for ts, line in lines)
        if limit is not None:
            text = text.encode()[:limit].decode(errors="ignore")
        return 200, text, {}


_POD_RESOURCE = ApiResource("", "v1", "pods", "Pod", True)


def _method_not_allowed() -> dict[str, Any]:
    return status(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


class _Upgrade:
    """A ``pods/exec`` request switched to a WebSocket: the kubelet's side of remotecommand."""

    def __init__(
        self,
        api: FakeApiServer,
        req: Request,
        call: ExecCall,
        protocol: str,
        flags: dict[str, bool],
    ) -> None:
        self.api, self.req, self.call, self.protocol, self.flags = api, req, call, protocol, flags

    def run(self, h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        key = self.req.headers.get("sec-websocket-key", "")
        h.send_response(101, "Switching Protocols")
        h.send_header("Upgrade", "websocket")
        h.send_header("Connection", "Upgrade")
        h.send_header("Sec-WebSocket-Accept", accept_key(key))
        h.send_header("Sec-WebSocket-Protocol", self.protocol)
        h.end_headers()
        h.wfile.flush()
        ws = Connection(h.rfile, h.wfile)  # type: ignore[arg-type]

        def frame(channel: int) -> Callable[[bytes], None]:
            def write(data: bytes) -> None:
                # The kubelet copies the process output in reads of at most 32 KiB.
                for i in range(0, len(data), 32768):
                    try:
                        ws.send(bytes([channel]) + data[i : i + 32768], OP_BINARY)
                    except OSError:
                        return

            return write

        # "Send an empty message to the lowest writable channel to notify the client the
        # connection is established" (kubelet cri/streaming/remotecommand/websocket.go).
        first = STDOUT if self.flags["stdout"] else STDERR if self.flags["stderr"] else ERROR
        ws.send(bytes([first]), OP_BINARY)
        stdin_r: Any = None
        stdin_w: int | None = None
        if self.flags["stdin"]:
            rfd, stdin_w = os.pipe()
            stdin_r = os.fdopen(rfd, "rb")
        self.call.stdin = stdin_r
        self.call.write_stdout = frame(STDOUT) if self.flags["stdout"] else lambda b: None
        self.call.write_stderr = frame(STDERR) if self.flags["stderr"] else lambda b: None

        def reader() -> None:
            nonlocal stdin_w
            try:
                while True:
                    op, payload = ws.recv()
                    if op == OP_CLOSE:
                        break
                    if not payload:
                        continue
                    if payload[0] == STDIN and stdin_w is not None:
                        os.write(stdin_w, payload[1:])
                    elif (
                        payload[0] == CLOSE
                        and self.protocol == V5
                        and payload[1:2] == b"\0"
                        and stdin_w is not None
                    ):  # v5: the client closed stdin
                        os.close(stdin_w)
                        stdin_w = None
            except (EOFError, ProtocolError, OSError, ValueError):
                pass
            finally:
                if stdin_w is not None:
                    with contextlib.suppress(OSError):
                        os.close(stdin_w)
                    stdin_w = None

        threading.Thread(target=reader, daemon=True).start()
        try:
            code = self.api.exec_handler(self.call)
        except ExecFailed as exc:
            result: dict[str, Any] = {
                "metadata": {},
                "status": "Failure",
                "message": f"Internal error occurred: {exc}",
                "reason": "InternalError",
                "details": {"causes": [{"message": str(exc)}]},
                "code": 500,
            }
        else:
            if code == 0:
                result = {"metadata": {}, "status": "Success"}
            else:
                argv = " ".join(self.call.command)
                result = {
                    "metadata": {},
                    "status": "Failure",
                    "message": "command terminated with non-zero exit code: error executing "
                    f"command [{argv}], exit code {code}",
                    "reason": "NonZeroExitCode",
                    "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
                }
        try:
            ws.send(bytes([ERROR]) + json.dumps(result).encode(), OP_BINARY)
            ws.close()
        except OSError:
            pass
        if stdin_r is not None:
            stdin_r.close()


# --------------------------------------------------------------------------- selectors


def _split_terms(selector: str) -> Iterable[str]:
    depth, start = 0, 0
    for i, ch in enumerate(selector):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            yield selector[start:i].strip()
            start = i + 1
    if selector[start:].strip():
        yield selector[start:].strip()


def _labels_match(selector: str, labels: dict[str, str]) -> bool:
    """https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"""
    for term in _split_terms(selector):
        words = term.split()
        if len(words) == 3 and words[1] in ("in", "notin"):
            values = {v.strip() for v in words[2].strip("()").split(",")}
            if words[1] == "in" and labels.get(words[0]) not in values:
                return False
            if words[1] == "notin" and words[0] in labels and labels[words[0]] in values:
                return False
        elif "!=" in term:
            k, v = (s.strip() for s in term.split("!=", 1))
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = (s.strip() for s in term.replace("==", "=").split("=", 1))
            if labels.get(k) != v:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term and term not in labels:
            return False
    return True


def _field(obj: dict[str, Any], path: tuple[str, ...]) -> str:
    cur: Any = obj
    for p in path:
        cur = cur.get(p) if isinstance(cur, dict) else None
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return "" if cur is None else str(cur)


def _fields_match(selector: str, kind: str, obj: dict[str, Any]) -> bool:
    """https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/"""
    supported = {
        "metadata.name": ("metadata", "name"),
        "metadata.namespace": ("metadata", "namespace"),
        **FIELDS.get(kind, {}),
    }
    for term in _split_terms(selector):
        neg = "!=" in term
        k, v = (s.strip() for s in term.replace("==", "=").split("!=" if neg else "=", 1))
        if k not in supported:
            raise ValueError(f"field label not supported: {k}")
        if (_field(obj, supported[k]) == v) == neg:
            return False
    return True
