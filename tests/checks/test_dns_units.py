"""Table tests for the DNS helpers: Corefile parsing, resolver query counts, hostnames, quantities."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsleuth.checks.base import load_all, run_checks
from netsleuth.checks.rules.dns_corefile_unusual_upstream import is_usual_upstream
from netsleuth.checks.rules.dns_ndots_external_names import external_hostnames
from netsleuth.facts.kube_dns import parse_corefile, pod_resolver
from netsleuth.facts.quantity import parse_quantity
from netsleuth.model.cluster import ClusterModel, build_model
from netsleuth.model.findings import Confidence, Severity
from netsleuth.model.node_artifacts import NodeArtifacts, ResolvConf
from netsleuth.model.objects import ConfigMap, DNSConfig, Meta, Pod, PodSpec
from netsleuth.sources.load import load_offline

FIXTURES = Path(__file__).parent / "fixtures"


def test_corefile_top_level_plugins_per_block() -> None:
    text = """.:53 {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
    }
    forward . 8.8.8.8 { # comment
       max_concurrent 1000
    }
    cache 30
}
corp.example.com:53 {
    forward . 10.20.0.53
}
"""
    cf = parse_corefile(text, ConfigMap(meta=Meta(name="coredns", namespace="kube-system")))
    # nested lines (pods, fallthrough, max_concurrent) are not plugins of the server block
    assert [d.name for d in cf.in_block(".")] == ["errors", "kubernetes", "forward", "cache"]
    fwd = cf.get("forward")
    assert fwd is not None and fwd.args == (".", "8.8.8.8") and fwd.line == 7
    assert [d.args for d in cf.in_block("corp.example.com")] == [(".", "10.20.0.53")]
    assert not cf.has("log")


@pytest.mark.parametrize(
    ("ndots", "name", "queries"),
    [
        (5, "api.stripe.com", 8),  # 3 search domains + the name, A and AAAA
        (5, "api.stripe.com.", 2),  # trailing dot: absolute, asked once (A + AAAA)
        (2, "api.stripe.com", 2),  # 2 dots >= ndots 2: tried as is first
        (5, "a.b.c.d.e.example.com", 2),  # 6 dots >= 5
        (99, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.example.com", 2),  # glibc caps ndots at 15
    ],
)
def test_query_amplification(ndots: int, name: str, queries: int) -> None:
    cfg = DNSConfig(options=(("ndots", str(ndots)),)) if ndots != 5 else None
    pod = Pod(meta=Meta(name="p", namespace="shop"), spec=PodSpec(dns_config=cfg))
    res = pod_resolver(ClusterModel(), pod)
    assert res is not None
    assert res.search == ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local")
    assert res.queries_for(name) == queries


def test_resolver_depends_on_dns_policy() -> None:
    model = ClusterModel()
    assert pod_resolver(model, Pod(meta=Meta(name="p"), spec=PodSpec(dns_policy="Default"))) is None
    # ClusterFirst on hostNetwork falls back to the node's resolver
    assert pod_resolver(model, Pod(meta=Meta(name="p"), spec=PodSpec(host_network=True))) is None
    hn = Pod(
        meta=Meta(name="p"), spec=PodSpec(host_network=True, dns_policy="ClusterFirstWithHostNet")
    )
    assert pod_resolver(model, hn) is not None


def test_external_hostnames() -> None:
    values = [
        "https://api.stripe.com/v1",
        "http://cart.shop.svc.cluster.local:8080",  # cluster name
        "/etc/app/config.yaml",  # a path
        "db.internal.example.com:5432",
        "--endpoint=s3.eu-west-1.amazonaws.com",
        "example.com",  # one dot: tried as is after the search list, but < 2 dots is not reported
        "release.v1.2",  # not a TLD
        "postgres://user:pw@pg.prod.example.org/db",
    ]
    assert external_hostnames(values, "cluster.local") == [
        "api.stripe.com",
        "db.internal.example.com",
        "s3.eu-west-1.amazonaws.com",
        "pg.prod.example.org",
    ]


@pytest.mark.parametrize(
    ("target", "usual"),
    [
        ("/etc/resolv.conf", True),
        ("8.8.8.8", True),
        ("169.254.169.253", True),
        ("tls://1.1.1.1", True),
        ("10.20.0.53", False),
        ("dns.corp.example.com", False),
        ("8.8.8.8:53", True),
    ],
)
def test_usual_upstreams(target: str, usual: bool) -> None:
    assert is_usual_upstream(target) is usual


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", 0.1),
        ("1", 1.0),
        ("0.5", 0.5),
        ("256Mi", 256 * 2**20),
        ("1G", 1e9),
        ("170Mi", 170 * 2**20),
        ("bogus", None),
        (None, None),
    ],
)
def test_quantities(text: str | None, value: float | None) -> None:
    assert parse_quantity(text) == value


def test_loop_risk_with_stub_resolver_on_nodes() -> None:
    """DNS110's warning case: node resolv.conf points at systemd-resolved's 127.0.0.53."""
    base = load_offline([str(FIXTURES / "DNS110" / "good")])
    objects = [
        *base.namespaces.values(),
        *base.nodes.values(),
        *base.pods,
        *base.workloads,
        *base.services,
        *base.endpoint_slices,
        *base.config_maps,
        NodeArtifacts(node="node-a", resolv_conf=ResolvConf(nameservers=("127.0.0.53",))),
    ]
    model = build_model(objects)
    result = run_checks(model, [load_all()["DNS110"]])
    [f] = result.findings
    assert f.severity is Severity.WARNING and f.confidence is Confidence.ARTIFACTS
    assert "127.0.0.53" in f.message and "node-a" in f.message
