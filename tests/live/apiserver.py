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
  (503 a number of times, then OK), expiring continue tokens.

Listing in a namespace that does not exist returns an empty list, as the
real server does. Objects come from a directory of YAML manifests.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

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
            for doc in yaml.safe_load_all(f.read_text()):
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
                api._handle(self)

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

            do_POST = do_PUT = do_PATCH = do_DELETE = _not_allowed

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
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
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
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        record_secret: bool = False,
    ) -> None:
        data = json.dumps(body).encode()
        if record_secret:
            with self._lock:
                self.secret_bodies.append(data)
        try:
            h.send_response(code)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.send_header("Audit-Id", f"audit-{time.monotonic_ns()}")
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); nothing to do

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        query = parse_qs(url.query, keep_blank_values=True)
        req = Request("GET", url.path, query, {k.lower(): v for k, v in h.headers.items()})
        with self._lock:
            self.requests.append(req)
        code, body, headers = self._route(req)
        req.status = code
        self._send(h, code, body, headers, record_secret="/secrets" in url.path)

    def _route(self, req: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
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
        if len(rest) > 2:
            return 404, self._not_found(req.path), {}
        res = next((r for r in resources if r.plural == plural), None)
        if res is None or (namespace is not None and not res.namespaced):
            return 404, self._not_found(req.path), {}
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
