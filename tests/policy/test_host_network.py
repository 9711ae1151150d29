"""``--host-network node|pod``: the two readings Kubernetes allows for hostNetwork pods.

Fixture (worked out by hand from the manifests):

- ``mon/node-exporter-x`` is a hostNetwork pod (label ``app=node-exporter``,
  node IP 172.18.0.2, port 9100) and ``mon/prometheus`` an ordinary pod.
- ``mon/exporter-lockdown`` selects ``app=node-exporter`` and allows ingress
  only from ``app=prometheus`` on 9100.
- ``web/client`` (another namespace, no policy) wants to reach the exporter.

Reading ``node`` (default, most CNIs): no policy selects a hostNetwork pod, so
the exporter is not isolated and the client reaches it on every port.
Reading ``pod``: the lockdown selects it: prometheus reaches it on TCP 9100
only and the client not at all.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

from netsleuth.cli.errors import run_app
from netsleuth.model.ports import parse_port
from netsleuth.policy.connlist import connectivity
from netsleuth.policy.explain import build_report
from netsleuth.policy.host_network import HostNetworkMode, policy_view
from netsleuth.sources.load import load_offline

MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: mon, labels: {kubernetes.io/metadata.name: mon}}
---
apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {kubernetes.io/metadata.name: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: node-exporter-x, namespace: mon, labels: {app: node-exporter}}
spec:
  hostNetwork: true
  nodeName: node-a
  containers: [{name: exporter, ports: [{containerPort: 9100, name: metrics}]}]
status: {phase: Running, hostIP: 172.18.0.2, podIP: 172.18.0.2, podIPs: [{ip: 172.18.0.2}]}
---
apiVersion: v1
kind: Pod
metadata: {name: prometheus, namespace: mon, labels: {app: prometheus}}
spec: {nodeName: node-a, containers: [{name: prom}]}
status: {phase: Running, podIP: 10.244.0.5, podIPs: [{ip: 10.244.0.5}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: web, labels: {app: client}}
spec: {nodeName: node-a, containers: [{name: c}]}
status: {phase: Running, podIP: 10.244.0.6, podIPs: [{ip: 10.244.0.6}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: exporter-lockdown, namespace: mon}
spec:
  podSelector: {matchLabels: {app: node-exporter}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: prometheus}}}]
    ports: [{port: 9100}]
"""


@pytest.fixture
def cluster(tmp_path: Path) -> Path:
    p = tmp_path / "cluster.yaml"
    p.write_text(MANIFESTS)
    return p


def _pairs(path: Path, mode: HostNetworkMode) -> dict[tuple[str, str], object]:
    model = policy_view(load_offline([str(path)]), mode)
    return {
        (c.src.describe(), c.dst.describe()): c.conn_json()
        for c in connectivity(model)
        if c.dst.name == "node-exporter-x"
    }


def test_node_reading_leaves_the_host_network_pod_unselected(cluster: Path) -> None:
    pairs = _pairs(cluster, HostNetworkMode.NODE)
    assert pairs[("web/client[Pod]", "mon/node-exporter-x[Pod]")] == {"all": True}
    assert pairs[("mon/prometheus[Pod]", "mon/node-exporter-x[Pod]")] == {"all": True}


def test_pod_reading_applies_the_lockdown(cluster: Path) -> None:
    pairs = _pairs(cluster, HostNetworkMode.POD)
    assert pairs[("mon/prometheus[Pod]", "mon/node-exporter-x[Pod]")] == {"TCP": ["9100"]}
    assert ("web/client[Pod]", "mon/node-exporter-x[Pod]") not in pairs


def test_view_is_the_same_model_without_host_network_pods(cluster: Path) -> None:
    model = load_offline([str(cluster)])
    assert policy_view(model, HostNetworkMode.NODE) is model
    view = policy_view(model, HostNetworkMode.POD)
    exporter = view.pod("mon", "node-exporter-x")
    assert exporter is not None and not exporter.host_network
    assert exporter.pod_ips == ("172.18.0.2",)
    assert len(view.pods) == len(model.pods) and view.network_policies == model.network_policies


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    from netsleuth.cli import app

    monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
    return run_app(app)


def test_explain_and_cli_flag(
    cluster: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("web/client", "mon/node-exporter-x", "--port", "tcp/9100")
    rep = build_report(load_offline([str(cluster)]), *args[:2], port=parse_port("tcp/9100"))
    assert rep.verdict == "allowed"
    for mode, verdict in (("node", "allowed"), ("pod", "denied")):
        capsys.readouterr()
        code = _cli(
            monkeypatch, "explain", *args, "-f", str(cluster), "--host-network", mode, "-o", "json"
        )
        assert code == 0
        doc = orjson.loads(capsys.readouterr().out)
        assert doc["verdict"] == verdict, mode
    assert _cli(monkeypatch, "connectivity", "-f", str(cluster), "--host-network", "bogus") == 2
