"""Live probes: the agent run from the user's pod, a probe pod, or a DaemonSet.

Three ways to put :mod:`netsleuth.probe.agent` (standard library only, run
as ``python3 -c SOURCE PLAN``) into the cluster:

- ``ephemeral`` (default): an ephemeral debug container added to the source
  pod (``pods/ephemeralcontainers``), so the probe shares the pod's network
  namespace, its resolv.conf and its NetworkPolicy identity; its output is
  read from the container's log. Kubernetes cannot remove an ephemeral
  container: it exits when the agent is done and stays listed in the pod's
  spec until the pod is deleted;
- ``pod``: a short-lived pod on ``--node`` in the source's namespace
  (``sleep``, then the agent through ``pods/exec``), deleted afterwards. It has
  its own labels, so NetworkPolicies see it, not the source pod;
- ``daemonset``: a DaemonSet (a pod per node) and the agent exec'd in each,
  ``concurrency`` at a time, deleted afterwards: the same probe from every node.

Everything created carries ``app.kubernetes.io/managed-by: netsleuth`` and
``netsleuth.io/probe-run: <run id>``; :meth:`LiveRunner.cleanup` deletes it
by name and by that label, and the CLI calls it on exit and on Ctrl-C. Creates are sent
from a thread the caller waits for, so a Ctrl-C interrupts the wait, not the request:
the cleanup first waits (bounded) for a create still in flight, which would otherwise
take effect after its deletes.
``dry_run`` makes no change: it returns the objects it would create.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netsleuth.errors import NetsleuthError, SourceError

DEFAULT_IMAGE = "python:3.12-alpine"
MANAGED_BY = "app.kubernetes.io/managed-by"
RUN_LABEL = "netsleuth.io/probe-run"
AGENT_SOURCE = (Path(__file__).parent / "agent.py").read_text()
CREATE_GRACE = 10.0
"""Seconds :meth:`LiveRunner.cleanup` waits for a create request still in flight."""

Progress = Callable[[str], None]


class LiveProbeError(NetsleuthError):
    """A live probe could not be run (not created, never started, no output)."""


def _quiet(_: str) -> None:
    return None


def agent_command(plan: dict[str, Any]) -> list[str]:
    return ["python3", "-c", AGENT_SOURCE, json.dumps(plan, separators=(",", ":"))]


def api_client(kubeconfig: str | None, context: str | None) -> Any:
    """A client for the kubeconfig context (or the in-cluster service account)."""
    from kubernetes import client, config

    try:
        return config.new_client_from_config(config_file=kubeconfig, context=context)  # type: ignore[no-untyped-call]
    except config.ConfigException as e:
        if kubeconfig or context:
            raise SourceError(f"cannot load the kubeconfig: {e}") from e
        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        except config.ConfigException as e2:
            raise SourceError(f"no kubeconfig and not in a cluster: {e2}") from e2
        return client.ApiClient()


def parse_output(text: str, where: str) -> dict[str, Any]:
    """The agent prints one JSON object on its last line."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                out = json.loads(line)
            except ValueError:
                break
            if isinstance(out, dict):
                return out
    raise LiveProbeError(
        f"the probe in {where} printed no result: {text.strip()[-300:] or 'no output'}",
        tip="the image needs python3 (--image); the pod needs egress to the targets",
    )


