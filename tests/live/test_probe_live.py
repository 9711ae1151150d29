"""Live probes against the fake API server: ephemeral container, probe pod, DaemonSet.

The fake kubelet runs what the probe asks for through an exec handler. Without
root the agent runs on this host and probes only 127.0.0.1 (a listener the
test opens); with root, a lab stands in for the cluster's network and the
handler runs each container in its pod's namespace (``ip netns exec``), so the
probe's packets are real.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import SCENARIOS
from live.apiserver import ExecCall, FakeApiServer, subprocess_exec
from live.conftest import write_kubeconfig
from netsleuth.cli import app
from netsleuth.probe.live import RUN_LABEL

SCEN = SCENARIOS / "healthy-cross-node"
SRC_POD = ("checkout", "checkout-web-hssnfxrrmd-4z64w")


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP listener on 127.0.0.1 that answers like the lab's responder."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.sendall(b"netsleuth-lab test/listener tcp\n")
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    srv.close()


def _server(tmp_path: Path, **knobs: Any) -> FakeApiServer:
    data = tmp_path / "cluster"
    data.mkdir()
    (data / "cluster.yaml").write_text((SCEN / "cluster.yaml").read_text())
    srv = FakeApiServer(objects_dir=data, exec_handler=subprocess_exec(), **knobs)
    srv.start()
    return srv


def _kubeconfig(tmp_path: Path, srv: FakeApiServer) -> str:
    return str(
        write_kubeconfig(
            tmp_path / "kubeconfig", srv.url, {"admin": "admin-token"}, current="admin"
        )
    )


def _probe_pods(srv: FakeApiServer) -> list[dict[str, Any]]:
    return [
        p
        for p in srv.store.get(("", "pods"), [])
        if RUN_LABEL in (p["metadata"].get("labels") or {})
    ]


def _run(tmp_path: Path, srv: FakeApiServer, *args: str) -> Any:
    kc = _kubeconfig(tmp_path, srv)
    return CliRunner().invoke(app, ["probe", *args, "--kubeconfig", kc, "-o", "json"])


def test_ephemeral_container(tmp_path: Path, listener: int) -> None:
    srv = _server(tmp_path)
    try:
        r = _run(
            tmp_path, srv, "/".join(SRC_POD), "127.0.0.1", "--port", str(listener), "--timeout", "1"
        )
        assert r.exit_code == 0, r.output
        doc = json.loads(r.output)
        assert doc["backend"] == "live, ephemeral container in checkout/" + SRC_POD[1]
        hop = next(h for h in doc["hops"] if h["hop"] == "ip")
        assert hop["verdict"] == "ok" and "connected 1/1" in hop["observed"]
        pod = next(p for p in srv.store[("", "pods")] if p["metadata"]["name"] == SRC_POD[1])
        (ec,) = pod["spec"]["ephemeralContainers"]
        assert ec["name"].startswith("netsleuth-probe-") and ec["command"][:2] == ["python3", "-c"]
        (st,) = pod["status"]["ephemeralContainerStatuses"]
        assert st["state"]["terminated"]["exitCode"] == 0
        patches = [q for q in srv.requests if q.method == "PATCH"]
        assert len(patches) == 1 and patches[0].path.endswith("/ephemeralcontainers")
    finally:
        srv.stop()


def test_dry_run_changes_nothing(tmp_path: Path, listener: int) -> None:
    srv = _server(tmp_path)
    try:
        for via in ("ephemeral", "pod", "daemonset"):
            r = _run(
                tmp_path,
                srv,
                "/".join(SRC_POD),
                "127.0.0.1",
                "--port",
                str(listener),
                "--via",
                via,
                "--dry-run",
            )
            assert r.exit_code == 0, r.output
            doc = json.loads(r.output)
            assert doc["dry_run"] is True and len(doc["would_create"]) == 1
        assert not [q for q in srv.requests if q.method in ("POST", "PATCH", "DELETE")]
        assert not _probe_pods(srv)
    finally:
        srv.stop()


def test_probe_pod_created_labelled_removed(tmp_path: Path, listener: int) -> None:
    srv = _server(tmp_path, exec_v5=True)
    try:
        r = _run(
            tmp_path,
            srv,
            "/".join(SRC_POD),
            "127.0.0.1",
            "--port",
            str(listener),
            "--via",
            "pod",
            "--node",
            "worker-2",
        )
        assert r.exit_code == 0, r.output
        assert "connected 1/1" in r.output
        posts = [q for q in srv.requests if q.method == "POST" and q.path.endswith("/pods")]
        assert len(posts) == 1
        created = json.loads(posts[0].body)
        assert created["spec"]["nodeName"] == "worker-2"
        assert created["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "netsleuth"
        assert [q for q in srv.requests if q.path.endswith("/exec")]
        assert not _probe_pods(srv)  # deleted on exit
    finally:
        srv.stop()


def test_daemonset_every_node_then_removed(tmp_path: Path, listener: int) -> None:
    srv = _server(tmp_path)
    try:
        r = _run(
            tmp_path,
            srv,
            "/".join(SRC_POD),
            "127.0.0.1",
            "--port",
            str(listener),
            "--via",
            "daemonset",
            "--concurrency",
            "2",
        )
        assert r.exit_code == 0, r.output
        docs = json.loads(r.output)
        assert sorted(d["backend"] for d in docs) == [
            f"live, DaemonSet pod on node {n}" for n in ("cp-1", "worker-1", "worker-2")
        ]
        assert all(d["verdict"] == "ok" for d in docs)
        assert len([q for q in srv.requests if q.path.endswith("/exec")]) == 3
        assert not [
            d
            for d in srv.store.get(("apps", "daemonsets"), [])
            if RUN_LABEL in d["metadata"].get("labels", {})
        ]
        with srv._lock:
            srv._kubelet()
        assert not _probe_pods(srv)
    finally:
        srv.stop()


def test_ctrl_c_removes_the_probe_pod(tmp_path: Path) -> None:
    # the node never starts containers: the CLI waits, and is interrupted
    srv = _server(tmp_path, stuck_nodes={"worker-2"})
    try:
        kc = _kubeconfig(tmp_path, srv)
        proc = subprocess.Popen(
            [sys.executable, "-m", "netsleuth.cli", "probe", "/".join(SRC_POD), "127.0.0.1", "--port", "9",
             "--via", "pod", "--node", "worker-2", "--kubeconfig", kc, "--wait", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not _probe_pods(srv) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _probe_pods(srv), "the probe pod was never created"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert proc.returncode != 0
        assert not [p for p in _probe_pods(srv) if "deletionTimestamp" not in p["metadata"]]
        assert [q for q in srv.requests if q.method == "DELETE"]
    finally:
        srv.stop()


def test_ctrl_c_while_the_probe_pod_create_is_in_flight_leaves_no_pod(tmp_path: Path) -> None:
    """SIGINT while the create request is on its way, and the server makes the Pod only
    once the cleanup has sent its delete by label (or after 1 s): deleting without waiting
    for the create's answer runs before the Pod exists and leaves it behind."""
    arrived = threading.Event()
    cleanup_began = threading.Event()

    def hold(req: Any) -> None:
        if req.method == "DELETE" and req.path.endswith("/pods"):
            cleanup_began.set()
        elif req.method == "POST" and req.path.endswith("/pods"):
            arrived.set()
            cleanup_began.wait(1.0)

    srv = _server(tmp_path, stuck_nodes={"worker-2"}, before_route=hold)
    try:
        kc = _kubeconfig(tmp_path, srv)
        proc = subprocess.Popen(
            [sys.executable, "-m", "netsleuth.cli", "probe", "/".join(SRC_POD), "127.0.0.1", "--port", "9",
             "--via", "pod", "--node", "worker-2", "--kubeconfig", kc, "--wait", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        assert arrived.wait(30), "the probe pod was never asked for"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode != 0
        end = time.monotonic() + 10  # the server may still be making the Pod
        posts = [q for q in srv.requests if q.method == "POST" and q.path.endswith("/pods")]
        while any(q.status is None for q in posts) and time.monotonic() < end:
            time.sleep(0.05)
        assert not [p for p in _probe_pods(srv) if "deletionTimestamp" not in p["metadata"]]
        assert b"may be left" not in err
    finally:
        srv.stop()


@pytest.mark.root
def test_ephemeral_probe_in_a_lab(tmp_path: Path) -> None:
    """The fake cluster's pods are a lab's pods: the ephemeral container runs in the
    source pod's network namespace and its packets are real."""
    from lab.labtools import assert_clean, need_root, new_lab_name
    from netsleuth.lab import build, names
    from netsleuth.sources.load import load_offline

    need_root()
    lab = new_lab_name()
    build.up(load_offline([str(SCEN)]), lab, paths=[str(SCEN)])
    try:

        def in_pod(call: ExecCall) -> list[str]:
            meta = call.pod["metadata"]
            return ["ip", "netns", "exec", names.pod_netns(lab, meta["namespace"], meta["name"])]

        data = tmp_path / "cluster"
        data.mkdir()
        (data / "cluster.yaml").write_text((SCEN / "cluster.yaml").read_text())
        srv = FakeApiServer(objects_dir=data, exec_handler=subprocess_exec(in_pod))
        srv.start()
        try:
            r = _run(
                tmp_path,
                srv,
                "checkout/checkout-web",
                "payments/payments-api",
                "--port",
                "8080",
                "--timeout",
                "0.5",
            )
            assert r.exit_code == 0, r.output
            doc = json.loads(r.output)
            by = {h["hop"]: h for h in doc["hops"]}
            assert (
                by["dns"]["verdict"] == "ok"
                and "payments-api.payments.svc.cluster.local" in by["dns"]["observed"]
            )
            assert by["service"]["verdict"] == "ok" and "connected 6/6" in by["service"]["observed"]
        finally:
            srv.stop()
    finally:
        build.down(lab)
        assert_clean(lab)
    assert os.geteuid() == 0


def test_the_api_client_is_closed(
    tmp_path: Path, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client a live probe opens is closed after its cleanup, on success and on error."""
    from netsleuth.probe import live

    opened: list[Any] = []
    closed: list[Any] = []
    original = live.api_client

    def tracked(kubeconfig: str | None, context: str | None) -> Any:
        api = original(kubeconfig, context)
        opened.append(api)
        real_close = api.close

        def close() -> None:
            closed.append(api)
            real_close()

        api.close = close
        return api

    monkeypatch.setattr(live, "api_client", tracked)
    srv = _server(tmp_path, stuck_nodes={"worker-2"})
    try:
        ok = _run(tmp_path, srv, "/".join(SRC_POD), "127.0.0.1", "--port", str(listener))
        assert ok.exit_code == 0, ok.output
        # the probe pod never starts: the wait ends in an error, the pod is deleted
        failed = _run(
            tmp_path, srv, "/".join(SRC_POD), "127.0.0.1", "--port", "9",
            "--via", "pod", "--node", "worker-2", "--wait", "1",
        )  # fmt: skip
        assert failed.exit_code != 0
    finally:
        srv.stop()
    assert len(opened) == 2 and sorted(map(id, opened)) == sorted(map(id, closed))
