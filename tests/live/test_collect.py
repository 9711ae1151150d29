"""``netsleuth collect`` against the fake API server: the official client creates the Pods,
runs the command list over the ``pods/exec`` WebSocket channel protocol, and deletes the
Pods afterwards, also on error and Ctrl-C. The container runtime answers each command with
the real output captured in a test netns (``tests/node_artifacts/data/netns``) or, for the
tools this machine cannot run, the documented captures."""

from __future__ import annotations

import _thread
import shlex
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from live.apiserver import ExecCall, FakeApiServer, Request
from netsleuth.cli import app
from netsleuth.cli.errors import run_app
from netsleuth.model.node_artifacts import EvidenceKind as K
from netsleuth.sources.collect import RUN_LABEL
from netsleuth.sources.load import load_offline
from netsleuth.sources.node_commands import COMMANDS

Server = Callable[..., FakeApiServer]
DATA = Path(__file__).resolve().parents[1] / "node_artifacts" / "data"
OTHER = {"ipvsadm": "documented/ipvsadm-Ln.txt", "lsmod": "documented/lsmod.txt"}


def _body(path: Path) -> bytes:
    text = path.read_text()
    return (text.split("\n", 1)[1] if text.startswith("$ ") else text).encode()


def captured(call: ExecCall) -> int:
    """The runtime: the captured output of the command, by the command list's slug."""
    for c in COMMANDS:
        if list(c.resolved("/host")) == call.command:
            slug = c.slug
            break
    else:
        if call.command[:2] == ["ethtool", "-S"]:
            slug = "ethtool-S"
        else:
            call.write_stderr(b"unexpected command\n")
            return 127
    if slug == "dmesg":
        call.write_stdout(_body(DATA / "documented" / "dmesg.txt"))
        return 0
    path = DATA / OTHER.get(slug, f"netns/{slug}.txt")
    if not path.exists():
        call.write_stderr(b"no such capture\n")
        return 1
    call.write_stdout(_body(path))
    return 0


def cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
    return run_app(app)


def core(srv: FakeApiServer) -> client.CoreV1Api:
    cfg = client.Configuration()
    cfg.host = srv.url
    cfg.api_key = {"authorization": "admin-token"}
    cfg.api_key_prefix = {"authorization": "Bearer"}
    return client.CoreV1Api(client.ApiClient(cfg))


def leftovers(srv: FakeApiServer) -> list[str]:
    return [
        p.metadata.name
        for p in core(srv).list_pod_for_all_namespaces(label_selector=RUN_LABEL).items
    ]


def created_pods(srv: FakeApiServer) -> list[Request]:
    return [r for r in srv.requests if r.method == "POST" and r.path.endswith("/pods")]


def test_collect_writes_manifests_and_node_files_then_deletes_its_pods(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    srv = apiserver(exec_handler=captured, pod_start_delay=0.1)
    out = tmp_path / "bundle"
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(out),
        "--nodes", "worker-1,worker-2",
    )  # fmt: skip
    err = capsys.readouterr()
    assert code == 0, err.err
    assert leftovers(srv) == []
    posts = created_pods(srv)
    assert len(posts) == 2
    import json

    for r in posts:
        pod = json.loads(r.body)
        spec = pod["spec"]
        assert spec["hostNetwork"] is spec["hostPID"] is True
        assert spec["containers"][0]["securityContext"] == {"privileged": True}
        assert spec["volumes"][0]["hostPath"]["path"] == "/"
        assert spec["containers"][0]["volumeMounts"][0]["readOnly"] is True
        assert pod["metadata"]["labels"][RUN_LABEL]
        assert spec["activeDeadlineSeconds"] >= 60
    assert sorted(json.loads(r.body)["spec"]["nodeName"] for r in posts) == ["worker-1", "worker-2"]
    model = load_offline([str(out)])
    assert {"worker-1", "worker-2"} <= set(model.node_artifacts)
    assert any(p.name.startswith("frontend-") for p in model.pods)  # the manifests
    art = model.node_artifacts["worker-1"]
    kinds = {e.kind for e in art.evidence}
    assert {K.IPTABLES_SAVE, K.IP_ROUTE, K.IP_LINK, K.CONNTRACK_STATS, K.SYSCTL, K.LSMOD} <= kinds
    assert {K.DMESG, K.ETHTOOL_STATS, K.IPVSADM, K.NFT_RULESET, K.HOST_LOCAL_IPAM} <= kinds
    # ethtool ran on the default route's device of the captured routes
    ethtool = [f for f in (out / "nodes" / "worker-1").iterdir() if "ethtool" in f.name]
    assert ethtool and ethtool[0].read_text().startswith("$ ethtool -S eth0  # at ")
    # nothing in the files went unrecognised
    assert [p.describe() for p in model.problems if "nodes" in str(p.origin)] == []


