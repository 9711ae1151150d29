"""The in-cluster configuration, for real: service-account token and CA files, HTTPS.

Inside a pod the kubelet sets ``KUBERNETES_SERVICE_HOST``/``KUBERNETES_SERVICE_PORT``
and mounts the service-account token and the cluster CA under
``/var/run/secrets/kubernetes.io/serviceaccount/``
(https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/). The official
client's ``load_incluster_config`` reads those and talks HTTPS to the service address,
verifying the server against that CA. Here the fake API server serves HTTPS with a
throwaway CA made by the ``openssl`` CLI, the two file paths the client reads are
pointed at temporary files, and no kubeconfig exists (``HOME`` is a temporary
directory, ``KUBECONFIG`` is unset), as in a pod.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.config import incluster_config

from live.apiserver import ADMIN, VIEWER, FakeApiServer
from live.conftest import DATA, write_kubeconfig
from netsleuth.errors import SourceError
from netsleuth.model.cluster import SourceKind
from netsleuth.sources.live import LiveSource
from netsleuth.sources.load import load_live

OPENSSL = shutil.which("openssl")

pytestmark = pytest.mark.skipif(
    OPENSSL is None,
    reason="the openssl CLI is needed to make the test CA and server certificate",
)


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    other_ca_cert: Path
    """A second, unrelated CA: the server's certificate does not chain to it."""


def _openssl(*args: str, cwd: Path) -> None:
    assert OPENSSL is not None
    done = subprocess.run(
        [OPENSSL, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        pytest.fail(f"openssl {' '.join(args)} failed:\n{done.stderr}")


def _make_ca(d: Path, name: str) -> None:
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2",
        "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, a server certificate it signs for ``IP:127.0.0.1``, and another CA."""
    d = tmp_path_factory.mktemp("pki")
    _make_ca(d, "cluster-ca")
    _make_ca(d, "other-ca")
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "apiserver.key", "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver",
        cwd=d,
    )  # fmt: skip
    (d / "apiserver.ext").write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1\n"
        "authorityKeyIdentifier=keyid\n"
        "subjectKeyIdentifier=hash\n"
    )
    _openssl(
        "x509", "-req", "-in", "apiserver.csr", "-CA", "cluster-ca.crt", "-CAkey", "cluster-ca.key",
        "-CAcreateserial", "-out", "apiserver.crt", "-days", "2", "-extfile", "apiserver.ext",
        cwd=d,
    )  # fmt: skip
    return Pki(d / "cluster-ca.crt", d / "apiserver.crt", d / "apiserver.key", d / "other-ca.crt")


# --------------------------------------------------------------------------- the pod's view


@dataclass
class Pod:
    """The service-account mount and environment of a pod, pointed at a fake API server."""

    server: FakeApiServer
    token_file: Path
    ca_file: Path
    home: Path

    def set_token(self, token: str) -> None:
        # As the kubelet writes it: the bare JWT, no trailing newline.
        self.token_file.write_text(token)


@pytest.fixture
def tls_apiserver(pki: Pki) -> Iterator[Callable[..., FakeApiServer]]:
    """``tls_apiserver(**knobs)`` → a started HTTPS server loaded with ``data/``."""
    started: list[FakeApiServer] = []

    def make(**knobs: Any) -> FakeApiServer:
        srv = FakeApiServer(objects_dir=DATA, tls=(pki.server_cert, pki.server_key), **knobs)
        srv.start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def in_pod(
    tls_apiserver: Callable[..., FakeApiServer],
    pki: Pki,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Pod]:
    """``in_pod(**knobs)``: an HTTPS fake server, and this process set up as a pod using it."""

    def make(**knobs: Any) -> Pod:
        srv = tls_apiserver(**knobs)
        port = srv.url.rsplit(":", 1)[1]
        sa = tmp_path / "serviceaccount"
        sa.mkdir()
        token_file, ca_file = sa / "token", sa / "ca.crt"
        shutil.copyfile(pki.ca_cert, ca_file)
        home = tmp_path / "home"
        home.mkdir()
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
        monkeypatch.delenv("KUBECONFIG", raising=False)
        monkeypatch.setenv("HOME", str(home))
        # The client computed its default path at import time; make it the plain default.
        monkeypatch.setattr("kubernetes.config.KUBE_CONFIG_DEFAULT_LOCATION", "~/.kube/config")
        monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token_file))
        monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca_file))
        pod = Pod(srv, token_file, ca_file, home)
        pod.set_token("admin-token")
        return pod

    return make


