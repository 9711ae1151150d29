"""A real Prometheus on loopback scraping a small exporter, for the ``--prometheus`` tests.

:class:`Exporter` serves exposition-format text on ``/metrics`` (a thread of
``http.server``): the series node_exporter, CoreDNS, kube-proxy and Hubble
export, with per-node labels. Counters grow with wall time at fixed rates,
so ``rate()`` over any window returns those rates; histogram buckets grow the
same way, so ``histogram_quantile`` returns a known p99.

:func:`running_prometheus` starts Debian's ``prometheus`` binary on a free
loopback port with a temporary data dir and a config scraping the exporter
every second (``honor_labels``: the exporter's ``instance`` labels stand, as
if each node were its own target), waits until the API answers and three
scrapes are stored (polling the API, no blind sleep), and always stops it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

STARTUP_LIMIT = 60.0
"""Seconds Prometheus gets to start and store its first scrapes before the test fails."""


def prometheus_binary() -> str:
    """Debian's prometheus; required in CI, a skip with the reason elsewhere."""
    path = shutil.which("prometheus")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(
                "prometheus is missing in CI: .ci/run installs the Debian package prometheus"
            )
        pytest.skip("the prometheus binary is not installed (apt-get install prometheus)")
    return path


@dataclass(frozen=True)
class Counter:
    """A counter growing at ``rate`` per second from ``start``."""

    name: str
    labels: dict[str, str]
    rate: float
    start: float = 0.0


@dataclass(frozen=True)
class Gauge:
    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Histogram:
    """Cumulative buckets: ``rates`` maps each upper bound (``+Inf`` last) to observations/s."""

    name: str
    labels: dict[str, str]
    rates: tuple[tuple[str, float], ...]


Family = Counter | Gauge | Histogram


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels.items()
    )
    return "{" + inner + "}"


@dataclass
class Exporter:
    series: list[Family]
    t0: float = field(default_factory=time.monotonic)
    scrapes: int = 0
    server: ThreadingHTTPServer | None = None

    def exposition(self) -> str:
        elapsed = time.monotonic() - self.t0
        typed: dict[str, str] = {}
        lines: list[str] = []
        for s in self.series:
            if isinstance(s, Histogram):
                base = s.name
                if base not in typed:
                    typed[base] = "histogram"
                    lines.append(f"# TYPE {base} histogram")
                for le, r in s.rates:
                    lab = _labels({**s.labels, "le": le})
                    lines.append(f"{base}_bucket{lab} {r * elapsed:.6f}")
                total = s.rates[-1][1] * elapsed
                lines.append(f"{base}_count{_labels(s.labels)} {total:.6f}")
                lines.append(f"{base}_sum{_labels(s.labels)} {total * 0.01:.6f}")
            elif isinstance(s, Counter):
                if s.name not in typed:
                    typed[s.name] = "counter"
                    lines.append(f"# TYPE {s.name} counter")
                lines.append(f"{s.name}{_labels(s.labels)} {s.start + s.rate * elapsed:.6f}")
            else:
                if s.name not in typed:
                    typed[s.name] = "gauge"
                    lines.append(f"# TYPE {s.name} gauge")
                lines.append(f"{s.name}{_labels(s.labels)} {s.value:g}")
        return "\n".join(lines) + "\n"

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])


def serve(
    handler_cls: type[BaseHTTPRequestHandler],
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return server, thread


@contextlib.contextmanager
def running_exporter(series: list[Family]) -> Iterator[Exporter]:
    exp = Exporter(series)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/metrics":
                self.send_error(404)
                return
            exp.scrapes += 1
            body = exp.exposition().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server, thread = serve(Handler)
    exp.server = server
    try:
        yield exp
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Prometheus:
    url: str
    data_dir: Path
    log: Path


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, scrapes: int) -> None:
    """Poll the API until it answers and ``scrapes`` samples of ``up`` are stored."""
    deadline = time.monotonic() + STARTUP_LIMIT
    query = 'count_over_time(up{job="exporter"}[1m])'
    with httpx.Client(timeout=2.0) as client:
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"prometheus exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
                )
            try:
                r = client.get(f"{url}/api/v1/query", params={"query": query})
                if r.status_code == 200:
                    result = r.json()["data"]["result"]
                    if result and float(result[0]["value"][1]) >= scrapes:
                        return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"prometheus did not store {scrapes} scrapes within {STARTUP_LIMIT:g} s:\n"
                    + log.read_text()[-3000:]
                )
            time.sleep(0.2)


@contextlib.contextmanager
def running_prometheus(exporter_port: int, *, scrapes: int = 3) -> Iterator[Prometheus]:
    binary = prometheus_binary()
    tmp = Path(tempfile.mkdtemp(prefix="netsleuth-prom-"))
    config = tmp / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 500ms\n"
        "  evaluation_interval: 500ms\n"
        "scrape_configs:\n"
        "  - job_name: exporter\n"
        "    honor_labels: true\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter_port}']\n"
    )
    log = tmp / "prometheus.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(3):
            port = free_port()
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [
                        binary,
                        f"--config.file={config}",
                        f"--storage.tsdb.path={tmp / 'data'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        "--storage.tsdb.retention.time=1h",
                        "--log.level=warn",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_ready(url, proc, log, scrapes)
            except AssertionError:
                if proc.poll() is not None and "address already in use" in log.read_text():
                    continue  # the free port was taken in between: try another
                raise
            yield Prometheus(url=url, data_dir=tmp / "data", log=log)
            return
        raise AssertionError("no free port for prometheus after 3 tries")
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
