"""End-to-end fixtures: the fake API server loaded with the bundled demo cluster, and the CLI.

The CLI runs in-process through its own entry point (:func:`netsleuth.cli.errors.run_app`
with ``sys.argv`` set), so exit codes are exactly what a shell would see.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from live.apiserver import FakeApiServer
from live.conftest import write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
DEMO_CLUSTER = DEMO / "cluster.yaml"
"""Kubernetes objects only: ``faults.yaml`` next to it is a descriptor, and ``nodes/`` are
node artifacts a live read cannot see; offline runs use this one file so both sides load
the same objects."""


@cache
def demo_objects() -> tuple[dict[str, Any], ...]:
    """The objects of ``cluster.yaml`` (a ``kind: List``), parsed once."""
    out: list[dict[str, Any]] = []
    for doc in yaml.load_all(DEMO_CLUSTER.read_text(), Loader=yaml.CSafeLoader):
        if not doc:
            continue
        out.extend(doc["items"] if str(doc.get("kind", "")).endswith("List") else [doc])
    return tuple(out)


def demo_server(**knobs: Any) -> FakeApiServer:
    """A started fake API server serving the demo cluster (``knobs`` as in ``FakeApiServer``)."""
    srv = FakeApiServer(**knobs)
    for obj in demo_objects():
        srv.add(copy.deepcopy(obj))
    srv.start()
    return srv


@dataclass(frozen=True)
class Live:
    server: FakeApiServer
    kubeconfig: str

    def args(self, context: str | None = None) -> list[str]:
        return ["--kubeconfig", self.kubeconfig] + (["--context", context] if context else [])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The demo cluster behind a fake API server; kubeconfig contexts ``admin`` (current) and ``viewer``."""
    srv = demo_server()
    kc = write_kubeconfig(
        tmp_path_factory.mktemp("kube") / "config",
        srv.url,
        {"admin": "admin-token", "viewer": "viewer-token"},
        current="admin",
    )
    yield Live(srv, str(kc))
    srv.stop()


@pytest.fixture(scope="module")
def live_with(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Live]]:
    """``live_with(**knobs)``: a demo server with injected knobs (e.g. ``denied=...``).

    Module-scoped (stopping a server waits for its poll interval): tests sharing a
    server must not change its knobs.
    """
    started: list[FakeApiServer] = []
    tmp_path = tmp_path_factory.mktemp("kube")

    def make(**knobs: Any) -> Live:
        srv = demo_server(**knobs)
        started.append(srv)
        kc = write_kubeconfig(
            tmp_path / f"config-{len(started)}",
            srv.url,
            {"admin": "admin-token", "viewer": "viewer-token"},
            current="admin",
        )
        return Live(srv, str(kc))

    yield make
    for srv in started:
        srv.stop()


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """``cli(*args)`` runs ``netsleuth ARGS`` in-process and returns exit code, stdout, stderr."""
    from netsleuth.cli import app
    from netsleuth.cli.errors import run_app

    def run(*args: str) -> Run:
        capsys.readouterr()  # drop anything printed before
        monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
        code = run_app(app)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
