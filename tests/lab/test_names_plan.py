"""Lab names, the plan and the kube-proxy rules, without root."""

from __future__ import annotations

import re

import pytest

from conftest import SCENARIOS
from netsleuth.lab import names
from netsleuth.lab.kube_proxy import NodeRules, kube_proxy_rules, port_proto_hash, restore_text
from netsleuth.lab.netpol import networkpolicy_rules
from netsleuth.lab.plan import make_plan
from netsleuth.sources.load import load_offline


@pytest.mark.parametrize("bad", ["", "a-b", "Lab", "x" * 17, "a.b", "a/b", "ä"])
def test_lab_names_are_letters_and_digits(bad: str) -> None:
    with pytest.raises(names.LabNameError):
        names.check_lab_name(bad)


def test_prefixes_of_two_labs_never_overlap() -> None:
    # "a" and "ab": neither prefix is a prefix of the other's objects
    a, ab = names.lab_prefix("a"), names.lab_prefix("ab")
    assert not names.node_netns("ab", "x").startswith(a)
    assert not names.node_netns("a", "x").startswith(ab)
    assert names.lab_of_netns(names.pod_netns("ab", "ns", "p")) == "ab"
    # someone else's namespaces are never taken for a lab's
    for other in (
        "netsleuth",
        "netsleuth-",
        "netsleuth-a",
        "cni-1234",
        "netsleuth-a-other",
        "netsleuth-A-wan",
    ):
        assert names.lab_of_netns(other) is None


def test_untrusted_names_are_hashed() -> None:
    ns = names.pod_netns("lab", "ns", "evil; rm -rf /")
    assert re.fullmatch(r"netsleuth-lab-p-ns\.h[0-9a-f]{12}", ns)
    assert len(names.host_veth("a" * 60, "b" * 200)) <= 15


def test_port_proto_hash_is_kube_proxys() -> None:
    # chain names every kubeadm cluster has (kube-dns:dns over UDP, default/kubernetes:https)
    assert port_proto_hash("kube-system/kube-dns:dnsudp") == "TCOU7JCQXEZGVUNU"
    assert port_proto_hash("default/kubernetes:httpstcp") == "NPX46M4PTMTKRN6Y"


def test_plan_healthy_cross_node() -> None:
    model = load_offline([str(SCENARIOS / "healthy-cross-node")])
    plan = make_plan(model, "t1")
    assert [n.name for n in plan.nodes] == ["cp-1", "worker-1", "worker-2"]
    w1 = plan.node("worker-1")
    assert w1 is not None and w1.ip == "192.168.10.11" and w1.pod_cidr == "10.244.1.0/24"
    # Calico IPIP in the model (veth_mtu 1480): carried over VXLAN with the same pod MTU
    assert (w1.pod_mtu, w1.vxlan_mtu, w1.underlay_mtu) == (1480, 1480, 1530)
    assert any("ipip" in n for n in plan.notes)
    # hostNetwork pods are not built, and say why
    assert all(s.reason.startswith("hostNetwork") for s in plan.skipped if "kube-proxy" in s.what)
    dns = [p for p in plan.pods if p.dns_server]
    assert len(dns) == 2 and all(p.namespace == "kube-system" for p in dns)
    web = next(p for p in plan.pods if p.namespace == "checkout")
    assert "nameserver 10.96.0.10" in web.resolv_conf
    assert "search checkout.svc.cluster.local svc.cluster.local cluster.local" in web.resolv_conf
    assert "ndots:5" in web.resolv_conf
    assert ("TCP", 8080) in web.listen


def test_plan_caps_pods_per_node_keeping_dns() -> None:
    model = load_offline([str(SCENARIOS / "healthy-cross-node")])
    plan = make_plan(model, "t1", max_pods=1)
    cp = [p for p in plan.pods if p.node == "cp-1"]
    assert len(cp) == 1 and cp[0].dns_server
    assert any("max-pods" in s.reason for s in plan.skipped)


def _chains(text: str, prefix: str) -> set[str]:
    return set(re.findall(rf"^:({prefix}[A-Z0-9]+) ", text, re.M))


@pytest.mark.parametrize("node", ["cp-1", "worker-1", "worker-2"])
def test_kube_proxy_chains_match_the_scenario_nodes(node: str) -> None:
    """The scenario's iptables-save files are written the way kube-proxy writes them;
    the lab's rules for the same Services and endpoints have the same chain names."""
    scen = SCENARIOS / "healthy-cross-node"
    model = load_offline([str(scen)])
    plan = make_plan(model, "t1")
    rules = NodeRules()
    kube_proxy_rules(model, plan, node, rules)
    ours = restore_text(rules)
    theirs = (scen / "nodes" / node / "iptables-save.txt").read_text()
    for prefix in ("KUBE-SVC-", "KUBE-SEP-"):
        assert _chains(ours, prefix) == _chains(theirs, prefix)
    assert (
        '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP"'
        in ours
    )


def test_networkpolicy_rules_isolate_only_selected_pods() -> None:
    model = load_offline([str(SCENARIOS / "healthy-cross-node")])
    plan = make_plan(model, "t1")
    rules = NodeRules()
    networkpolicy_rules(model, plan, "worker-2", rules)
    text = restore_text(rules)
    api = [p for p in plan.pods if p.node == "worker-2"]
    for p in api:
        # payments is default-deny: each payments-api pod has an ingress and an egress chain
        assert f"-A NETSLEUTH-NP -d {p.ip}/32 -j NETSLEUTH-I-" in text
        assert f"-A NETSLEUTH-NP -s {p.ip}/32 -j NETSLEUTH-E-" in text
    web = next(p for p in plan.pods if p.namespace == "checkout")
    # allow-from-checkout admits checkout-web on TCP 8080 only
    assert f"-s {web.ip}/32 -p tcp -m tcp --dport 8080" in text
    # pods of other nodes get no chains here
    assert f"-d {web.ip}/32 -j" not in text
