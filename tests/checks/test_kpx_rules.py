"""kube-proxy mode detection and the rule readback (KPX601-KPX604) on node facts built in the test.

The iptables text is kube-proxy's own format (comments ``ns/svc:port cluster IP``,
``KUBE-SVC-*`` → ``KUBE-SEP-*`` → ``DNAT --to-destination``); it is split into
rules here with the bare ``-A CHAIN spec`` grammar of iptables-save, so these
tests hold whatever the node-file parser fills in.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from netsleuth.checks.base import load_all
from netsleuth.facts.kube_proxy_mode import ProxyMode, cluster_proxy_mode, node_proxy_mode
from netsleuth.facts.kube_proxy_rules import iptables_service_rules
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.node_artifacts import (
    IptablesDump,
    IptablesRule,
    IpvsRealServer,
    IpvsService,
    NodeArtifacts,
)
from netsleuth.sources.load import load_offline

FIXTURES = Path(__file__).parent / "fixtures"


def parse_iptables_save(text: str) -> IptablesDump:
    chains: dict[str, dict[str, str]] = {}
    rules: list[IptablesRule] = []
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:]
            chains.setdefault(table, {})
        elif line.startswith(":"):
            name, policy = line[1:].split()[:2]
            chains[table][name] = policy
        elif line.startswith("-A "):
            _, chain, spec = line.split(" ", 2)
            rules.append(IptablesRule(table=table, chain=chain, spec=spec))
    return IptablesDump(chains=chains, rules=tuple(rules))


def ipvs(web_real: list[tuple[str, int, int]]) -> tuple[IpvsService, ...]:
    return (
        IpvsService(
            protocol="TCP",
            address="10.96.40.2",
            port=80,
            real_servers=tuple(IpvsRealServer(address=a, port=p, weight=w) for a, p, w in web_real),
        ),
        IpvsService(
            protocol="UDP",
            address="10.96.0.10",
            port=53,
            real_servers=(IpvsRealServer(address="10.244.1.2", port=53),),
        ),
    )


def model_with(fixture: str, **arts: NodeArtifacts) -> ClusterModel:
    base = load_offline([str(FIXTURES / fixture / "cluster.yaml")])
    return replace(base, node_artifacts=arts, kinds_present=base.kinds_present | {"NodeArtifacts"})


def fixture_dump(fixture: str, node: str) -> IptablesDump:
    return parse_iptables_save(
        (FIXTURES / fixture / "nodes" / node / "iptables-save.txt").read_text()
    )


def run(rule_id: str, model: ClusterModel) -> list[str]:
    return [f.message for f in load_all()[rule_id].execute(model)]


def test_service_rules_follow_svc_to_sep_to_dnat() -> None:
    rules = iptables_service_rules(fixture_dump("KPX603/good", "worker-1"))
    web = rules[("10.96.40.2", "TCP", 80)]
    assert web.chain == "KUBE-SVC-WEBWEBWEBWEBWEB1"
    assert web.destinations == {"10.244.1.5:8080", "10.244.2.7:8080"}
    assert rules[("10.96.0.10", "UDP", 53)].destinations == {"10.244.1.2:53"}


def test_cluster_mode_from_configmap_and_default() -> None:
    ipvs_model = load_offline([str(FIXTURES / "KPX604/good/cluster.yaml")])
    info = cluster_proxy_mode(ipvs_model)
    assert info is not None and info.mode == ProxyMode.IPVS and not info.defaulted
    ipt_model = load_offline([str(FIXTURES / "KPX603/good/cluster.yaml")])
    info = cluster_proxy_mode(ipt_model)  # mode: "" means iptables on Linux
    assert info is not None and info.mode == ProxyMode.IPTABLES and info.defaulted


def test_node_mode_from_rules() -> None:
    ipt = NodeArtifacts(node="a", iptables=fixture_dump("KPX603/good", "worker-1"))
    vs = NodeArtifacts(node="b", ipvs=ipvs([("10.244.1.5", 8080, 1)]))
    assert (m := node_proxy_mode(ipt)) is not None and m.mode == ProxyMode.IPTABLES
    assert (m := node_proxy_mode(vs)) is not None and m.mode == ProxyMode.IPVS
    assert node_proxy_mode(NodeArtifacts(node="c")) is None


def test_kpx601_node_left_in_iptables_when_configured_ipvs() -> None:
    model = model_with(
        "KPX601/bad",
        **{
            "worker-1": NodeArtifacts(
                node="worker-1", ipvs=ipvs([("10.244.1.5", 8080, 1), ("10.244.2.7", 8080, 1)])
            ),
            "worker-2": NodeArtifacts(
                node="worker-2", iptables=fixture_dump("KPX601/bad", "worker-2")
            ),
        },
    )
    (msg,) = run("KPX601", model)
    assert "worker-2 runs kube-proxy in iptables mode" in msg and "ipvs" in msg


def test_kpx603_stale_and_missing_sep() -> None:
    model = model_with(
        "KPX603/bad",
        **{
            "worker-1": NodeArtifacts(
                node="worker-1", iptables=fixture_dump("KPX603/bad", "worker-1")
            ),
            "worker-2": NodeArtifacts(
                node="worker-2", iptables=fixture_dump("KPX603/bad", "worker-2")
            ),
        },
    )
    (msg,) = run("KPX603", model)
    assert msg.startswith("node worker-2:")
    assert "stale 10.244.1.4:8080" in msg and "missing 10.244.2.7:8080" in msg


def test_kpx603_missing_chain_for_a_service_with_endpoints() -> None:
    dump = fixture_dump("KPX603/good", "worker-1")
    without_web = replace(dump, rules=tuple(r for r in dump.rules if "10.96.40.2" not in r.spec))
    model = model_with(
        "KPX603/good", **{"worker-1": NodeArtifacts(node="worker-1", iptables=without_web)}
    )
    (msg,) = run("KPX603", model)
    assert "no KUBE-SERVICES rule for 10.96.40.2:80/TCP" in msg


def test_kpx603_good_is_silent() -> None:
    model = model_with(
        "KPX603/good",
        **{
            "worker-1": NodeArtifacts(
                node="worker-1", iptables=fixture_dump("KPX603/good", "worker-1")
            )
        },
    )
    assert run("KPX603", model) == []


def test_kpx604_stale_real_server_but_weight_zero_is_draining() -> None:
    stale = model_with(
        "KPX604/bad",
        **{
            "worker-2": NodeArtifacts(
                node="worker-2", ipvs=ipvs([("10.244.1.4", 8080, 1), ("10.244.1.5", 8080, 1)])
            )
        },
    )
    (msg,) = run("KPX604", stale)
    assert "stale 10.244.1.4:8080" in msg and "missing 10.244.2.7:8080" in msg
    # A terminating endpoint kept with weight 0 is kube-proxy's graceful termination, not staleness.
    draining = model_with(
        "KPX604/good",
        **{
            "worker-2": NodeArtifacts(
                node="worker-2",
                ipvs=ipvs(
                    [("10.244.1.4", 8080, 0), ("10.244.1.5", 8080, 1), ("10.244.2.7", 8080, 1)]
                ),
            )
        },
    )
    assert run("KPX604", draining) == []


def test_kpx603_skips_topology_aware_services() -> None:
    """With topology-aware routing each node's chain holds only its zone's endpoints."""
    base = model_with(
        "KPX603/bad",
        **{
            "worker-2": NodeArtifacts(
                node="worker-2", iptables=fixture_dump("KPX603/bad", "worker-2")
            )
        },
    )
    services = tuple(
        replace(
            s, meta=replace(s.meta, annotations={"service.kubernetes.io/topology-mode": "Auto"})
        )
        if s.name == "web"
        else s
        for s in base.services
    )
    assert run("KPX603", replace(base, services=services)) == []
