"""``netsleuth collect``: save a live cluster as files netsleuth (and a person) can read.

Two parts, both read-only towards the cluster's state:

- :meth:`Collector.manifests` writes the objects netsleuth reads
  (:class:`~netsleuth.sources.live.LiveSource`, Secrets as names and types only) into
  ``<out>/cluster.yaml``, a ``v1 List`` as ``kubectl get -A -o yaml`` prints it;
- :meth:`Collector.nodes`, only when asked, runs the fixed command list of
  :mod:`netsleuth.sources.node_commands` on each chosen node through one short-lived
  Pod per node (hostNetwork, hostPID, privileged, the node's ``/`` mounted read-only at
  ``/host``) and writes each output to ``<out>/nodes/<node>/<NN>-<slug>.txt`` as
  ``$ <command>  # at <time>`` followed by what it printed. A command that fails leaves a
  ``# netsleuth collect: …`` line the loader reports as a warning.

Everything created carries the label ``netsleuth.io/run=<run id>`` and an
``activeDeadlineSeconds``, so the kubelet ends a Pod even if netsleuth is killed
before it deletes it; the Pods are deleted when the run ends, on error, and on
Ctrl-C (:meth:`Collector.nodes`, in ``finally``, first waits a bounded time for the
create requests still in flight, so none takes effect after the cleanup, then deletes
each Pod created, then by label anything whose create answer was lost; what it could
not make sure of is in :attr:`Collector.left_behind`). :meth:`Collector.cleanup`
removes leftovers of any run. A 403 becomes one :class:`~netsleuth.errors.ForbiddenError` naming the verbs
the run needs (:data:`NEEDED_VERBS`).

The library never prints: progress goes to a callback.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import secrets
import shlex
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from netsleuth.errors import ForbiddenError, InputError, NetsleuthError, SourceError
from netsleuth.model.problems import LoadProblem
from netsleuth.sources.base import RawObject
from netsleuth.sources.node_commands import COMMANDS, NodeCommand

__all__ = [
    "CONTAINER",
    "DEFAULT_IMAGE",
    "HOST_ROOT",
    "NEEDED_VERBS",
    "RUN_LABEL",
    "CollectError",
    "Collector",
    "NodeResult",
    "new_run_id",
    "pod_manifest",
]

RUN_LABEL = "netsleuth.io/run"
"""On every Pod ``collect`` creates; ``collect --cleanup`` deletes by it."""
DEFAULT_IMAGE = "nicolaka/netshoot:v0.13"
"""Has iproute2, iptables (nft and legacy), nftables, conntrack-tools, ipvsadm, ethtool."""
CONTAINER = "collect"
HOST_ROOT = "/host"
"""Where the node's root filesystem is mounted (read-only) in the collector's Pod."""
NEEDED_VERBS = (
    "nodes: get, list",
    "pods: create, get, list, delete, deletecollection (in the collect namespace)",
    "pods/exec: create",
)
MANIFEST_FILE = "cluster.yaml"
CREATE_GRACE = 10.0
"""Seconds the cleanup waits for the Pod create requests still in flight (a create sent
before Ctrl-C can take effect after it: deleting before its answer would miss it)."""
LOG_TAIL_LINES = 5000
"""Lines of each container's log kept by :meth:`Collector.logs` (the recent ones)."""
# The network components whose logs are evidence (kube-proxy sync errors, CoreDNS
# timeouts and loops, CNI IPAM failures), by their usual k8s-app label or name.
_NETWORK_APPS = frozenset(
    {"kube-proxy", "kube-dns", "calico-node", "cilium", "canal", "weave-net", "kube-router",
     "antrea", "flannel", "kube-flannel"}
)  # fmt: skip
_NETWORK_POD = re.compile(
    r"^(?:kube-proxy|coredns|calico-node|cilium|kube-flannel|canal|weave-net|kube-router|antrea-agent)-"
)

Progress = Callable[[str, int, int], None]
"""``progress(node, commands_done, commands_total)``, called from worker threads."""