def test_ctrl_c_deletes_the_pods(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def interrupted(call: ExecCall) -> int:
        calls.append(call.node)
        if len(calls) == 3:
            _thread.interrupt_main()  # Ctrl-C in the middle of the run
        return captured(call)

    srv = apiserver(exec_handler=interrupted)
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(tmp_path / "o"),
        "--all-nodes", "--no-manifests",
    )  # fmt: skip
    assert code == 130
    assert len(created_pods(srv)) == 3  # cp-1, worker-1, worker-2
    assert leftovers(srv) == []


def _answered(srv: FakeApiServer) -> None:
    """Wait (bounded) until every pod create the server received has been answered: a
    worker thread of the interrupted run may still be waiting for one."""
    end = time.monotonic() + 10
    while any(r.status is None for r in created_pods(srv)) and time.monotonic() < end:
        time.sleep(0.05)


def _gone(srv: FakeApiServer) -> list[str]:
    """The run's pods left once the creates were answered and the workers had a moment
    to delete a pod answered late (bounded)."""
    _answered(srv)
    end = time.monotonic() + 10
    while (left := leftovers(srv)) and time.monotonic() < end:
        time.sleep(0.05)
    return left


def test_ctrl_c_while_a_pod_create_is_in_flight_leaves_no_pod(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C arrives while the creates are in flight, and the server makes each Pod only
    once the run's cleanup has sent a delete (or after 1 s): a cleanup that does not wait
    for the creates' answers deletes before the Pods exist and leaves them behind."""
    cleanup_began = threading.Event()
    lock = threading.Lock()
    pressed: list[Request] = []

    def hold(req: Request) -> None:
        if req.method == "DELETE" and "/pods" in req.path:
            cleanup_began.set()
        elif req.method == "POST" and req.path.endswith("/pods"):
            with lock:
                if not pressed:
                    pressed.append(req)
                    _thread.interrupt_main()  # Ctrl-C with the create on its way
            cleanup_began.wait(1.0)

    srv = apiserver(exec_handler=captured, before_route=hold)
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(tmp_path / "o"),
        "--all-nodes", "--no-manifests",
    )  # fmt: skip
    assert code == 130
    assert pressed
    _answered(srv)
    assert leftovers(srv) == []
    assert created_pods(srv)  # at least the one under way at Ctrl-C (answered 201)
    assert "may be left" not in capsys.readouterr().err  # nothing it could not make sure of


