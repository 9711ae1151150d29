"""microservices-demo (manifests and its network-policies component) plus one Helm test Pod.

The Pod (``data/mixed/helm-test-pod.yaml``) makes the input mixed: one real
pod, twelve Deployments known only by their templates. Every Deployment must
still be represented, by its template, with a note naming it.

Expected values, from the manifests and NetworkPolicy semantics:
- the test pod is selected by ``deny-all`` (``podSelector: {}``, Ingress and
  Egress, no rules) and by no other policy (none selects
  ``app.kubernetes.io/name``), so it can neither send nor receive: it adds no
  connection, and the connection list is the one without it;
- ``loadgenerator`` has ``egress: [{}]`` and ``frontend`` has
  ``ingress: [{}]``: loadgenerator reaches frontend on every port;
- every Service selects the pods of its Deployment (``app: <name>``), so no
  Service lacks endpoints to a reader of the manifests (no SVC201).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from netsleuth.policy.connlist import Peer, connectivity
from netsleuth.sources import load_offline

HELM_POD = Path(__file__).resolve().parent / "data" / "mixed" / "helm-test-pod.yaml"
DEPLOYMENTS = {
    "adservice",
    "cartservice",
    "checkoutservice",
    "currencyservice",
    "emailservice",
    "frontend",
    "loadgenerator",
    "paymentservice",
    "productcatalogservice",
    "recommendationservice",
    "redis-cart",
    "shippingservice",
}


def _demo(corpus_dir: Path) -> Path:
    return corpus_dir / "real-manifests" / "microservices-demo"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netsleuth.cli.__main__", *args], capture_output=True, text=True
    )


def test_every_deployment_stays_with_a_note(corpus_dir: Path) -> None:
    alone = load_offline([str(_demo(corpus_dir))])
    mixed = load_offline([str(_demo(corpus_dir)), str(HELM_POD)])
    before, after = connectivity(alone), connectivity(mixed)
    assert before == after
    test_pod = Peer("Pod", "default", "onlineboutique-test-connection")
    assert not any(test_pod in (c.src, c.dst) for c in after)
    peers = {p.name for c in after for p in (c.src, c.dst) if p.kind == "Deployment"}
    assert peers == DEPLOYMENTS
    lg_fe = [c for c in after if (c.src.name, c.dst.name) == ("loadgenerator", "frontend")]
    assert len(lg_fe) == 1 and lg_fe[0].all
    noted = {
        p.object for p in mixed.problems if p.message.startswith("none of its pods is in the input")
    }
    assert noted == {f"Deployment/default/{d}" for d in DEPLOYMENTS}


def test_diff_trace_and_scan_on_the_mixed_input(corpus_dir: Path, tmp_path: Path) -> None:
    demo = str(_demo(corpus_dir))
    after = tmp_path / "after"
    shutil.copytree(demo, after)
    shutil.copy(HELM_POD, after / HELM_POD.name)
    r = run("diff", demo, str(after))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 lost, 0 gained, 0 changed" in r.stdout
    r = run("scan", "-f", str(after), "--select", "SVC201", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert '"SVC201"' not in r.stdout
    r = run("trace", "default/loadgenerator", "default/frontend", "--port", "80", "-f", str(after))
    assert "no pod to trace from" not in r.stdout + r.stderr
    assert "policy-ingress" in r.stdout