# A Node name as the API server validates it (a DNS-1123 subdomain): anything else
# would not be safe as a directory name.
_NODE_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$")
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


class CollectError(NetsleuthError):
    """A collect run could not do what was asked (no such node, a Pod that never ran)."""


def new_run_id() -> str:
    """A fresh run id: 8 hex characters, a valid label value."""
    return secrets.token_hex(4)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_manifest(
    node: str, *, namespace: str, image: str, run_id: str, deadline_seconds: int
) -> dict[str, Any]:
    """The Pod that collects on ``node``: bound to it (no scheduler), tolerating every
    taint, host network and PID namespaces, privileged (``dmesg``, ``conntrack``,
    ``iptables-save`` need it), the node's ``/`` read-only at :data:`HOST_ROOT`, and an
    ``activeDeadlineSeconds`` so it ends by itself if nobody deletes it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "netsleuth-collect-",
            "namespace": namespace,
            "labels": {
                RUN_LABEL: run_id,
                "app.kubernetes.io/name": "netsleuth-collect",
                "app.kubernetes.io/managed-by": "netsleuth",
            },
        },
        "spec": {
            "nodeName": node,
            "hostNetwork": True,
            "hostPID": True,
            "restartPolicy": "Never",
            "activeDeadlineSeconds": max(60, deadline_seconds),
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": False,
            "tolerations": [{"operator": "Exists"}],
            "containers": [
                {
                    "name": CONTAINER,
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", str(max(60, deadline_seconds))],
                    "securityContext": {"privileged": True},
                    "volumeMounts": [{"name": "host", "mountPath": HOST_ROOT, "readOnly": True}],
                }
            ],
            "volumes": [{"name": "host", "hostPath": {"path": "/", "type": "Directory"}}],
        },
    }


@dataclass
class NodeResult:
    node: str
    pod: str | None = None
    files: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Commands that exited non-zero, could not start, or timed out."""
    error: str | None = None
    """Why nothing (or not everything) was collected on this node."""


@dataclass
class _Exec:
    stdout: bytes
    stderr: bytes
    code: int | None
    """Exit code; ``None`` when the command did not finish or could not start."""
    error: str | None = None


_DENIED_USER = re.compile(r'User \\?"([^"\\]{1,253})\\?"')


def forbidden_text(verb: str, resource: str, namespace: str | None, user: str | None) -> str:
    """``cannot create pods in namespace default as <user>``: what RBAC refused, in one line."""
    where = f" in namespace {namespace}" if namespace else ""
    return f"cannot {verb} {resource}{where}" + (f" as {user}" if user else "")


def _denied_user(exc: Any) -> str | None:
    """The user RBAC names in a 403 (``User "system:serviceaccount:ns:sa" cannot …``)."""
    raw = getattr(exc, "body", None)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
    # a refused exec handshake carries the body inside the exception's text
    m = _DENIED_USER.search(text) or _DENIED_USER.search(str(exc)[:20000])
    return " ".join(m.group(1).split()) if m else None


def _forbidden(exc: Any, verb: str, resource: str, namespace: str | None) -> ForbiddenError:
    """A 403 as one :class:`ForbiddenError`: ``forbidden: cannot <verb> <resource> in
    namespace <ns> as <user>`` (the server's long message, or a WebSocket handshake dump
    for ``pods/exec``, is not repeated), the verbs collect needs as the tip."""
    return ForbiddenError(
        "forbidden: " + forbidden_text(verb, resource, namespace, _denied_user(exc)),
        verb=verb,
        resource=resource,
        namespace=namespace,
        tip="collect needs " + "; ".join(NEEDED_VERBS) + ".",
    )


def _api_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if body:
        with contextlib.suppress(ValueError, TypeError):
            msg = json.loads(body).get("message")
            if isinstance(msg, str):
                return " ".join(msg.split())[:400]
    reason = getattr(exc, "reason", None) or str(exc)
    return " ".join(str(reason).split())[:400]