def _bearer(headers: dict[str, str]) -> tuple[str, str]:
    """(scheme lower-cased, token) of an Authorization header; the scheme is case-insensitive
    (RFC 9110 §11.1), and the API server accepts ``bearer`` as well as ``Bearer``."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower(), token


# --------------------------------------------------------------------------- loading


def test_in_cluster_load_over_https_with_the_service_account(in_pod: Callable[..., Pod]) -> None:
    pod = in_pod()
    assert pod.server.url.startswith("https://127.0.0.1:")

    # No kubeconfig anywhere and the service env set: the source picks in-cluster by itself.
    src = LiveSource()
    assert src._use_in_cluster()

    model = load_live(page_size=3)

    # Counts from tests/live/data (its README), as through a kubeconfig (test_load_live.py).
    assert len(model.namespaces) == 4
    assert len(model.nodes) == 3
    assert len(model.pods) == 7
    assert len(model.services) == 5
    assert len(model.endpoint_slices) == 5
    assert model.endpoints == ()
    assert len(model.network_policies) == 2
    assert len(model.ingresses) == 1 and len(model.ingress_classes) == 1
    assert len(model.secrets) == 4
    assert sorted(w.kind for w in model.workloads) == sorted(
        ["Deployment"] * 3 + ["ReplicaSet"] * 3 + ["StatefulSet", "CronJob", "Job"]
    )
    assert not any(p.level == "degraded" for p in model.problems)

    # In-cluster: the service address over HTTPS, and no kubeconfig context.
    assert model.source.kind == SourceKind.LIVE
    assert model.source.server == pod.server.url
    assert model.source.context is None

    # Every request went over TLS with the service-account token, as the admin user.
    reqs = pod.server.requests
    assert reqs
    assert {_bearer(r.headers) for r in reqs} == {("bearer", "admin-token")}
    assert {r.user for r in reqs} == {ADMIN}
    assert {r.status for r in reqs} == {200}


def test_a_kubeconfig_in_home_wins_over_the_service_env(
    in_pod: Callable[..., Pod], apiserver: Callable[..., FakeApiServer]
) -> None:
    """As kubectl and the client's own ``load_config``: a kubeconfig present means it is used."""
    pod = in_pod()
    plain = apiserver()
    (pod.home / ".kube").mkdir()
    write_kubeconfig(
        pod.home / ".kube" / "config", plain.url, {"admin": "admin-token"}, current="admin"
    )
    assert not LiveSource()._use_in_cluster()
    model = load_live()
    assert model.source.server == plain.url and model.source.context == "admin"
    assert pod.server.requests == []
    # Asked for explicitly, in-cluster is used even so.
    forced = load_live(in_cluster=True)
    assert forced.source.server == pod.server.url
    assert len(forced.pods) == 7


def test_an_untrusted_server_certificate_is_a_clear_tls_error(
    in_pod: Callable[..., Pod], pki: Pki
) -> None:
    pod = in_pod()
    shutil.copyfile(pki.other_ca_cert, pod.ca_file)  # the mounted CA did not sign the server
    with pytest.raises(SourceError) as info:
        load_live(in_cluster=True, retries=0)
    err = info.value
    msg = str(err)
    assert f"cannot reach the API server at {pod.server.url}" in msg
    assert "TLS verification of the server certificate failed" in msg
    assert "CERTIFICATE_VERIFY_FAILED" in msg
    # One line: not the client's multi-line "(0)\nReason: SSLError\n..." exception text.
    assert "\n" not in msg and "Reason:" not in msg and "Traceback" not in msg
    assert err.tip is not None and str(pod.ca_file) in err.tip
    # Nothing reached the handler: the handshake failed before any request.
    assert pod.server.requests == []


def test_a_missing_token_file_says_the_in_cluster_configuration_cannot_load(
    in_pod: Callable[..., Pod],
) -> None:
    pod = in_pod()
    pod.token_file.unlink()
    with pytest.raises(SourceError) as info:
        load_live(in_cluster=True)
    err = info.value
    assert str(err).startswith("cannot load the in-cluster configuration:")
    assert "Service token file does not exist" in str(err)
    assert err.tip is not None and "service account token must be mounted" in err.tip
    assert pod.server.requests == []


