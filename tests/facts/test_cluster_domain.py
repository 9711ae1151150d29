"""The cluster domain is derived once, from the input (kubelet config, CoreDNS Corefile,
kubeadm ClusterConfiguration), and the scan, the trace, the DNS simulation and the lab
all use it; ``cluster.local`` only when the input shows none, a flag overrides it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from netsleuth.checks.base import ScanConfig, load_all, run_checks
from netsleuth.facts.cluster_domain import cluster_domain, cluster_domain_fact
from netsleuth.facts.dns_resolution import resolver_config
from netsleuth.facts.policy_facts import service_clients
from netsleuth.model.findings import Verdict
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace

KIND = Path(__file__).resolve().parents[1] / "scenarios" / "healthy-kind"
KUBELET = "kubelet config kube-system/kubelet-config"
COREFILE = "CoreDNS Corefile kube-system/coredns"
KUBEADM = "kubeadm ClusterConfiguration kube-system/kubeadm-config"


def _write(tmp_path: Path, text: str, drop: tuple[str, ...] = ()) -> Any:
    doc = yaml.safe_load(text)
    doc["items"] = [
        i for i in doc["items"] if not (i["kind"] == "ConfigMap" and i["metadata"]["name"] in drop)
    ]
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(doc))
    return load_offline([str(tmp_path)])


@pytest.mark.parametrize(
    ("drop", "domain", "source"),
    [
        ((), "k8s.corp", KUBELET),
        (("kubelet-config",), "k8s.corp", COREFILE),
        (("kubelet-config", "coredns"), "k8s.corp", KUBEADM),
        # the input shows none of them: the documented default
        (("kubelet-config", "coredns", "kubeadm-config"), "cluster.local", "default"),
    ],
)
def test_sources_in_order(tmp_path: Path, drop: tuple[str, ...], domain: str, source: str) -> None:
    model = _write(
        tmp_path, (KIND / "cluster.yaml").read_text().replace("cluster.local", "k8s.corp"), drop
    )
    fact = cluster_domain_fact(model)
    assert (fact.domain, fact.source) == (domain, source)
    assert fact.from_input is (source != "default")
    assert cluster_domain(model, "Override.Example.") == "override.example"


def test_disagreeing_sources_are_all_kept(tmp_path: Path) -> None:
    text = (KIND / "cluster.yaml").read_text()
    text = text.replace(
        "kubernetes cluster.local in-addr.arpa", "kubernetes corp.internal in-addr.arpa"
    )
    fact = cluster_domain_fact(_write(tmp_path, text))
    assert fact.domain == "cluster.local"  # the kubelet's: what pods' search lists hold
    assert dict((s, d) for s, d in fact.seen) == {
        KUBELET: "cluster.local",
        COREFILE: "corp.internal",
        KUBEADM: "cluster.local",
    }


def test_a_cluster_built_with_another_domain(tmp_path: Path) -> None:
    """healthy-kind rebuilt with ``--cluster-domain k8s.corp`` (kubelet, CoreDNS, kubeadm and
    the apps' URLs): it traces and scans as healthy as with cluster.local. Before, the
    trace assumed cluster.local, so ``payments-api.payments.svc.k8s.corp`` was an outside
    name and the scan's client list missed the app that calls it."""
    model = _write(
        tmp_path, (KIND / "cluster.yaml").read_text().replace("cluster.local", "k8s.corp")
    )
    original = load_offline([str(KIND)])
    src = "checkout/checkout-web"
    result = trace(model, src, "payments-api.payments.svc.k8s.corp", port=8080)
    assert result.query.path == "pod-to-service"
    assert result.verdict is Verdict.OK
    pod = model.pods_by_namespace["checkout"][0]
    assert resolver_config(model, pod).search[:3] == (
        "checkout.svc.k8s.corp",
        "svc.k8s.corp",
        "k8s.corp",
    )
    # cluster.local names are nobody's here (the root servers say NXDOMAIN) …
    assert trace(model, src, "payments-api.payments.svc.cluster.local", port=8080).verdict is (
        Verdict.BROKEN
    )
    # … unless the user says that is the domain.
    flagged = trace(
        model, src, "payments-api.payments.svc.cluster.local", port=8080, domain="cluster.local"
    )
    assert flagged.query.path == "pod-to-service"
    assert ("payments", "payments-api") in service_clients(model)
    checks = list(load_all().values())
    rules = sorted({f.rule_id for f in run_checks(model, checks, ScanConfig()).findings})
    assert rules == sorted({f.rule_id for f in run_checks(original, checks).findings})


def test_cluster_domain_flag_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import sys

    from netsleuth.cli import app
    from netsleuth.cli.errors import run_app

    _write(tmp_path, (KIND / "cluster.yaml").read_text().replace("cluster.local", "k8s.corp"))
    base = ["netsleuth", "trace", "-f", str(tmp_path), "checkout/checkout-web"]
    dst = ["payments-api.payments.svc.cluster.local", "-p", "8080", "-o", "json"]

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", [*base, *args])
        code = run_app(app)
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run(*dst)
    assert code == 5  # k8s.corp cluster: a cluster.local name is no Service
    code, out, _ = run(*dst, "--cluster-domain", "Cluster.Local.")
    assert code == 0 and json.loads(out)["query"]["path"] == "pod-to-service"
    code, _, err = run(*dst, "--cluster-domain", "bad..domain")
    assert code == 2 and "is not a DNS domain" in err


def _question(query: bytes) -> str:
    """The name a DNS query asks for."""
    labels, off = [], 12
    while query[off]:
        n = query[off]
        labels.append(query[off + 1 : off + 1 + n].decode())
        off += 1 + n
    return ".".join(labels)


def test_probes_query_the_cluster_domain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe agent's query to a DNS port is for ``kubernetes.default.svc.<domain>``, the
    domain derived from the input (or ``--cluster-domain``), in probe and conformance plans:
    under another domain the cluster DNS would forward it upstream instead of answering."""
    from netsleuth.probe import agent
    from netsleuth.probe.conformance import PairProbe, agent_plans
    from netsleuth.probe.plan import plan_probe

    model = _write(
        tmp_path, (KIND / "cluster.yaml").read_text().replace("cluster.local", "k8s.corp")
    )
    req = plan_probe(model, "checkout/checkout-web", "kube-system/kube-dns", port=53)
    plan = req.agent_plan(timeout=0.1, dns_timeout=None, mtu_max=None)
    assert plan["cluster_domain"] == "k8s.corp"
    assert any(c["port"] == 53 and c["proto"] == "UDP" for c in plan["connect"])
    flagged = plan_probe(model, "checkout/checkout-web", "kube-system/kube-dns", domain="x.y")
    assert flagged.cluster_domain == "x.y"
    pair = PairProbe(
        src="checkout/checkout-web", dst="kube-system/coredns", dst_ip="10.244.0.2",
        protocol="UDP", port=53,
    )  # fmt: skip
    [conf_plan] = agent_plans([pair], 0.1, "k8s.corp").values()
    assert conf_plan["cluster_domain"] == "k8s.corp"

    sent: list[bytes] = []

    class Sock:
        def __init__(self, *_: object) -> None: ...
        def connect(self, _addr: object) -> None: ...
        def send(self, data: bytes) -> None:
            sent.append(data)

        def recv(self, _n: int) -> bytes:
            return b"answer"

        def close(self) -> None: ...

    monkeypatch.setattr(agent.socket, "socket", Sock)
    monkeypatch.setattr(agent.select, "select", lambda r, w, x, t: (r, w, []))
    out = agent.run_plan(
        {
            **plan,
            "resolv_conf": str(tmp_path / "none"),
            "dns": [],
            "mtu": [],
            "connect": [{"proto": "UDP", "ip": "10.96.0.10", "port": 53}],
        }
    )
    assert out["connect"][0]["attempts"][0]["status"] == "connected"
    assert [_question(q) for q in sent] == ["kubernetes.default.svc.k8s.corp"]


def _dns117(model: Any) -> list[Any]:
    checks = [c for c in load_all().values() if c.id == "DNS117"]
    return list(run_checks(model, checks, ScanConfig()).findings)


def test_kubelet_and_corefile_disagreeing_is_an_error_naming_the_corefile(tmp_path: Path) -> None:
    """healthy-kind (owner-chained, kubeadm) with a Corefile serving another zone: every
    pod's Service lookups go upstream. The kubelet and kubeadm agree: the Corefile changes."""
    text = (
        (KIND / "cluster.yaml")
        .read_text()
        .replace("kubernetes cluster.local in-addr.arpa", "kubernetes corp.internal in-addr.arpa")
    )
    model = _write(tmp_path, text)
    [f] = _dns117(model)
    assert f.severity.value == "error" and f.subject.ref() == "ConfigMap/kube-system/coredns"
    assert "cluster.local" in f.message and "corp.internal" in f.message
    assert f.fix is not None and "serve cluster.local" in f.fix.text and "Or," not in f.fix.text
    assert str(f.confirm[0]) == (
        "kubectl get configmap -n kube-system coredns -o 'jsonpath={.data.Corefile}' "
        "| grep kubernetes"
    )
    # trace: the Service name does not resolve, and the hop names the same ConfigMap
    res = trace(model, "checkout/checkout-web", "payments/payments-api", port=8080)
    dns = next(h for h in res.hops if h.layer.value == "dns")
    assert dns.status is Verdict.BROKEN and "cannot be resolved" in dns.summary
    assert dns.change is not None and dns.change.ref() == "ConfigMap/kube-system/coredns"
    # an outside name is not affected
    ext = trace(model, "checkout/checkout-web", "api.stripe.com", port=443)
    assert not any(h.layer.value == "dns" and h.status is Verdict.BROKEN for h in ext.hops)


def test_the_kubelet_config_is_named_when_kubeadm_sides_with_the_corefile(tmp_path: Path) -> None:
    text = (KIND / "cluster.yaml").read_text()
    text = text.replace("clusterDomain: cluster.local", "clusterDomain: corp.internal")
    model = _write(tmp_path, text)
    [f] = _dns117(model)
    assert f.subject.ref() == "ConfigMap/kube-system/kubelet-config"
    assert f.fix is not None and "Set clusterDomain: cluster.local" in f.fix.text


@pytest.mark.parametrize(
    "drop",
    [("coredns",), ("kubelet-config", "kubeadm-config")],
    ids=["no-corefile", "no-kubelet-side"],
)
def test_either_side_absent_is_not_checked(tmp_path: Path, drop: tuple[str, ...]) -> None:
    text = (
        (KIND / "cluster.yaml")
        .read_text()
        .replace("kubernetes cluster.local in-addr.arpa", "kubernetes corp.internal in-addr.arpa")
    )
    text = text.replace("clusterDomain: cluster.local", "clusterDomain: other.example")
    assert _dns117(_write(tmp_path, text, drop)) == []


def test_a_corefile_serving_the_domain_among_others_agrees(tmp_path: Path) -> None:
    text = (
        (KIND / "cluster.yaml")
        .read_text()
        .replace(
            "kubernetes cluster.local in-addr.arpa",
            "kubernetes corp.internal cluster.local in-addr.arpa",
        )
    )
    assert _dns117(_write(tmp_path, text)) == []