@dataclass(slots=True)
class LiveRunner:
    client: Any
    image: str = DEFAULT_IMAGE
    timeout: float = 120.0
    poll: float = 0.5
    concurrency: int = 4
    dry_run: bool = False
    progress: Progress = _quiet
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    created: list[tuple[str, str, str]] = field(default_factory=list)
    """(kind, namespace, name) of what this run created and has not deleted yet."""
    planned: list[dict[str, Any]] = field(default_factory=list)
    """The objects a dry run would have created."""
    create_grace: float = CREATE_GRACE
    left_behind: list[str] = field(default_factory=list)
    """Why objects of this run may be left after :meth:`cleanup` (a create still
    unanswered, a Ctrl-C during the cleanup): for the caller to show."""
    creating: list[threading.Event] = field(default_factory=list)
    """One per create request sent, set once it is answered."""

    def _create(self, call: Callable[..., Any], *args: Any) -> None:
        """``call(*args)`` in a thread, waited for here in short slices: a Ctrl-C
        interrupts the wait, while the request (maybe already taking effect on the
        server) goes on; :meth:`cleanup` waits for it before deleting."""
        failed: list[BaseException] = []
        answered = threading.Event()  # not Thread.is_alive(): a join cut by Ctrl-C
        # marks the thread as stopped before Python 3.13

        def send() -> None:
            try:
                call(*args)
            except BaseException as exc:  # handed to the caller's thread
                failed.append(exc)
            finally:
                answered.set()

        self.creating.append(answered)
        threading.Thread(target=send, name="netsleuth-probe-create", daemon=True).start()
        while not answered.wait(0.2):
            pass
        self.creating.remove(answered)
        if failed:
            raise failed[0]

    @property
    def labels(self) -> dict[str, str]:
        return {
            MANAGED_BY: "netsleuth",
            RUN_LABEL: self.run_id,
            "app.kubernetes.io/name": "netsleuth-probe",
        }

    def _core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.client)

    def _apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(self.client)

    # ------------------------------------------------------------------ manifests

    def ephemeral_container(self, plan: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": f"netsleuth-probe-{self.run_id}",
            "image": self.image,
            "command": agent_command(plan),
            "imagePullPolicy": "IfNotPresent",
            # ICMP echo for the MTU sweep needs a raw socket
            "securityContext": {"capabilities": {"add": ["NET_RAW"]}},
        }

    def pod_manifest(self, namespace: str, node: str | None) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": int(self.timeout) + 60,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "probe",
                    "image": self.image,
                    "command": ["sleep", str(int(self.timeout) + 60)],
                    "securityContext": {"capabilities": {"add": ["NET_RAW"]}},
                }
            ],
        }
        if node:
            spec["nodeName"] = node
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"netsleuth-probe-{self.run_id}",
                "namespace": namespace,
                "labels": self.labels,
            },
            "spec": spec,
        }

    def daemonset_manifest(self, namespace: str) -> dict[str, Any]:
        pod = self.pod_manifest(namespace, None)
        spec = dict(pod["spec"])
        spec["restartPolicy"] = "Always"
        spec.pop("activeDeadlineSeconds", None)
        spec["tolerations"] = [{"operator": "Exists"}]
        return {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {
                "name": f"netsleuth-probe-{self.run_id}",
                "namespace": namespace,
                "labels": self.labels,
            },
            "spec": {
                "selector": {"matchLabels": {RUN_LABEL: self.run_id}},
                "template": {"metadata": {"labels": self.labels}, "spec": spec},
            },
        }

    # ------------------------------------------------------------------ ephemeral

    def ephemeral(self, namespace: str, pod: str, plan: dict[str, Any]) -> dict[str, Any]:
        ec = self.ephemeral_container(plan)
        if self.dry_run:
            self.planned.append(
                {"pods/ephemeralcontainers": f"{namespace}/{pod}", "ephemeralContainers": [ec]}
            )
            return {}
        core = self._core()
        self.progress(f"adding ephemeral container {ec['name']} to {namespace}/{pod}")
        core.patch_namespaced_pod_ephemeralcontainers(
            pod, namespace, {"spec": {"ephemeralContainers": [ec]}}
        )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            p = core.read_namespaced_pod(pod, namespace)
            st = next(
                (s for s in (p.status.ephemeral_container_statuses or []) if s.name == ec["name"]),
                None,
            )
            if st is not None and st.state is not None and st.state.terminated is not None:
                log = core.read_namespaced_pod_log(pod, namespace, container=ec["name"])
                return parse_output(log, f"{namespace}/{pod} ({ec['name']})")
            if st is not None and st.state is not None and st.state.waiting is not None:
                reason = st.state.waiting.reason or ""
                if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName"):
                    raise LiveProbeError(
                        f"the probe image {self.image} cannot be pulled ({reason})"
                    )
            time.sleep(self.poll)
        raise LiveProbeError(
            f"the ephemeral container in {namespace}/{pod} did not finish in {self.timeout:.0f} s"
        )

    # ------------------------------------------------------------------ pod / daemonset

    def _exec(self, namespace: str, pod: str, plan: dict[str, Any]) -> dict[str, Any]:
        from kubernetes import client
        from kubernetes.stream import stream

        # stream() swaps the ApiClient's request method while it runs: one client per
        # exec, or concurrent execs (and later plain calls) go through a websocket; closed
        # with the exec.
        api = client.ApiClient(self.client.configuration)
        chunks: list[str] = []
        try:
            out = stream(
                client.CoreV1Api(api).connect_get_namespaced_pod_exec,
                pod,
                namespace,
                container="probe",
                command=agent_command(plan),
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
                _preload_content=False,
            )
            try:
                deadline = time.monotonic() + self.timeout
                while out.is_open() and time.monotonic() < deadline:
                    out.update(timeout=1)
                    if out.peek_stdout():
                        chunks.append(out.read_stdout())
                    if out.peek_stderr():
                        out.read_stderr()
            finally:
                out.close()
        finally:
            api.close()  # type: ignore[no-untyped-call]
        return parse_output("".join(chunks), f"{namespace}/{pod}")

    def _wait_running(
        self, namespace: str, names: Callable[[], list[str]], want: int
    ) -> list[tuple[str, str]]:
        core = self._core()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            running = []
            for name in names():
                p = core.read_namespaced_pod(name, namespace)
                if p.status.phase == "Running":
                    running.append((name, p.spec.node_name or ""))
                elif p.status.phase in ("Failed", "Succeeded"):
                    raise LiveProbeError(
                        f"probe pod {namespace}/{name} ended: {p.status.reason or p.status.phase}"
                    )
            if len(running) >= want and want > 0:
                return running
            time.sleep(self.poll)
        raise LiveProbeError(
            f"probe pods in {namespace} not running after {self.timeout:.0f} s",
            tip="kubectl get pods -n " + namespace + " -l " + f"{RUN_LABEL}={self.run_id}",
        )

    def probe_pod(self, namespace: str, node: str | None, plan: dict[str, Any]) -> dict[str, Any]:
        manifest = self.pod_manifest(namespace, node)
        if self.dry_run:
            self.planned.append(manifest)
            return {}
        core = self._core()
        name = manifest["metadata"]["name"]
        self.progress(f"creating probe pod {namespace}/{name}")
        # recorded first: a Ctrl-C between the server's create and its answer still cleans up
        self.created.append(("Pod", namespace, name))
        self._create(core.create_namespaced_pod, namespace, manifest)
        self._wait_running(namespace, lambda: [name], 1)
        return self._exec(namespace, name, plan)

    def daemonset(
        self, namespace: str, plan_for_node: Callable[[str], dict[str, Any]], nodes: int
    ) -> dict[str, dict[str, Any]]:
        manifest = self.daemonset_manifest(namespace)
        if self.dry_run:
            self.planned.append(manifest)
            return {}
        core, apps = self._core(), self._apps()
        name = manifest["metadata"]["name"]
        self.progress(f"creating DaemonSet {namespace}/{name}")
        self.created.append(("DaemonSet", namespace, name))
        self._create(apps.create_namespaced_daemon_set, namespace, manifest)

        def pod_names() -> list[str]:
            pods = core.list_namespaced_pod(namespace, label_selector=f"{RUN_LABEL}={self.run_id}")
            return [p.metadata.name for p in pods.items if p.metadata.deletion_timestamp is None]

        running = self._wait_running(namespace, pod_names, nodes)
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            futures = {
                node: pool.submit(self._exec, namespace, pod, plan_for_node(node))
                for pod, node in running
            }
            return {node: f.result() for node, f in futures.items()}

    # ------------------------------------------------------------------ cleanup

    def cleanup(self) -> list[str]:
        """Delete what this run created (by name, then by its label), once the creates in
        flight are answered (at most :attr:`create_grace` seconds). A Ctrl-C here cuts the
        wait short, not the deletes; it is raised again once they are done, and what may
        be left is in :attr:`left_behind`. Safe to call twice."""
        if self.dry_run:
            return []
        interrupted = False
        end = time.monotonic() + self.create_grace
        try:
            for answered in list(self.creating):
                answered.wait(max(0.0, end - time.monotonic()))
        except KeyboardInterrupt:
            interrupted = True
        unanswered = sum(not answered.is_set() for answered in self.creating)
        if unanswered:
            why = "interrupted while waiting for" if interrupted else "no answer yet to"
            self.left_behind.append(
                f"{why} {unanswered} create request{'s' if unanswered != 1 else ''}"
                f"{'' if interrupted else f' after {self.create_grace:g} s'}"
            )
        try:
            removed = self._delete()
        except KeyboardInterrupt:
            self.left_behind.append("interrupted while deleting")
            raise
        if interrupted:
            raise KeyboardInterrupt
        return removed

    def _delete(self) -> list[str]:
        from kubernetes.client.exceptions import ApiException

        core, apps = self._core(), self._apps()
        removed: list[str] = []
        namespaces = {ns for _, ns, _ in self.created}
        for kind, ns, name in reversed(self.created):
            try:
                if kind == "Pod":
                    core.delete_namespaced_pod(name, ns, grace_period_seconds=0)
                else:
                    apps.delete_namespaced_daemon_set(name, ns, propagation_policy="Foreground")
                removed.append(f"{kind}/{ns}/{name}")
            except ApiException as e:
                if e.status != 404:
                    raise
        for ns in namespaces:
            # the DaemonSet's pods (garbage collection may lag) and anything a crash left
            with_label = f"{RUN_LABEL}={self.run_id}"
            core.delete_collection_namespaced_pod(
                ns, label_selector=with_label, grace_period_seconds=0
            )
        self.created.clear()
        return removed
