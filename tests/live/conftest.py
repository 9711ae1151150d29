"""Fixtures: a fake kube-apiserver on 127.0.0.1 and a kubeconfig pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from live.apiserver import FakeApiServer

DATA = Path(__file__).parent / "data"


def write_kubeconfig(
    path: Path, server: str, tokens: dict[str, str], current: str, namespace: str = "default"
) -> Path:
    """A kubeconfig with one context (and user) per ``tokens`` entry, token auth, plain HTTP."""
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": f"{name}-user", "user": {"token": tok}} for name, tok in tokens.items()],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": "fake", "user": f"{name}-user", "namespace": namespace},
            }
            for name in tokens
        ],
        "current-context": current,
    }
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def apiserver() -> Iterator[Callable[..., FakeApiServer]]:
    """``apiserver(**knobs)`` → a started server loaded with ``data/`` (stopped after the test)."""
    started: list[FakeApiServer] = []

    def make(**knobs: Any) -> FakeApiServer:
        srv = FakeApiServer(objects_dir=DATA, **knobs)
        srv.start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Callable[[FakeApiServer], str]:
    """``kubeconfig(server)`` → path of a kubeconfig with contexts ``admin`` (current) and ``viewer``."""

    def make(srv: FakeApiServer) -> str:
        return str(
            write_kubeconfig(
                tmp_path / "kubeconfig",
                srv.url,
                {"admin": "admin-token", "viewer": "viewer-token"},
                current="admin",
            )
        )

    return make
