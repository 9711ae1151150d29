"""Table tests for the accuracy rules: evidence weighed, coverage judged, defaults calibrated,
operator and OpenShift objects understood. Each case says which Kubernetes fact it holds."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netsleuth.checks.base import ScanResult, load_all, run_checks
from netsleuth.facts.cluster_cidrs import pod_addresses, prefix_for
from netsleuth.facts.cni_detect import primary_cni, uses_node_pod_cidr
from netsleuth.model.cluster_dns import dns_pods, dns_service
from netsleuth.model.findings import Severity
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace

sys.path.insert(0, str(Path(__file__).parent))
from fixture_builders import event, network_policy, port, svc_port
from make_fixtures import app, system

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "accuracy"
SCENARIOS = ROOT / "tests" / "scenarios"
Obj = dict[str, Any]


def _scan(tmp_path: Path, objs: list[Obj], *ids: str) -> ScanResult:
    (tmp_path / "c.yaml").write_text("---\n".join(yaml.safe_dump(o) for o in objs))
    model = load_offline([str(tmp_path)])
    return run_checks(model, [load_all()[i] for i in ids] if ids else load_all().values())


# ---------------------------------------------------------------- IPAM arithmetic


@pytest.mark.parametrize(
    ("cidr", "pods"),
    [
        ("10.244.1.0/24", 253),  # host-local: .1 is the gateway, .0 and .255 are not hosts
        ("10.244.0.64/26", 61),  # the pod-cidr-exhausted scenario: 61 pods fit, not 62
        ("10.244.3.0/28", 13),
        ("fd00:10:244:1::/120", 254),  # IPv6: no broadcast, network and gateway reserved
    ],
)
def test_pod_addresses_net_of_reserved(cidr: str, pods: int) -> None:
    assert pod_addresses(ipaddress.ip_network(cidr)) == pods


def test_prefix_for_max_pods() -> None:
    # kubelet's default maxPods 110 needs a /25 (125 addresses); 250 needs a /24
    assert (prefix_for(110), prefix_for(250), prefix_for(253), prefix_for(254)) == (25, 24, 24, 23)


# ---------------------------------------------------------------- CoreDNS calibration


def test_dns106_default_limit_is_not_an_alarm(tmp_path: Path) -> None:
    # kubeadm, kind, k3s and EKS ship CoreDNS with limits.memory 170Mi
    assert not _scan(tmp_path, system(limits={"memory": "170Mi"}), "DNS106").findings


def test_dns106_fires_when_coredns_was_oomkilled(tmp_path: Path) -> None:
    objs = system(limits={"memory": "170Mi"}, restarts=4, last_reason="OOMKilled")
    [f] = _scan(tmp_path, objs, "DNS106").findings
    assert "was OOMKilled" in f.message and f.subject.ref() == "Deployment/kube-system/coredns"
    assert f.fix is not None and f.fix.command is not None
    assert "--limits=memory=384Mi" in str(f.fix.command)  # at least twice the limit it died at


# ---------------------------------------------------------------- evidence weighing


def test_svc204_declared_other_port_alone_is_a_warning(tmp_path: Path) -> None:
    objs = app("cart", ports=[port(9090, "http")], svc_ports=[svc_port(80, 8080, "http")])
    [f] = _scan(tmp_path, objs, "SVC204").findings
    assert f.severity is Severity.WARNING


def test_svc204_port_env_makes_it_an_error(tmp_path: Path) -> None:
    objs = app("cart", ports=[], env={"HTTP_PORT": "9090"}, svc_ports=[svc_port(80, 8080, "http")])
    [f] = _scan(tmp_path, objs, "SVC204").findings
    assert f.severity is Severity.ERROR and "env HTTP_PORT=9090" in f.message


def test_svc204_silent_without_any_clue(tmp_path: Path) -> None:
    # declaring container ports is optional: an undeclared target with no other clue is legal
    objs = app("cart", ports=[], svc_ports=[svc_port(80, 8080, "http")])
    assert not _scan(tmp_path, objs, "SVC204").findings


def test_svc211_working_probe_on_undeclared_health_port_is_normal(tmp_path: Path) -> None:
    # CoreDNS probes 8080 (/health) and 8181 (/ready) and declares neither: not a fault
    objs = system()
    assert not _scan(tmp_path, objs, "SVC211").findings


def test_svc211_probe_timeouts_on_undeclared_health_port_are_not_about_the_port() -> None:
    # coredns-cpu-throttled: CoreDNS's liveness probe (8080, undeclared, the upstream default)
    # times out while the container is throttled and the pods restart. Something listens on
    # 8080; the cause is CPU (DNS105), so SVC211 must not blame the port.
    model = load_offline([str(ROOT / "tests/scenarios/coredns-cpu-throttled")])
    assert any(e.reason == "Unhealthy" and "Client.Timeout" in e.message for e in model.events), (
        "the scenario should hold the timing-out probe events this test is about"
    )
    assert not run_checks(model, [load_all()["SVC211"]]).findings


def test_svc211_failing_readiness_probe_on_undeclared_port(tmp_path: Path) -> None:
    objs = app("cart", ports=[port(8080, "http")], readiness=8081, ready=False)
    objs += [
        event(
            o,
            "Unhealthy",
            "Readiness probe failed: dial tcp 10.244.0.20:8081: connect: connection refused",
            count=40,
        )
        for o in objs
        if o["kind"] == "Pod"
    ]
    [f] = _scan(tmp_path, objs, "SVC211").findings
    assert f.subject.ref() == "Deployment/shop/cart" and "port 8081" in f.message


def test_svc212_names_the_rollback_and_svc202_stays_quiet(tmp_path: Path) -> None:
    objs = yaml.load_all(
        (ROOT / "tests/checks/fixtures/SVC212/bad/cluster.yaml").read_text(),
        Loader=yaml.CSafeLoader,
    )
    res = _scan(tmp_path, [o for o in objs if o], "SVC212", "SVC202")
    [f] = res.findings
    assert f.rule_id == "SVC212" and f.fix is not None
    assert '"version":"blue"' in str(f.fix.command)


# ---------------------------------------------------------------- coverage and inconclusive


def _ingress_with_tls(secret_namespaces: list[str]) -> list[Obj]:
    objs = app("web", ns="shop")
    objs.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "web", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ],
            },
        }
    )
    for ns in secret_namespaces:
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "other", "namespace": ns},
                "type": "Opaque",
            }
        )
    return objs


def test_ing804_secrets_listed_across_namespaces_count_as_complete(tmp_path: Path) -> None:
    # `kubectl get secrets -A`: shop holds none, two other namespaces hold some
    res = _scan(tmp_path, _ingress_with_tls(["kube-system", "monitoring"]), "ING804")
    assert [f.rule_id for f in res.findings] == ["ING804"] and not res.inconclusive


def test_ing804_inconclusive_when_coverage_is_ambiguous(tmp_path: Path) -> None:
    # Secrets of one other namespace only: maybe `-n monitoring`; absence in shop proves nothing
    res = _scan(tmp_path, _ingress_with_tls(["monitoring"]), "ING804")
    assert not res.findings
    [i] = res.inconclusive
    assert i.rule_id == "ING804" and "monitoring only" in i.reason


def test_pol303_reported_once_for_a_policy_split_by_pod_group(tmp_path: Path) -> None:
    # allow-dns (all pods) misses CoreDNS; allow-db selects only web, so web and worker are
    # two groups of pods with different selecting policies: still one fault, one finding
    wrong_dns = network_policy(
        "allow-dns",
        "shop",
        {},
        egress=[
            {
                "to": [{"namespaceSelector": {"matchLabels": {"name": "kube-system"}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }
        ],
        policy_types=["Egress"],
    )
    allow_db = network_policy(
        "allow-db",
        "shop",
        {"matchLabels": {"app": "web"}},
        egress=[{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}],
        policy_types=["Egress"],
    )
    objs = [
        *system(),
        *app("web", nodes=False),
        *app("worker", nodes=False, with_namespace=False, cluster_ip="10.96.10.20"),
        wrong_dns,
        allow_db,
    ]
    [f] = _scan(tmp_path, objs, "POL303").findings
    assert f.subject.ref() == "NetworkPolicy/shop/allow-dns" and "4 pod(s)" in f.message


# ---------------------------------------------------------------- operators, OpenShift, kind


def test_operator_workloads_in_manifests_are_not_services_without_endpoints() -> None:
    res = run_checks(load_offline([str(DATA / "operator-manifests")]), [load_all()["SVC201"]])
    assert not res.findings and not res.inconclusive


def test_operator_cr_named_when_a_dump_lacks_its_pods(tmp_path: Path) -> None:
    # a dump with pods in monitoring but none created for the Prometheus CR: the CR is named
    docs = [
        d
        for d in yaml.load_all(
            (DATA / "operator-manifests" / "monitoring.yaml").read_text(), Loader=yaml.CSafeLoader
        )
        if d
    ]
    dump = app("grafana-agent", ns="monitoring") + docs
    res = _scan(tmp_path, dump, "SVC201")
    subjects = sorted(f.subject.ref() for f in res.findings)
    assert subjects == ["Alertmanager/monitoring/main", "Prometheus/monitoring/k8s"]


def test_openshift_dns_is_the_cluster_dns() -> None:
    model = load_offline([str(DATA / "openshift-dns")])
    svc = dns_service(model)
    assert svc is not None and (svc.namespace, svc.name) == ("openshift-dns", "dns-default")
    assert [p.name for p in dns_pods(model)] == ["dns-default-x7k2p"]
    res = trace(model, "shop/web", "shop/web", port=8080)
    dns = next(h for h in res.hops if str(h.layer) == "dns")
    assert str(dns.status) == "ok", dns.summary


def test_kindnet_is_detected_and_allocates_from_node_pod_cidrs() -> None:
    model = load_offline([str(SCENARIOS / "healthy-kind")])
    cni = primary_cni(model)
    assert cni is not None and (cni.name, cni.encapsulation) == ("kindnet", "none")
    assert uses_node_pod_cidr(model) is not None


def test_loadbalancer_in_unapplied_manifests_is_not_traced_as_pending(tmp_path: Path) -> None:
    # A LoadBalancer Service as published (no clusterIP, no status) was never applied: the
    # trace cannot know its address and must not call it <pending> (ING806 reads it the same).
    manifest = tmp_path / "front.yaml"
    manifest.write_text(
        """\
apiVersion: v1
kind: Service
metadata: {name: front, namespace: web}
spec: {type: LoadBalancer, selector: {app: front}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: front, namespace: web}
spec:
  selector: {matchLabels: {app: front}}
  template:
    metadata: {labels: {app: front}}
    spec: {containers: [{name: front, image: f:1, ports: [{containerPort: 8080}]}]}
"""
    )
    result = trace(load_offline([str(manifest)]), "external", "web/front", port=80)
    [lb] = [h for h in result.hops if str(h.layer) == "loadbalancer"]
    assert str(lb.status) == "not-checked" and "<pending>" not in lb.summary
    assert str(result.verdict) != "broken"
