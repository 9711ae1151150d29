"""`--prometheus` when the server cannot answer: a clear problem, and the rest of the scan goes on.

Real HTTP servers on loopback (``http.server`` threads) answer as a broken or wrong
endpoint would: connection refused, 503, an HTML page with 200, a proxy's 404,
a Prometheus that rejects one expression (400 ``bad_data``), no answer in time.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsleuth.cli import app
from netsleuth.cli.errors import EXIT_USAGE, run_app
from netsleuth.errors import QueryError
from netsleuth.model.metrics import SIGNALS
from netsleuth.sources.prometheus import check_url, query_prometheus
from prometheus.promlab import free_port, serve

CLUSTER = Path(__file__).resolve().parents[1] / "data" / "metrics" / "cluster.yaml"
METRIC_IDS = sorted({s.check_id for s in SIGNALS})

Responder = Callable[[BaseHTTPRequestHandler], None]


def _server(respond: Responder) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            respond(self)

        def log_message(self, *args: object) -> None:
            pass

    server, thread = serve(Handler)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


@pytest.fixture
def unavailable() -> Iterator[str]:
    yield from _server(
        lambda h: _send(h, 503, b"Service Unavailable: TSDB not ready\n", "text/plain")
    )


@pytest.fixture
def html_page() -> Iterator[str]:
    page = b"<!doctype html><html><body>Grafana login</body></html>"
    yield from _server(lambda h: _send(h, 200, page, "text/html; charset=utf-8"))


def _scan_json(url: str) -> tuple[int, dict[str, list[dict[str, str]]], str]:
    res = CliRunner().invoke(app, ["scan", "-f", str(CLUSTER), "--prometheus", url, "-o", "json"])
    return res.exit_code, json.loads(res.stdout), res.stderr


def _assert_not_checked(doc: dict[str, list[dict[str, str]]], words: str) -> None:
    skipped = {s["check_id"]: s["reason"] for s in doc["skipped"]}
    for cid in METRIC_IDS:
        assert cid in skipped, cid
        assert words in skipped[cid], skipped[cid]
    assert any(words in p["message"] for p in doc["problems"]), doc["problems"]


def test_connection_refused_is_a_problem_and_the_scan_goes_on() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, doc, err = _scan_json(url)
    assert code == 0
    _assert_not_checked(doc, "cannot connect")
    assert f"Prometheus at {url}: cannot connect" in err
    assert "the rest of the analysis goes on" in err
    # the manifest checks still ran: the cluster's own skips are there as without --prometheus
    assert any(s["check_id"] == "CT701" for s in doc["skipped"])


def test_non_200_names_the_status(unavailable: str) -> None:
    code, doc, _ = _scan_json(unavailable)
    assert code == 0
    _assert_not_checked(doc, "HTTP 503 Service Unavailable: Service Unavailable: TSDB not ready")


def test_a_page_that_is_not_the_api(html_page: str) -> None:
    code, doc, _ = _scan_json(html_page)
    assert code == 0
    _assert_not_checked(doc, "not the Prometheus API's JSON (content-type text/html")


def test_one_rejected_expression_fails_only_its_signal() -> None:
    def respond(h: BaseHTTPRequestHandler) -> None:
        if "coredns" in h.path:
            body = {"status": "error", "errorType": "bad_data", "error": "parse error"}
            _send(h, 400, json.dumps(body).encode(), "application/json")
        else:
            body = {"status": "success", "data": {"resultType": "vector", "result": []}}
            _send(h, 200, json.dumps(body).encode(), "application/json")

    for url in _server(respond):
        snap = query_prometheus(url)
        assert snap.error is None
        assert snap.signals["coredns_servfail"].error == "HTTP 400 Bad Request: parse error"
        reason = snap.not_measured("coredns_servfail")
        assert reason is not None and "parse error" in reason
        # the others were answered: present selectors with no series → not measured, not ok
        reason = snap.not_measured("conntrack_fill")
        assert reason is not None and "has no series for node_nf_conntrack_entries" in reason


def test_no_answer_in_time() -> None:
    release = threading.Event()

    def respond(h: BaseHTTPRequestHandler) -> None:
        release.wait(10)

    for url in _server(respond):
        try:
            snap = query_prometheus(url, timeout=0.3)
        finally:
            release.set()
        assert snap.error is not None and "no answer within the timeout" in snap.error
        assert all(snap.not_measured(s.name) for s in SIGNALS)


@pytest.mark.parametrize(
    "url", ["localhost:9090", "ftp://prom:9090", "http://", "http://prom:9090/?x=1"]
)
def test_a_url_that_cannot_be_prometheus_is_a_usage_error(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(QueryError):
        check_url(url)
    assert _run(monkeypatch, "--prometheus", url) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "not a Prometheus" in err and "Tip:" in err


def test_bad_window_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--prometheus", "http://127.0.0.1:9", "--prometheus-window", "5 min")
    assert _run(monkeypatch, *args) == EXIT_USAGE
    assert "not a Prometheus duration" in capsys.readouterr().err


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["netsleuth", "scan", "-f", str(CLUSTER), *args])
    return run_app(app)


# --------------------------------------------------------------------------- --fail-on
# The README's exit-code table: `scan --fail-on` exits 6 when a live source failed or is
# incomplete. A Prometheus that did not answer every query is one: the gate must not pass
# on signals it could not check. Without --fail-on the scan goes on and exits 0.

EMPTY = {"status": "success", "data": {"resultType": "vector", "result": []}}


def _json(h: BaseHTTPRequestHandler, status: int, body: object) -> None:
    _send(h, status, json.dumps(body).encode(), "application/json")


def _scan(url: str, *extra: str, timeout: str = "10") -> tuple[int, str, str]:
    args = ["scan", "-f", str(CLUSTER), "--prometheus", url, "--prometheus-timeout", timeout]
    res = CliRunner().invoke(app, [*args, *extra])
    return res.exit_code, res.stdout, res.stderr


def _warning(err: str, url: str) -> str:
    """The one warning line about the server (exactly one)."""
    lines = [ln for ln in err.splitlines() if ln.startswith(f"warning: Prometheus at {url}:")]
    assert len(lines) == 1, err
    return lines[0]


def _garbage(h: BaseHTTPRequestHandler) -> None:
    _send(h, 200, b"OK\n", "text/plain")


def _html_404(h: BaseHTTPRequestHandler) -> None:
    _send(h, 404, b"<html><body>404 page not found</body></html>", "text/html")


def _status_error_for_coredns(h: BaseHTTPRequestHandler) -> None:
    # a PromQL error status with HTTP 200 (some Prometheus-compatible backends answer so)
    if "coredns" in h.path:
        _json(h, 200, {"status": "error", "errorType": "execution", "error": "query aborted"})
    else:
        _json(h, 200, EMPTY)


def _no_series(h: BaseHTTPRequestHandler) -> None:
    _json(h, 200, EMPTY)


@pytest.mark.parametrize(
    ("respond", "words"),
    [
        (lambda h: _send(h, 500, b"internal error", "text/plain"), "HTTP 500"),
        (lambda h: _send(h, 502, b"<h1>Bad Gateway</h1>", "text/html"), "HTTP 502 Bad Gateway"),
        (_html_404, "HTTP 404 Not Found"),
        (_garbage, "not the Prometheus API's JSON (content-type text/plain"),
        (lambda h: _json(h, 200, ["not", "the", "api"]), "not the Prometheus API's JSON"),
    ],
    ids=["500", "502-html", "proxy-404", "text-200", "json-not-api"],
)
def test_server_errors_fail_the_gate(respond: Responder, words: str) -> None:
    for url in _server(respond):
        code, doc, err = _scan_json(url)
        assert code == 0  # without --fail-on the scan goes on
        line = _warning(err, url)
        assert words in line
        assert "none of its 11 queries checked (CT731, CT732, DNS141" in line
        _assert_not_checked(doc, words)  # never ok
        assert not [f for f in doc["findings"] if f["check_id"] in METRIC_IDS]
        code, _, err = _scan(url, "--fail-on", "error")
        assert code == 6, err
        assert f"--fail-on: the Prometheus at {url} did not answer 11 of its queries" in err


def test_connection_refused_fails_the_gate() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = _scan(url, "--fail-on", "warning", "-o", "json")
    assert code == 6
    assert "cannot connect" in _warning(err, url)


def test_timeout_fails_the_gate() -> None:
    release = threading.Event()

    def hang(h: BaseHTTPRequestHandler) -> None:
        release.wait(10)

    for url in _server(hang):
        try:
            code, _, err = _scan(url, "--fail-on", "error", timeout="0.3")
        finally:
            release.set()
        assert code == 6
        assert "no answer within the timeout" in _warning(err, url)


def test_promql_error_status_names_the_queries_not_checked() -> None:
    for url in _server(_status_error_for_coredns):
        code, doc, err = _scan_json(url)
        assert code == 0
        line = _warning(err, url)
        # the four CoreDNS signals (their count() presence queries were refused) and no other
        assert "4 of 11 queries failed (query aborted)" in line
        assert line.endswith(
            "not checked: coredns_servfail (DNS141), coredns_forward_failures (DNS142), "
            "coredns_latency (DNS143), coredns_down (DNS144); the rest of the analysis goes on"
        )
        problems = [p for p in doc["problems"] if url in p["message"]]
        assert len(problems) == 1 and "coredns_latency (DNS143)" in problems[0]["message"]
        skipped = {s["check_id"]: s["reason"] for s in doc["skipped"]}
        assert skipped["DNS141"] == "query for coredns_servfail failed: query aborted"
        # the others were answered (no series: not checked for that reason, not a failure)
        assert skipped["CT731"].startswith(f"Prometheus at {url} has no series for")
        code, _, err = _scan(url, "--fail-on", "error")
        assert code == 6
        assert "did not answer 4 of its queries" in err


def test_absent_series_are_not_a_source_failure() -> None:
    """A Prometheus that answers every query, with no series: not checked, and the gate passes
    (missing metrics are a coverage fact, like a check without its kind, not a broken source)."""
    for url in _server(_no_series):
        code, doc, err = _scan_json(url)
        assert "warning: Prometheus" not in err
        assert not [p for p in doc["problems"] if url in p["message"]]
        skipped = {s["check_id"]: s["reason"] for s in doc["skipped"]}
        assert all("has no series for" in skipped[cid] for cid in METRIC_IDS)
        code, _, _ = _scan(url, "--fail-on", "warning")
        assert code == 0


def test_the_exit_code_table_says_so() -> None:
    from netsleuth.cli.exit_codes import MEANINGS, ExitCode

    assert "`--prometheus`" in MEANINGS[ExitCode.SOURCE]
