"""The fake API server's writes, kubelet, ``pods/exec`` and ``pods/log``, driven by the
official kubernetes client (its ``stream()`` for exec) and, for the wire details, by a raw
WebSocket client: what a client of the real server sees, not what netsleuth sends."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websocket
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from live.apiserver import ExecCall, FakeApiServer, subprocess_exec

Server = Callable[..., FakeApiServer]


def core(srv: FakeApiServer, token: str = "admin-token") -> client.CoreV1Api:
    cfg = client.Configuration()
    cfg.host = srv.url
    cfg.api_key = {"authorization": token}
    cfg.api_key_prefix = {"authorization": "Bearer"}
    return client.CoreV1Api(client.ApiClient(cfg))


def debug_pod(node: str, name: str | None = None, image: str = "debian:12") -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": {"netsleuth.io/run": "r1"}}
    meta.update({"name": name} if name else {"generateName": "netsleuth-collect-"})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "nodeName": node,
            "hostNetwork": True,
            "hostPID": True,
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "collect",
                    "image": image,
                    "command": ["sleep", "600"],
                    "securityContext": {"privileged": True},
                }
            ],
        },
    }


@pytest.fixture
def running(apiserver: Server) -> Iterator[tuple[FakeApiServer, client.CoreV1Api, str]]:
    srv = apiserver(exec_handler=subprocess_exec())
    api = core(srv)
    pod = api.create_namespaced_pod("default", debug_pod("worker-1"))
    yield srv, api, pod.metadata.name


def test_create_generates_a_name_and_the_kubelet_runs_the_pod(apiserver: Server) -> None:
    srv = apiserver(pod_start_delay=0.2)
    api = core(srv)
    pod = api.create_namespaced_pod("default", debug_pod("worker-1"))
    assert pod.metadata.name.startswith("netsleuth-collect-") and len(pod.metadata.name) == 23
    assert pod.status.phase == "Pending" and pod.metadata.uid
    time.sleep(0.25)
    pod = api.read_namespaced_pod(pod.metadata.name, "default")
    assert pod.status.phase == "Running"
    # hostNetwork: the pod IP is the node's InternalIP (tests/live/data: worker-1 10.0.0.11).
    assert pod.status.host_ip == pod.status.pod_ip == "10.0.0.11"
    assert pod.status.container_statuses[0].ready is True
    listed = api.list_pod_for_all_namespaces(label_selector="netsleuth.io/run=r1")
    assert [p.metadata.name for p in listed.items] == [pod.metadata.name]


def test_create_errors_are_the_real_ones(apiserver: Server) -> None:
    srv = apiserver()
    api = core(srv)
    api.create_namespaced_pod("default", debug_pod("worker-1", name="fixed"))
    with pytest.raises(ApiException) as err:
        api.create_namespaced_pod("default", debug_pod("worker-1", name="fixed"))
    assert err.value.status == 409 and json.loads(err.value.body)["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as err:
        api.create_namespaced_pod("nope", debug_pod("worker-1"))
    assert err.value.status == 404
    assert json.loads(err.value.body)["message"] == 'namespaces "nope" not found'
    bad = debug_pod("worker-1", name="noimage")
    del bad["spec"]["containers"][0]["image"]
    with pytest.raises(ApiException) as err:
        api.create_namespaced_pod("default", bad)
    body = json.loads(err.value.body)
    assert err.value.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "spec.containers[0].image"
    # Server-side dry run: validated, admitted, not stored.
    api.create_namespaced_pod("default", debug_pod("worker-1", name="dry"), dry_run="All")
    with pytest.raises(ApiException) as err:
        api.read_namespaced_pod("dry", "default")
    assert err.value.status == 404


def test_pod_security_admission_refuses_a_privileged_host_pod(apiserver: Server) -> None:
    srv = apiserver()
    srv.add(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "locked",
                "labels": {"pod-security.kubernetes.io/enforce": "baseline"},
            },
        }
    )
    with pytest.raises(ApiException) as err:
        core(srv).create_namespaced_pod("locked", debug_pod("worker-1", name="x"))
    assert err.value.status == 403
    assert json.loads(err.value.body)["message"] == (
        'pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces '
        '(hostNetwork=true, hostPID=true), privileged (container "collect" must not set '
        "securityContext.privileged=true)"
    )


def test_rbac_per_verb_and_subresource(apiserver: Server) -> None:
    srv = apiserver(denied_verbs={"pods": {"create"}, "pods/exec": {"create"}})
    viewer = core(srv, "viewer-token")
    with pytest.raises(ApiException) as err:
        viewer.create_namespaced_pod("default", debug_pod("worker-1"))
    assert err.value.status == 403
    assert json.loads(err.value.body)["message"] == (
        'pods is forbidden: User "system:serviceaccount:default:viewer" cannot create resource '
        '"pods" in API group "" in the namespace "default"'
    )
    pod = core(srv).create_namespaced_pod("default", debug_pod("worker-1"))
    with pytest.raises(ApiException) as err:
        stream(
            viewer.connect_get_namespaced_pod_exec,
            pod.metadata.name,
            "default",
            command=["true"],
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
        )
    # The client turns a refused WebSocket handshake into status 0 with the handshake text.
    assert err.value.status == 0 and "Handshake status 403 Forbidden" in str(err.value.reason)
    assert 'cannot create resource \\"pods/exec\\"' in str(err.value.reason)
    # The admin is not restricted.
    core(srv).delete_namespaced_pod(pod.metadata.name, "default")


def test_exec_streams_stdout_stderr_and_the_exit_status(
    running: tuple[FakeApiServer, client.CoreV1Api, str],
) -> None:
    srv, api, name = running
    resp = stream(
        api.connect_get_namespaced_pod_exec,
        name,
        "default",
        command=["sh", "-c", "echo out; echo err >&2; exit 3"],
        stdout=True,
        stderr=True,
        stdin=False,
        tty=False,
        _preload_content=False,
    )
    resp.run_forever(timeout=10)
    assert resp.read_stdout() == "out\n" and resp.read_stderr() == "err\n"
    assert resp.returncode == 3
    assert resp.subprotocol == "v4.channel.k8s.io"
    ok = stream(
        api.connect_get_namespaced_pod_exec,
        name,
        "default",
        command=["echo", "hello"],
        stdout=True,
        stderr=True,
        stdin=False,
        tty=False,
    )
    assert ok == "hello\n"
    exec_req = next(r for r in srv.requests if r.path.endswith("/exec"))
    assert exec_req.query["command"] == ["sh", "-c", "echo out; echo err >&2; exit 3"]


def test_exec_large_binary_output_arrives_whole(
    running: tuple[FakeApiServer, client.CoreV1Api, str],
) -> None:
    _, api, name = running
    resp = stream(
        api.connect_get_namespaced_pod_exec,
        name,
        "default",
        command=["head", "-c", "3000000", "/dev/urandom"],
        stdout=True,
        stderr=True,
        stdin=False,
        tty=False,
        binary=True,
        _preload_content=False,
    )
    out = b""
    while resp.is_open():
        resp.update(timeout=5)
        out += resp.read_stdout() or b""
    out += resp.read_stdout() or b""
    assert len(out) == 3_000_000 and resp.returncode == 0


def test_exec_of_a_missing_executable_is_an_internal_error(
    running: tuple[FakeApiServer, client.CoreV1Api, str],
) -> None:
    _, api, name = running
    resp = stream(
        api.connect_get_namespaced_pod_exec,
        name,
        "default",
        command=["no-such-tool-nsnodeev"],
        stdout=True,
        stderr=True,
        stdin=False,
        tty=False,
        _preload_content=False,
    )
    resp.run_forever(timeout=10)
    err = json.loads(resp.read_channel(3))
    assert err["reason"] == "InternalError" and err["code"] == 500
    assert "executable file not found in $PATH" in err["message"]


def test_exec_stdin_and_v5_close(apiserver: Server) -> None:
    srv = apiserver(exec_handler=subprocess_exec(), exec_v5=True)
    api = core(srv)
    name = api.create_namespaced_pod("default", debug_pod("worker-1")).metadata.name
    resp = stream(
        api.connect_get_namespaced_pod_exec,
        name,
        "default",
        command=["cat"],
        stdout=True,
        stderr=True,
        stdin=True,
        tty=False,
        _preload_content=False,
    )
    assert resp.subprotocol == "v5.channel.k8s.io"  # the client offers v5 first
    resp.write_stdin("through stdin\n")
    resp.close_channel(0)  # v5: stdin EOF without closing the connection
    resp.run_forever(timeout=10)
    assert resp.read_stdout() == "through stdin\n" and resp.returncode == 0


def test_exec_wire_protocol(running: tuple[FakeApiServer, client.CoreV1Api, str]) -> None:
    srv, _, name = running
    url = srv.url.replace("http", "ws") + f"/api/v1/namespaces/default/pods/{name}/exec"
    ws = websocket.create_connection(
        url + "?command=echo&command=hi&stdout=true&stderr=true",
        header=["Authorization: Bearer admin-token"],
        subprotocols=["v4.channel.k8s.io"],
    )
    frames = []
    while True:
        op, data = ws.recv_data()
        if op == websocket.ABNF.OPCODE_CLOSE:
            break
        frames.append(data)
    # The kubelet opens with an empty message on the lowest output channel.
    assert frames[0] == b"\x01"
    assert b"".join(f[1:] for f in frames if f[:1] == b"\x01") == b"hi\n"
    assert json.loads(frames[-1][1:]) == {"metadata": {}, "status": "Success"}
    with pytest.raises(websocket.WebSocketBadStatusException) as bad:
        websocket.create_connection(
            url + "?command=echo&stdout=true",
            header=["Authorization: Bearer admin-token"],
            subprotocols=["channel.k8s.io"],
        )
    assert bad.value.status_code == 400


def test_exec_refused_before_the_container_runs(apiserver: Server) -> None:
    srv = apiserver(stuck_nodes={"worker-2"})
    api = core(srv)
    name = api.create_namespaced_pod("default", debug_pod("worker-2")).metadata.name
    pod = api.read_namespaced_pod(name, "default")
    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
    with pytest.raises(ApiException) as err:
        stream(
            api.connect_get_namespaced_pod_exec,
            name,
            "default",
            command=["true"],
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
        )
    assert err.value.status == 0 and "Handshake status 500" in str(err.value.reason)
    assert 'container not found ("collect")' in str(err.value.reason)
    ghost = api.create_namespaced_pod("default", debug_pod("no-such-node")).metadata.name
    assert api.read_namespaced_pod(ghost, "default").status.phase == "Pending"


def test_the_handler_sees_the_pod_and_its_node(apiserver: Server) -> None:
    seen: list[tuple[str, str, list[str]]] = []

    def handler(call: ExecCall) -> int:
        seen.append((call.node, call.container, call.command))
        call.write_stdout(f"on {call.node}\n".encode())
        return 0

    srv = apiserver(exec_handler=handler)
    api = core(srv)
    name = api.create_namespaced_pod("default", debug_pod("worker-2")).metadata.name
    out = stream(
        api.connect_get_namespaced_pod_exec,
        name,
        "default",
        command=["ip", "route"],
        stdout=True,
        stderr=True,
        stdin=False,
        tty=False,
    )
    assert out == "on worker-2\n" and seen == [("worker-2", "collect", ["ip", "route"])]


def test_logs(apiserver: Server) -> None:
    srv = apiserver()
    api = core(srv)
    pod = debug_pod("worker-1", name="two")
    pod["spec"]["containers"].append({"name": "side", "image": "busybox"})
    api.create_namespaced_pod("default", pod)
    srv.logs[("default", "two", "side")] = [
        ("2024-05-01T10:00:00.000000001Z", "first"),
        ("2024-05-01T10:00:01.000000001Z", "second"),
    ]
    with pytest.raises(ApiException) as err:
        api.read_namespaced_pod_log("two", "default")
    assert "a container name must be specified for pod two" in json.loads(err.value.body)["message"]
    assert api.read_namespaced_pod_log("two", "default", container="side") == "first\nsecond\n"
    assert (
        api.read_namespaced_pod_log(
            "two", "default", container="side", tail_lines=1, timestamps=True
        )
        == "2024-05-01T10:00:01.000000001Z second\n"
    )
    with pytest.raises(ApiException) as err:
        api.read_namespaced_pod_log("two", "default", container="nope")
    assert err.value.status == 400


def test_delete_keeps_a_terminating_pod_then_removes_it(apiserver: Server) -> None:
    srv = apiserver(pod_termination_delay=0.2)
    api = core(srv)
    name = api.create_namespaced_pod("default", debug_pod("worker-1")).metadata.name
    api.delete_namespaced_pod(name, "default")
    pod = api.read_namespaced_pod(name, "default")
    assert pod.metadata.deletion_timestamp is not None
    assert pod.metadata.deletion_grace_period_seconds == 30
    time.sleep(0.25)
    with pytest.raises(ApiException) as err:
        api.read_namespaced_pod(name, "default")
    assert err.value.status == 404
    with pytest.raises(ApiException) as err:
        api.delete_namespaced_pod(name, "default")
    assert err.value.status == 404


def test_delete_collection_by_label(apiserver: Server) -> None:
    srv = apiserver()
    api = core(srv)
    for node in ("worker-1", "worker-2"):
        api.create_namespaced_pod("default", debug_pod(node))
    api.create_namespaced_pod("default", {**debug_pod("worker-1"), "metadata": {"name": "other"}})
    # The server answers the list of what it deleted (the client's model says V1Status).
    raw = api.delete_collection_namespaced_pod(
        "default", label_selector="netsleuth.io/run=r1", _preload_content=False
    )
    gone = json.loads(raw.data)
    assert gone["kind"] == "PodList" and len(gone["items"]) == 2
    assert [p.metadata.name for p in api.list_namespaced_pod("default").items] == ["other"]