def test_a_second_ctrl_c_during_the_cleanup_says_what_may_be_left(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C with a create in flight, then Ctrl-C again while the cleanup waits for its
    answer: the cleanup still deletes what it knows of, says what may be left and prints
    the (quoted) commands that remove it; the Pod answered late is deleted by its worker."""
    from netsleuth.sources.collect import Collector

    runs: list[Collector] = []
    original = Collector.__init__

    def recorded(self: Collector, *a: Any, **kw: Any) -> None:
        original(self, *a, **kw)
        runs.append(self)

    monkeypatch.setattr(Collector, "__init__", recorded)
    cleanup_began = threading.Event()
    lock = threading.Lock()
    pressed: list[Request] = []

    def hold(req: Request) -> None:
        if req.method == "DELETE" and "/pods" in req.path:
            cleanup_began.set()
        elif req.method == "POST" and req.path.endswith("/pods"):
            with lock:
                if pressed:
                    return
                pressed.append(req)
            _thread.interrupt_main()
            end = time.monotonic() + 10
            while not (runs and runs[0].stop.is_set()) and time.monotonic() < end:
                time.sleep(0.01)
            _thread.interrupt_main()  # again, as the cleanup waits for this very create
            cleanup_began.wait(10)  # this Pod is made after the cleanup's deletes

    srv = apiserver(exec_handler=captured, before_route=hold)
    kc = kubeconfig(srv)
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kc, "-d", str(tmp_path / "o"),
        "--nodes", "worker-1", "--no-manifests",
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 130
    run_id = runs[0].run_id
    assert "interrupted while waiting for 1 pod create request" in err
    assert f"pods labelled {RUN_LABEL}={run_id} may be left in namespace default" in err
    assert f"netsleuth collect --cleanup --kubeconfig {shlex.quote(kc)}" in err
    assert f"kubectl --kubeconfig {shlex.quote(kc)} delete pods -n default -l " in err
    assert _gone(srv) == []


def test_a_node_whose_pod_never_runs_is_reported_and_cleaned(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    srv = apiserver(exec_handler=captured, stuck_nodes={"worker-2"})
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(tmp_path / "o"),
        "--nodes", "worker-1", "--nodes", "worker-2", "--timeout", "1s", "--no-manifests",
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 6
    assert "node worker-2: pod default/netsleuth-collect-" in err and "ContainerCreating" in err
    assert (tmp_path / "o" / "nodes" / "worker-1").is_dir()
    assert not (tmp_path / "o" / "nodes" / "worker-2").exists()
    assert not (tmp_path / "o" / "cluster.yaml").exists()
    assert leftovers(srv) == []


def test_rbac_refusal_names_the_verbs(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    srv = apiserver(denied_verbs={"pods": {"create"}})
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "--context", "viewer",
        "-d", str(tmp_path / "o"), "--nodes", "worker-1", "--no-manifests",
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 6
    assert err.splitlines() == [
        "error: forbidden: cannot create pods in namespace default as "
        "system:serviceaccount:default:viewer: node files not collected on worker-1; "
        "nothing else was asked (collect needs nodes: get, list; pods: create, get, list, "
        "delete, deletecollection (in the collect namespace); pods/exec: create)"
    ]


def test_pod_security_refusal_is_one_clear_error(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    srv = apiserver(exec_handler=captured)
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
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(tmp_path / "o"),
        "--nodes", "worker-1", "--pod-namespace", "locked", "--no-manifests",
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert 'violates PodSecurity "baseline:latest"' in err and "--pod-namespace" not in err
    assert "privileged" in err


def test_dry_run_creates_nothing(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import yaml

    srv = apiserver()
    code = cli(
        monkeypatch,
        "collect",
        "--kubeconfig",
        kubeconfig(srv),
        "--dry-run",
        "-l",
        "!node-role.kubernetes.io/control-plane",
    )
    out = capsys.readouterr().out
    assert code == 0
    assert [r for r in srv.requests if r.method != "GET"] == []
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert sorted(d["spec"]["nodeName"] for d in docs) == ["worker-1", "worker-2"]
    assert "#   iptables-nft-save" in out and "#   cat /host/etc/resolv.conf" in out


def test_cleanup_removes_leftovers_of_earlier_runs(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from netsleuth.sources.collect import pod_manifest

    srv = apiserver()
    api = core(srv)
    for ns in ("default", "kube-system"):
        api.create_namespaced_pod(
            ns, pod_manifest("worker-1", namespace=ns, image="x", run_id="old", deadline_seconds=60)
        )
    api.create_namespaced_pod(
        "default",
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "keep"},
         "spec": {"containers": [{"name": "c", "image": "x"}]}},
    )  # fmt: skip
    code = cli(monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "--cleanup")
    out = capsys.readouterr().out
    assert code == 0 and out.count("deleted pod ") == 2
    assert leftovers(srv) == []
    assert api.read_namespaced_pod("keep", "default").metadata.name == "keep"


def test_path_collects_on_the_nodes_of_its_pods(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # tests/live/data/shop.yaml: the frontend pods run on worker-1 and worker-2
    srv = apiserver(exec_handler=captured)
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(tmp_path / "o"),
        "--path", "shop/frontend-7c9f8b6d4-hx2lp", "shop/frontend-7c9f8b6d4-r8tvn",
    )  # fmt: skip
    assert code == 0
    import json

    nodes = sorted(json.loads(r.body)["spec"]["nodeName"] for r in created_pods(srv))
    assert nodes == ["worker-1", "worker-2"]
    assert leftovers(srv) == []


def test_path_collects_on_the_nodes_the_trace_goes_through(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """To a Service, the path is the one ``trace`` follows (the source pod's node and the
    backend its node hops follow), not every node holding a pod of the source workload or
    an endpoint of the Service: backend-6b8d5c7f9-q2wxz on worker-2 is not on it."""
    from netsleuth.trace import trace

    srv = apiserver(exec_handler=captured)
    out = tmp_path / "o"
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(out),
        "--path", "shop/frontend-7c9f8b6d4-hx2lp", "shop/backend",
    )  # fmt: skip
    assert code == 0
    import json

    nodes = [json.loads(r.body)["spec"]["nodeName"] for r in created_pods(srv)]
    model = load_offline([str(out / "cluster.yaml")])
    traced = trace(model, "shop/frontend-7c9f8b6d4-hx2lp", "shop/backend")
    assert traced.query.path == "pod-to-service"
    assert nodes == list(traced.nodes) == ["worker-1"]
    assert leftovers(srv) == []


def test_forbidden_exec_is_one_line_and_the_rest_is_collected(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A refused ``pods/exec`` (a WebSocket handshake answered 403): one line naming the
    verb, the resource, the user and what was skipped; cluster.yaml and the logs are
    written, the pod is deleted, exit 6."""
    srv = apiserver(denied_verbs={"pods/exec": {"create"}}, exec_handler=captured)
    out = tmp_path / "o"
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "--context", "viewer",
        "-d", str(out), "--nodes", "worker-1",
    )  # fmt: skip
    cap = capsys.readouterr()
    assert code == 6
    errors = [line for line in cap.err.splitlines() if not line.startswith("warning: [warning]")]
    assert len(errors) == 1, cap.err
    assert errors[0].startswith(
        "error: forbidden: cannot create pods/exec in namespace default as "
        "system:serviceaccount:default:viewer: node files not collected on worker-1; "
        f"the rest is in {out} (collect needs "
    )
    assert "Handshake" not in cap.err
    assert (out / "cluster.yaml").is_file() and (out / "kube-system").is_dir()
    assert f"read with: netsleuth scan -f {out}" in cap.out
    assert leftovers(srv) == []