def test_a_service_account_denied_a_resource_gets_a_problem_and_the_rest(
    in_pod: Callable[..., Pod],
) -> None:
    pod = in_pod(denied={"networkpolicies": None})
    pod.set_token("viewer-token")
    model = load_live(in_cluster=True)
    assert model.is_forbidden("networkpolicies")
    assert model.network_policies == ()
    assert len(model.pods) == 7 and len(model.services) == 5 and len(model.namespaces) == 4
    problems = [p for p in model.problems if p.object == "networkpolicies"]
    assert problems and all(p.level == "degraded" for p in problems)
    assert "forbidden" in problems[0].message
    assert {r.user for r in pod.server.requests} == {VIEWER}
    denied = [r for r in pod.server.requests if "/networkpolicies" in r.path]
    assert denied and {r.status for r in denied} == {403}


# --------------------------------------------------------------------------- the CLI


def test_cli_inventory_in_a_pod_without_kubeconfig(
    in_pod: Callable[..., Pod], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from netsleuth.cli import app
    from netsleuth.cli.errors import EXIT_OK, run_app

    pod = in_pod()
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["netsleuth", "inventory", "-o", "json"])
    code = run_app(app)
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    doc = json.loads(out)
    assert doc["source"] == f"live: in-cluster ({pod.server.url})"
    # tests/live/data holds 3 ConfigMaps, 2 Events and 4 Endpoints; live reads the two
    # kube-system ConfigMaps, the Warning event only, and no Endpoints (slices are listable).
    assert doc["counts_by_kind"] == {
        "ConfigMap": 2,
        "CronJob": 1,
        "Deployment": 3,
        "EndpointSlice": 5,
        "Event": 1,
        "Ingress": 1,
        "IngressClass": 1,
        "Job": 1,
        "Namespace": 4,
        "NetworkPolicy": 2,
        "Node": 3,
        "Pod": 7,
        "ReplicaSet": 3,
        "Secret": 4,
        "Service": 5,
        "StatefulSet": 1,
    }
    assert doc["forbidden"] == [] and doc["failed"] == []
    assert {_bearer(r.headers) for r in pod.server.requests} == {("bearer", "admin-token")}


def test_cli_in_a_pod_with_the_wrong_ca_exits_source_error_without_traceback(
    in_pod: Callable[..., Pod],
    pki: Pki,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from netsleuth.cli import app
    from netsleuth.cli.errors import EXIT_SOURCE, run_app

    pod = in_pod()
    shutil.copyfile(pki.other_ca_cert, pod.ca_file)
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["netsleuth", "inventory", "-o", "json"])
    code = run_app(app)
    out, err = capsys.readouterr()
    assert code == EXIT_SOURCE
    assert out == ""
    assert "Traceback" not in err
    assert f"cannot reach the API server at {pod.server.url}" in err
    assert "TLS verification of the server certificate failed" in err
    assert (
        f"Tip: The server's certificate must be signed by the service account CA ({pod.ca_file})"
        in err
    )


def test_kubeconfig_https_with_the_wrong_ca_names_the_context_ca(
    tls_apiserver: Callable[..., FakeApiServer], pki: Pki, tmp_path: Path
) -> None:
    """The same TLS failure through a kubeconfig: the tip points at that context's CA."""
    srv = tls_apiserver()
    kc = write_kubeconfig(tmp_path / "kc", srv.url, {"admin": "admin-token"}, current="admin")
    doc = yaml.safe_load(kc.read_text())
    doc["clusters"][0]["cluster"]["certificate-authority"] = str(pki.other_ca_cert)
    kc.write_text(yaml.safe_dump(doc))
    with pytest.raises(SourceError) as info:
        load_live(kubeconfig=str(kc), in_cluster=False, retries=0)
    assert "TLS verification of the server certificate failed" in str(info.value)
    assert info.value.tip is not None and "context 'admin'" in info.value.tip
    # With the right CA the same kubeconfig loads the cluster over HTTPS.
    doc["clusters"][0]["cluster"]["certificate-authority"] = str(pki.ca_cert)
    kc.write_text(yaml.safe_dump(doc))
    model = load_live(kubeconfig=str(kc), in_cluster=False)
    assert model.source.server == srv.url and len(model.pods) == 7
