"""The live source against a server that misbehaves: it ends, bounded, and says what is missing.

Each fault is injected in the fake API server (``tests/live/apiserver.py``) the
way it happens: API Priority and Fairness answering 429 with ``Retry-After``, a
body trickled a byte at a time, a broken aggregated server or proxy repeating
a ``continue`` token, a proxy's login page answering discovery with 200 HTML.
Waits are recorded rather than slept (no timing assertions): the retry delays
the client asks for are what is checked.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import pytest

from live.apiserver import FakeApiServer
from netsleuth.cli import app
from netsleuth.cli.errors import EXIT_SOURCE, run_app
from netsleuth.errors import SourceError
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Pod
from netsleuth.sources import live as live_mod
from netsleuth.sources.load import load_live

Server = Callable[..., FakeApiServer]
Kubeconfig = Callable[[FakeApiServer], str]
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry delays the transport asks for, recorded instead of slept."""
    asked: list[float] = []

    def pause(stop: threading.Event, delay: float) -> bool:
        asked.append(delay)
        return stop.wait(0.001)

    monkeypatch.setattr(live_mod, "_pause", pause)
    return asked


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI as the console script does (errors mapped to exit codes by run_app)."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
        code = run_app(app)
        got = capsys.readouterr()
        return code, got.out, got.err

    return run


def real_pods(model: ClusterModel) -> list[Pod]:
    """Pods listed from the server (not the ones derived from workload templates)."""
    return [p for p in model.pods if not p.meta.derived]


def _pod_requests(srv: FakeApiServer) -> int:
    return sum(1 for r in srv.requests if r.path == "/api/v1/pods")


def test_429_is_retried_after_the_retry_after_seconds(
    apiserver: Server, kubeconfig: Kubeconfig, waits: list[float]
) -> None:
    srv = apiserver(throttled={"pods": 2}, throttle_retry_after=3)
    model = load_live(kubeconfig=kubeconfig(srv), retries=2)
    assert len(model.pods) == 7 and "pods" not in model.source.failed
    assert _pod_requests(srv) == 3
    assert waits.count(3.0) == 2  # Retry-After: 3, honoured on each retry


def test_429_retries_are_bounded_and_a_long_retry_after_is_capped(
    apiserver: Server, kubeconfig: Kubeconfig, waits: list[float]
) -> None:
    srv = apiserver(throttled={"pods": 100}, throttle_retry_after=3600)
    model = load_live(kubeconfig=kubeconfig(srv), retries=2)
    assert _pod_requests(srv) == 3  # one try and two retries, then give up
    assert "pods" in model.source.failed and real_pods(model) == []
    assert [w for w in waits if w > 1] == [live_mod.RETRY_AFTER_CAP] * 2
    problem = next(p for p in model.problems if p.object == "pods")
    assert "429" in problem.message and "Too many requests" in problem.message
    assert len(model.namespaces) == 4  # the rest still loads


def test_5xx_backs_off_exponentially(
    apiserver: Server, kubeconfig: Kubeconfig, waits: list[float]
) -> None:
    srv = apiserver(flaky={"services": 3})
    model = load_live(kubeconfig=kubeconfig(srv), retries=3)
    assert len(model.services) == 5
    base = live_mod.BACKOFF_BASE
    assert [w for w in waits if w >= base][:3] == [base, base * 2, base * 4]


def test_a_trickled_body_is_cut_at_the_request_deadline(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    # ~3 KB at 0.2 s per byte would take ten minutes; the deadline is 1 s.
    srv = apiserver(trickle={"pods": 0.2})
    model = load_live(kubeconfig=kubeconfig(srv), timeout=1.0, retries=0)
    assert "pods" in model.source.failed and real_pods(model) == []
    problem = next(p for p in model.problems if p.object == "pods")
    assert "no complete answer within 1s" in problem.message
    assert len(model.services) == 5


def test_request_timeout_flag(apiserver: Server, kubeconfig: Kubeconfig, cli: Cli) -> None:
    srv = apiserver(trickle={"pods": 0.2})
    code, out, err = cli(
        "scan",
        "--kubeconfig",
        kubeconfig(srv),
        "--request-timeout",
        "1s",
        "--fail-on",
        "error",
        "-o",
        "json",
    )
    assert "no complete answer within 1s" in out  # the pods problem, in the report
    # and the gate fails: the pod list could not be read
    assert code == EXIT_SOURCE and "pods could not be listed" in err
    code, _, err = cli("inventory", "--kubeconfig", kubeconfig(srv), "--request-timeout", "soon")
    assert code == 2 and "expected a duration" in err


def test_a_repeated_continue_token_ends_the_list(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver(repeat_continue={"pods"})
    model = load_live(kubeconfig=kubeconfig(srv), page_size=2)
    assert _pod_requests(srv) == 2  # the first page, then the same token back: stop
    assert "pods" in model.source.failed
    problem = next(p for p in model.problems if p.object == "pods")
    assert "repeated a continue token" in problem.message
    assert len(real_pods(model)) == 4  # the pages read are kept (two distinct pages of two)


def test_the_page_cap_ends_a_list_that_would_not(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver()
    model = load_live(kubeconfig=kubeconfig(srv), page_size=1, max_pages=3)
    assert _pod_requests(srv) == 3
    assert len(real_pods(model)) == 3 and "pods" in model.source.failed
    problem = next(p for p in model.problems if p.object == "pods")
    assert "page cap" in problem.message


def test_discovery_answered_by_a_login_page_is_a_source_error(
    apiserver: Server, kubeconfig: Kubeconfig, cli: Cli
) -> None:
    srv = apiserver(discovery_html=True)
    with pytest.raises(SourceError, match=r"answered /api/v1 with .*text/html.*not Kubernetes API"):
        load_live(kubeconfig=kubeconfig(srv))
    code, _, err = cli("scan", "--kubeconfig", kubeconfig(srv), "--fail-on", "error")
    assert code == EXIT_SOURCE, err
    assert "not Kubernetes API discovery" in err


def test_nothing_listed_is_a_source_error(
    apiserver: Server, kubeconfig: Kubeconfig, cli: Cli
) -> None:
    every = {
        p: None
        for p in [
            *("namespaces", "nodes", "pods", "services", "endpoints", "configmaps", "secrets"),
            *("events", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs"),
            *("cronjobs", "endpointslices", "networkpolicies", "ingresses", "ingressclasses"),
            "replicationcontrollers",
        ]
    }
    srv = apiserver(denied=every)
    code, _, err = cli("scan", "--kubeconfig", kubeconfig(srv), "--context", "viewer")
    assert code == EXIT_SOURCE, err
    assert "nothing could be loaded from the API server" in err