def test_forbidden_logs_are_one_line_per_namespace(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    srv = apiserver(denied_verbs={"pods/log": {"get"}}, exec_handler=captured)
    out = tmp_path / "o"
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "--context", "viewer",
        "-d", str(out), "--nodes", "worker-1",
    )  # fmt: skip
    cap = capsys.readouterr()
    assert code == 0
    lines = [line for line in cap.err.splitlines() if "pods/log" in line]
    assert lines == [
        "warning: forbidden: cannot get pods/log in namespace kube-system as "
        "system:serviceaccount:default:viewer: the logs of 2 pods not saved"
    ]
    assert (out / "nodes" / "worker-1").is_dir()


@pytest.mark.root
def test_collect_runs_its_command_list_for_real_in_a_network_namespace(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The pod's commands run in the kube-proxy-shaped netns of ``netns_node.py`` (the
    installed iproute2, iptables nft and legacy, nft, conntrack); its scratch directory
    stands for the node's ``/`` mounted at ``/host``."""
    import dataclasses

    from live.apiserver import subprocess_exec
    from node_artifacts.netns_node import have_tools, kube_node

    why = have_tools()
    if why:
        pytest.skip(f"cannot build the test node: {why}")
    with kube_node("collect") as node:
        real = subprocess_exec(["ip", "netns", "exec", node.node])

        def in_netns(call: ExecCall) -> int:
            argv = [a.replace("/host", str(node.root)) for a in call.command]
            return real(dataclasses.replace(call, command=argv))

        srv = apiserver(exec_handler=in_netns)
        out = tmp_path / "o"
        code = cli(
            monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(out),
            "--nodes", "worker-1", "--no-manifests",
        )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert leftovers(srv) == []
    model = load_offline([str(tmp_path / "o")])
    # no Node objects in a --no-manifests folder: the node is named by nodes/<node>/
    art = model.node_artifacts["worker-1"]
    kinds = {e.kind for e in art.evidence}
    assert {
        K.IP_LINK, K.IP_ADDR, K.IP_ROUTE, K.IP_RULE, K.IPTABLES_SAVE, K.NFT_RULESET,
        K.CONNTRACK_STATS, K.CONNTRACK_COUNT, K.SYSCTL, K.RESOLV_CONF, K.CNI_CONFLIST,
        K.HOST_LOCAL_IPAM, K.ETHTOOL_STATS, K.DATE, K.UPTIME,
    } <= kinds  # fmt: skip
    links = {link.name: link for link in art.links or ()}
    assert (links["flannel.1"].kind, links["flannel.1"].vxlan_port) == ("vxlan", 8472)
    assert {a.address for a in art.addresses or () if a.interface == "kube-ipvs0"} == {
        "10.96.0.1",
        "10.96.0.10",
    }
    ipt = art.iptables
    assert ipt is not None and ipt.backend == "nf_tables"
    assert {"10.244.1.5:53", "10.244.2.7:53"} <= {r.to_destination for r in ipt.rules}
    assert art.conntrack is not None and len(art.conntrack.samples) == 2
    # what this machine cannot run (no IPVS, no /proc/modules) is noted, not lost
    for p in model.problems:
        assert p.message.startswith("`"), p.describe()