class Collector:
    """One collect run against the cluster ``api`` (a ``kubernetes.client.ApiClient``)."""

    def __init__(
        self,
        api: Any,
        *,
        namespace: str = "default",
        image: str = DEFAULT_IMAGE,
        run_id: str | None = None,
        timeout: float = 120.0,
        parallel: int = 4,
        poll: float = 0.5,
        progress: Progress | None = None,
        commands: tuple[NodeCommand, ...] = COMMANDS,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.image = image
        self.run_id = run_id or new_run_id()
        self.timeout = timeout
        """Seconds per node, from Pod creation to its last command."""
        self.parallel = max(1, parallel)
        self.poll = poll
        self.progress = progress
        self.commands = commands
        self.stop = threading.Event()
        self.create_grace = CREATE_GRACE
        """Seconds the cleanup waits for create requests still in flight."""
        self.left_behind: list[str] = []
        """Why Pods of this run may be left after :meth:`nodes` (an unanswered create, a
        second Ctrl-C during the cleanup, a refused delete): for the caller to show with
        the command that removes them."""
        self._created: dict[str, str] = {}
        self._creating = 0  # create requests sent and not yet answered
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)

    # ------------------------------------------------------------------ clients

    def _core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api)

    @property
    def label_selector(self) -> str:
        return f"{RUN_LABEL}={self.run_id}"

    # ------------------------------------------------------------------ manifests

    @staticmethod
    def write_manifests(items: Iterable[RawObject | Any], out: Path) -> tuple[int, list[Any]]:
        """Write the objects of a source to ``<out>/cluster.yaml``; returns how many were
        written and the problems the source reported (the caller shows them)."""
        objects: list[dict[str, Any]] = []
        problems: list[Any] = []
        for item in items:
            if isinstance(item, RawObject):
                objects.append(item.data)
            elif isinstance(item, LoadProblem):
                problems.append(item)
        out.mkdir(parents=True, exist_ok=True)
        dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        doc = {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": objects}
        with (out / MANIFEST_FILE).open("w", encoding="utf-8") as fh:
            yaml.dump(doc, fh, Dumper=dumper, sort_keys=False, allow_unicode=True)
        return len(objects), problems

    # ------------------------------------------------------------------ logs

    def logs(
        self, out: Path, namespaces: Iterable[str], tail_lines: int = LOG_TAIL_LINES
    ) -> tuple[list[str], list[str]]:
        """Write the logs of the network components' pods (kube-proxy, CoreDNS, CNI
        agents) as ``kubectl cluster-info dump --output-directory`` does:
        ``<out>/<ns>/<pod>/logs.txt`` with ``==== START logs for container …`` markers.
        Returns the pods written and what could not be read (never raises for one pod)."""
        from kubernetes.client.exceptions import ApiException

        core = self._core()
        written: list[str] = []
        failed: list[str] = []
        # 403s: one line per namespace (RBAC refuses every pod of it alike), not one per pod.
        denied: dict[str, tuple[str | None, int]] = {}
        for ns in namespaces:
            try:
                pods = _json(core.list_namespaced_pod(ns, _preload_content=False)).get("items")
            except ApiException as exc:
                if exc.status == 403:
                    failed.append(
                        "forbidden: "
                        + forbidden_text("list", "pods", ns, _denied_user(exc))
                        + f": the network pods' logs of {ns} not saved"
                    )
                elif exc.status != 404:
                    failed.append(f"pods in {ns}: {_api_message(exc)}")
                continue
            for pod in pods or ():
                name = _get(pod, "metadata", "name")
                if not isinstance(name, str) or not _NODE_NAME.match(name):
                    continue
                labels = _get(pod, "metadata", "labels") or {}
                app = (
                    labels.get("k8s-app") or labels.get("app") if isinstance(labels, dict) else None
                )
                if app not in _NETWORK_APPS and not _NETWORK_POD.match(name):
                    continue
                parts: list[str] = []
                for c in _get(pod, "spec", "containers") or ():
                    cname = c.get("name") if isinstance(c, dict) else None
                    if not isinstance(cname, str) or not _NODE_NAME.match(cname):
                        continue
                    try:
                        raw = core.read_namespaced_pod_log(
                            name,
                            ns,
                            container=cname,
                            tail_lines=tail_lines,
                            _preload_content=False,
                        ).data
                    except ApiException as exc:
                        if exc.status == 403:
                            user, n = denied.get(ns, (None, 0))
                            denied[ns] = (user or _denied_user(exc), n + 1)
                            break  # the pod's other containers are refused alike
                        failed.append(f"log of {ns}/{name} {cname}: {_api_message(exc)}")
                        continue
                    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
                    if text and not text.endswith("\n"):
                        text += "\n"
                    mark = f"container {cname} of pod {ns}/{name} ===="
                    parts.append(f"==== START logs for {mark}\n{text}==== END logs for {mark}\n")
                if parts:
                    folder = out / ns / name
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / "logs.txt").write_text("".join(parts), encoding="utf-8")
                    written.append(f"{ns}/{name}")
        for ns, (user, n) in denied.items():
            failed.append(
                "forbidden: "
                + forbidden_text("get", "pods/log", ns, user)
                + f": the logs of {n} pod{'s' if n != 1 else ''} not saved"
            )
        return written, failed

    # ------------------------------------------------------------------ nodes

    def select_nodes(self, names: Iterable[str] = (), selector: str | None = None) -> list[str]:
        """The nodes to collect on: ``names`` (each must exist) plus those ``selector``
        matches; a name the API server would not accept is refused."""
        from kubernetes.client.exceptions import ApiException

        wanted = [n for n in dict.fromkeys(names) if n]
        for n in wanted:
            if not _NODE_NAME.match(n):
                raise InputError(f"{n!r} is not a Node name")
        try:
            listed = _json(
                self._core().list_node(label_selector=selector or None, _preload_content=False)
            )
        except ApiException as exc:
            if exc.status == 403:
                raise _forbidden(exc, "list", "nodes", None) from exc
            raise SourceError(f"cannot list nodes: {_api_message(exc)}") from exc
        known = [str(_get(n, "metadata", "name")) for n in listed.get("items") or ()]
        if selector is None and wanted:
            missing = [n for n in wanted if n not in known]
            if missing:
                raise CollectError(
                    "no such node: " + ", ".join(missing),
                    tip="Nodes: " + (", ".join(known[:20]) or "none") + ".",
                )
            return wanted
        if selector is not None:
            chosen = [n for n in known if not wanted or n in wanted]
            if not chosen:
                raise CollectError(f"no node matches {selector!r}")
            return chosen
        return known

    def planned_pods(self, nodes: Iterable[str]) -> list[dict[str, Any]]:
        return [
            pod_manifest(
                n,
                namespace=self.namespace,
                image=self.image,
                run_id=self.run_id,
                deadline_seconds=int(self.timeout) + 60,
            )
            for n in nodes
        ]

    def nodes(self, nodes: list[str], out: Path) -> list[NodeResult]:
        """Collect on every node, ``parallel`` at a time; the Pods are deleted when this
        returns or raises (KeyboardInterrupt included)."""
        for n in nodes:
            if not _NODE_NAME.match(n):
                raise InputError(f"{n!r} is not a Node name")
        results = {n: NodeResult(n) for n in nodes}
        pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="netsleuth-collect")
        try:
            pending: set[Future[None]] = {
                pool.submit(self._one_node, results[n], out) for n in nodes
            }
            while pending:
                # short waits, so Ctrl-C reaches the main thread promptly
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in done:
                    fut.result()
        finally:
            interrupted = self._finish(pool)
        if interrupted:  # a Ctrl-C during the cleanup of a run that had ended
            raise KeyboardInterrupt
        return [results[n] for n in nodes]

    def _finish(self, pool: ThreadPoolExecutor) -> bool:
        """Stop the workers, wait (at most :attr:`create_grace` seconds) for the creates in
        flight, then delete this run's Pods. A Ctrl-C here cuts the wait short, not the
        deletes (a third one stops them); what may be left goes to :attr:`left_behind`.
        Returns whether a Ctrl-C arrived meanwhile."""
        interrupted = False
        try:
            with self._lock:  # no create starts after this (see _one_node)
                self.stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            end = time.monotonic() + self.create_grace
            with self._answered:
                while self._creating and (left := end - time.monotonic()) > 0:
                    self._answered.wait(min(0.2, left))
        except KeyboardInterrupt:
            interrupted = True
            self.stop.set()
        with self._lock:
            unanswered = self._creating
        if unanswered:
            why = "interrupted while waiting for" if interrupted else "no answer yet to"
            self.left_behind.append(
                f"{why} {unanswered} pod create request{'s' if unanswered != 1 else ''}"
                f"{'' if interrupted else f' after {self.create_grace:g} s'}"
            )
        try:
            self.left_behind.extend(self._delete_created())
        except KeyboardInterrupt:
            interrupted = True
            self.left_behind.append("interrupted while deleting the pods")
        return interrupted

    def _one_node(self, res: NodeResult, out: Path) -> None:
        from kubernetes.client.exceptions import ApiException

        deadline = time.monotonic() + self.timeout
        total = len(self.commands) + 1
        manifest = self.planned_pods([res.node])[0]
        with self._lock:  # the cleanup sets stop under this lock, then waits for _creating
            if self.stop.is_set():
                res.error = "interrupted"
                return
            self._creating += 1
        name: str | None = None
        try:
            created = _json(
                self._core().create_namespaced_pod(self.namespace, manifest, _preload_content=False)
            )
            name = str(_get(created, "metadata", "name"))
        except ApiException as exc:
            if exc.status == 403 and "PodSecurity" not in _api_message(exc):
                raise _forbidden(exc, "create", "pods", self.namespace) from exc
            res.error = f"pod not created: {_api_message(exc)}"
            if exc.status == 403:  # Pod Security admission: same for every node
                raise CollectError(
                    f"the collector pod was refused in namespace {self.namespace}: "
                    f"{_api_message(exc)}",
                    tip="Use a namespace whose pod-security.kubernetes.io/enforce label "
                    "is 'privileged' (--namespace).",
                ) from exc
            return
        finally:
            with self._answered:
                if name is not None:
                    self._created[name] = res.node
                self._creating -= 1
                late = self.stop.is_set()
                self._answered.notify_all()
        res.pod = name
        if late:
            # answered after the run was stopped: the cleanup may be over already
            res.error = "interrupted"
            with contextlib.suppress(Exception):
                self._core().delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)
            return
        if not self._wait_running(res, name, deadline):
            return
        node_dir = out / "nodes" / res.node
        node_dir.mkdir(parents=True, exist_ok=True)
        done = 0
        queue = list(self.commands)
        index = 0
        while queue:
            cmd = queue.pop(0)
            if self.stop.is_set():
                res.error = "interrupted"
                return
            argv = cmd.resolved(HOST_ROOT)
            at = _now()
            if time.monotonic() >= deadline:
                result = _Exec(b"", b"", None, f"not run: the node's {self.timeout:.0f} s ran out")
            else:
                result = self._exec(name, argv, deadline)
            text = self._render(argv, at, result)
            path = node_dir / f"{index:02d}-{_SLUG.sub('-', cmd.slug)}.txt"
            path.write_text(text, encoding="utf-8")
            res.files.append(path)
            if result.code != 0:
                res.failed.append(shlex.join(argv))
            index += 1
            done += 1
            if cmd.slug == "ip-route-all" and result.code == 0:
                dev = _default_device(result.stdout.decode("utf-8", "replace"))
                if dev:
                    queue.insert(0, NodeCommand("ethtool-S", ("ethtool", "-S", dev), "NIC drops"))
                    total += 1
            if self.progress is not None:
                self.progress(res.node, done, total - 1)

    @staticmethod
    def _render(argv: tuple[str, ...], at: str, r: _Exec) -> str:
        text = f"$ {shlex.join(argv)}  # at {at}\n" + r.stdout.decode("utf-8", "replace")
        if text and not text.endswith("\n"):
            text += "\n"
        if r.code != 0:
            why = r.error or f"exited {r.code}"
            err = " ".join(r.stderr.decode("utf-8", "replace").split())[:200]
            text += f"# netsleuth collect: `{shlex.join(argv)}` {why}" + (
                f": {err}\n" if err else "\n"
            )
        return text

    def _wait_running(self, res: NodeResult, name: str, deadline: float) -> bool:
        from kubernetes.client.exceptions import ApiException

        core = self._core()
        last = "Pending"
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                pod = _json(core.read_namespaced_pod(name, self.namespace, _preload_content=False))
            except ApiException as exc:
                res.error = f"pod {self.namespace}/{name}: {_api_message(exc)}"
                return False
            phase = _get(pod, "status", "phase")
            if phase == "Running":
                return True
            waiting = [
                str(_get(s, "state", "waiting", "reason") or "")
                for s in _get(pod, "status", "containerStatuses") or ()
                if _get(s, "state", "waiting") is not None
            ]
            last = ", ".join(w for w in waiting if w) or str(phase)
            if phase in ("Failed", "Succeeded") or any(
                w in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName") for w in waiting
            ):
                res.error = f"pod {self.namespace}/{name} did not run: {last}"
                return False
            time.sleep(self.poll)
        res.error = (
            "interrupted"
            if self.stop.is_set()
            else f"pod {self.namespace}/{name} not running after {self.timeout:.0f} s ({last})"
        )
        return False

    def _exec(self, pod: str, argv: tuple[str, ...], deadline: float) -> _Exec:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException
        from kubernetes.stream import stream

        # stream() swaps the ApiClient's request method while it runs: one client per exec,
        # closed when the exec is done.
        api = client.ApiClient(self.api.configuration)
        core = client.CoreV1Api(api)
        try:
            try:
                resp = stream(
                    core.connect_get_namespaced_pod_exec,
                    pod,
                    self.namespace,
                    container=CONTAINER,
                    command=list(argv),
                    stdout=True,
                    stderr=True,
                    stdin=False,
                    tty=False,
                    binary=True,
                    _preload_content=False,
                )
            except ApiException as exc:
                msg = _api_message(exc)
                # a refused WebSocket handshake is status 0 with the handshake text
                if exc.status == 403 or "Handshake status 403" in msg:
                    raise _forbidden(exc, "create", "pods/exec", self.namespace) from exc
                return _Exec(b"", b"", None, f"could not start: {msg}")
            out: list[bytes] = []
            err: list[bytes] = []
            try:
                while resp.is_open():
                    left = deadline - time.monotonic()
                    if left <= 0 or self.stop.is_set():
                        return _Exec(
                            b"".join(out),
                            b"".join(err),
                            None,
                            "interrupted" if self.stop.is_set() else "timed out",
                        )
                    resp.update(timeout=min(1.0, left))
                    out.append(resp.read_stdout(timeout=0) or b"")
                    err.append(resp.read_stderr(timeout=0) or b"")
                out.append(resp.read_stdout(timeout=0) or b"")
                err.append(resp.read_stderr(timeout=0) or b"")
                raw = resp.read_channel(3) or b""
            finally:
                with contextlib.suppress(Exception):
                    resp.close()
            return _Exec(b"".join(out), b"".join(err), *_status(raw))
        finally:
            api.close()  # type: ignore[no-untyped-call]

    # ------------------------------------------------------------------ cleanup

    def _delete_created(self) -> list[str]:
        """Delete this run's Pods: each one created, then by label (a create whose
        answer was lost still made a Pod), listing and deleting one by one if
        ``deletecollection`` is refused. Returns why some may be left (nothing: all gone)."""
        from kubernetes.client.exceptions import ApiException

        core = self._core()
        with self._lock:
            names = list(self._created)
        for name in names:
            with contextlib.suppress(Exception):
                core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)
        try:
            core.delete_collection_namespaced_pod(
                self.namespace, label_selector=self.label_selector, grace_period_seconds=0
            )
            return []
        except Exception as exc:  # any failure: try one by one
            first = _api_message(exc) if isinstance(exc, ApiException) else str(exc)[:200]
        try:
            listed = _json(
                core.list_namespaced_pod(
                    self.namespace, label_selector=self.label_selector, _preload_content=False
                )
            )
            for p in listed.get("items") or ():
                name = str(_get(p, "metadata", "name"))
                try:
                    core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)
                except ApiException as exc:
                    if exc.status != 404:
                        raise
        except Exception as exc:  # reported, the caller shows it
            why = _api_message(exc) if isinstance(exc, ApiException) else str(exc)[:200]
            return [f"could not delete the pods by label ({first}; then {why})"]
        return []

    def cleanup(self, all_runs: bool = True) -> list[str]:
        """Delete collector Pods left by any run (or this one) in every namespace;
        returns ``namespace/name`` of each one deleted."""
        from kubernetes.client.exceptions import ApiException

        core = self._core()
        selector = RUN_LABEL if all_runs else self.label_selector
        try:
            pods = (
                _json(
                    core.list_pod_for_all_namespaces(
                        label_selector=selector, _preload_content=False
                    )
                ).get("items")
                or []
            )
        except ApiException as exc:
            if exc.status == 403:
                raise _forbidden(exc, "list", "pods", None) from exc
            raise SourceError(f"cannot list pods: {_api_message(exc)}") from exc
        gone: list[str] = []
        for p in pods:
            ns, name = str(_get(p, "metadata", "namespace")), str(_get(p, "metadata", "name"))
            try:
                core.delete_namespaced_pod(name, ns, grace_period_seconds=0)
            except ApiException as exc:
                if exc.status == 404:
                    continue
                if exc.status == 403:
                    raise _forbidden(exc, "delete", "pods", ns) from exc
                raise SourceError(f"cannot delete pod {ns}/{name}: {_api_message(exc)}") from exc
            gone.append(f"{ns}/{name}")
        return gone