def test_logs_of_the_network_pods_become_evidence(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # tests/live/data/kube-system.yaml: CoreDNS pods coredns-5d78c9869d-7xkqp and -m4n8r
    srv = apiserver()
    srv.logs[("kube-system", "coredns-5d78c9869d-7xkqp", "coredns")] = [
        ("2024-05-01T10:00:00.000000001Z", ".:53"),
        (
            "2024-05-01T10:00:01.000000001Z",
            "[ERROR] plugin/errors: 2 api.stripe.com. A: read udp 10.244.0.2:39012->10.0.0.2:53: "
            "i/o timeout",
        ),
    ]
    out = tmp_path / "o"
    code = cli(monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(out))
    assert code == 0
    text = (out / "kube-system" / "coredns-5d78c9869d-7xkqp" / "logs.txt").read_text()
    assert text.startswith(
        "==== START logs for container coredns of pod kube-system/coredns-5d78c9869d-7xkqp ====\n"
    )
    assert "i/o timeout" in text and text.rstrip().endswith("====")
    assert not any(r.path.endswith("/log") and "/shop/" in r.path for r in srv.requests)
    model = load_offline([str(out)])
    logs = [c for c in model.container_logs if c.pod == "coredns-5d78c9869d-7xkqp"]
    assert logs and any("timeout" in str(e.kind).lower() for c in logs for e in c.events)


def test_a_hanging_command_is_cut_at_the_node_timeout_and_noted(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    def hangs(call: ExecCall) -> int:
        if call.command[:1] == ["iptables-nft-save"]:
            time.sleep(4)  # a dump that never ends (a wedged xtables lock)
        return captured(call)

    srv = apiserver(exec_handler=hangs)
    out = tmp_path / "o"
    code = cli(
        monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), "-d", str(out),
        "--nodes", "worker-1", "--timeout", "2s", "--no-manifests",
    )  # fmt: skip
    assert code == 0
    files = sorted((out / "nodes" / "worker-1").iterdir())
    cut = next(f for f in files if f.name.endswith("-iptables-nft-save.txt")).read_text()
    assert "# netsleuth collect: `iptables-nft-save` timed out" in cut
    last = files[-1].read_text()
    assert "not run: the node's 2 s ran out" in last
    assert leftovers(srv) == []
    model = load_offline([str(out)])
    assert any("timed out" in p.message for p in model.problems)


def _interrupt_once() -> Callable[[ExecCall], int]:
    """A runtime that presses Ctrl-C once, at the third command (never again: a second
    interrupt would land in the cleanup, which no real user's single Ctrl-C does)."""
    calls: list[str] = []

    def handler(call: ExecCall) -> int:
        calls.append(call.node)
        if len(calls) == 3:
            _thread.interrupt_main()
        return captured(call)

    return handler


@pytest.mark.parametrize(
    ("knobs", "args", "code"),
    [
        ({"exec_handler": captured}, ("--nodes", "worker-1"), 0),
        ({}, ("--cleanup",), 0),
        ({}, ("--dry-run", "-l", "!node-role.kubernetes.io/control-plane"), 0),
        (
            {"exec_handler": captured, "stuck_nodes": {"worker-2"}},
            ("--nodes", "worker-2", "--timeout", "1s", "--no-manifests"),
            6,
        ),
        (
            {"denied_verbs": {"pods": {"create"}}},
            ("--context", "viewer", "--nodes", "worker-1", "--no-manifests"),
            6,
        ),
        ({"exec_handler": "interrupt-once"}, ("--all-nodes", "--no-manifests"), 130),
        ({}, ("--nodes", "worker-1", "crash"), 1),
    ],
    ids=["ok", "cleanup", "dry-run", "node-error", "forbidden", "ctrl-c", "crash"],
)
def test_the_api_client_is_closed_on_every_exit(
    apiserver: Server,
    kubeconfig: Callable[[FakeApiServer], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    knobs: dict[str, object],
    args: tuple[str, ...],
    code: int,
) -> None:
    """Every ``kubernetes`` ApiClient collect opens (its own, and the one listing the
    objects) is closed: on success, on exit 6, on a 403, on Ctrl-C and on a crash."""
    from netsleuth.sources.collect import Collector
    from netsleuth.sources.live import LiveSource

    opened: list[object] = []
    closed: list[object] = []
    original = LiveSource.api_client

    def tracked(self: LiveSource) -> object:
        api = original(self)
        opened.append(api)
        real_close = api.close

        def close() -> None:
            closed.append(api)
            real_close()

        api.close = close
        return api

    monkeypatch.setattr(LiveSource, "api_client", tracked)
    if "crash" in args:
        args = args[:-1]

        def boom(*_: object) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(Collector, "write_manifests", staticmethod(boom))
    if knobs.get("exec_handler") == "interrupt-once":
        knobs = {**knobs, "exec_handler": _interrupt_once()}
    srv = apiserver(**knobs)
    out = ["-d", str(tmp_path / "o")] if "--cleanup" not in args and "--dry-run" not in args else []
    got = cli(monkeypatch, "collect", "--kubeconfig", kubeconfig(srv), *out, *args)
    assert got == code
    assert opened, "collect opened no client"
    assert sorted(map(id, opened)) == sorted(map(id, closed))  # each one closed, once
    assert leftovers(srv) == []