def _json(resp: Any) -> dict[str, Any]:
    """The body of a ``_preload_content=False`` answer (the client's models are strict
    about fields a server may omit)."""
    data = json.loads(resp.data)
    return data if isinstance(data, dict) else {}


def _get(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def _status(raw: bytes | str) -> tuple[int | None, str | None]:
    """The exit code and error from the remotecommand v4 error channel's Status."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not text.strip():
        return None, "ended without a status"
    try:
        st = json.loads(text)
    except ValueError:
        return None, " ".join(text.split())[:200]
    if st.get("status") == "Success":
        return 0, None
    causes = (st.get("details") or {}).get("causes") or []
    for c in causes:
        if c.get("reason") == "ExitCode":
            with contextlib.suppress(ValueError, TypeError):
                return int(c.get("message")), None
    return None, "could not run: " + " ".join(str(st.get("message") or "").split())[:200]


def _default_device(routes: str) -> str | None:
    """The device of the main table's default route in ``ip route show table all``."""
    for line in routes.splitlines():
        words = line.split()
        if words[:1] == ["default"] and "table" not in words and "dev" in words:
            i = words.index("dev")
            if i + 1 < len(words) and re.fullmatch(r"[\w.@:-]{1,15}", words[i + 1]):
                return words[i + 1].split("@")[0]
    return None


def items_of(source: Any) -> Iterator[Any]:
    """The objects and problems of a source, for :meth:`Collector.write_manifests`."""
    yield from source.collect()
