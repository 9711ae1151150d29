"""The checks that read node evidence, on the outputs captured in the test network namespace
(``tests/node_artifacts/data/netns``) against a cluster that matches them, then with one
fault edited into the capture at a time. Expected values follow kube-proxy's rules
(pkg/proxy/iptables/proxier.go): n endpoints get probabilities 1/n, 1/(n-1), …, none."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from fixture_builders import Obj, endpoint_slice, namespace, node, service, svc_port

from netsleuth.checks.base import load_all
from netsleuth.model.findings import Finding, Severity
from netsleuth.sources.load import load_offline

NETNS = Path(__file__).parents[1] / "node_artifacts" / "data" / "netns"
DOC = Path(__file__).parents[1] / "node_artifacts" / "data" / "documented"


def ports(*specs: tuple[str, int, str]) -> list[Obj]:
    return [{"name": n, "port": p, "protocol": proto} for n, p, proto in specs]


def cluster(
    *, web_ip: str = "10.96.40.2", web_node_port: int = 30080, proxy_mode: str = "iptables"
) -> list[Obj]:
    """The Services whose rules the captured node holds (see netns_node.py)."""
    web = service(
        "web",
        "shop",
        {"app": "web"},
        [{**svc_port(80, 8080, "http"), "nodePort": web_node_port}],
        cluster_ip=web_ip,
        type_="NodePort",
    )
    dns = service(
        "kube-dns",
        "kube-system",
        {"k8s-app": "kube-dns"},
        [svc_port(53, 53, "dns", "UDP")],
        cluster_ip="10.96.0.10",
        ipFamilies=["IPv4", "IPv6"],
        ipFamilyPolicy="PreferDualStack",
    )
    dns["spec"]["clusterIPs"] = ["10.96.0.10", "fd00:10:96::a"]
    v6 = endpoint_slice(
        "kube-dns",
        "kube-system",
        [("fd00:10:244:1::5", "coredns-a", "worker-1", True)],
        ports(("dns", 53, "UDP")),
    )
    v6["addressType"] = "IPv6"
    v6["metadata"]["name"] = "kube-dns-v6"
    objs: list[Obj] = [
        namespace("default"),
        namespace("kube-system"),
        namespace("shop"),
        node("worker-1", "192.168.50.11", "10.244.1.0/24"),
        node("worker-2", "192.168.50.12", "10.244.2.0/24"),
        node("worker-3", "192.168.50.13", "10.244.3.0/24"),
        service(
            "kubernetes", "default", None, [svc_port(443, 6443, "https")], cluster_ip="10.96.0.1"
        ),
        endpoint_slice(
            "kubernetes",
            "default",
            [("192.168.50.10", "kube-apiserver", "cp-1", True)],
            ports(("https", 6443, "TCP")),
        ),
        dns,
        endpoint_slice(
            "kube-dns",
            "kube-system",
            [
                ("10.244.1.5", "coredns-a", "worker-1", True),
                ("10.244.2.7", "coredns-b", "worker-2", True),
            ],
            ports(("dns", 53, "UDP")),
        ),
        v6,
        web,
        endpoint_slice(
            "web",
            "shop",
            [
                ("10.244.1.6", "web-a", "worker-1", True),
                ("10.244.2.8", "web-b", "worker-2", True),
                ("10.244.2.9", "web-c", "worker-2", True),
            ],
            ports(("http", 8080, "TCP")),
        ),
        service(
            "cart", "shop", {"app": "cart"}, [svc_port(80, 8080, "http")], cluster_ip="10.96.7.7"
        ),
        endpoint_slice("cart", "shop", [], ports(("http", 8080, "TCP"))),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
            "data": {"config.conf": f'mode: "{proxy_mode}"\n'},
        },
    ]
    return objs


def load(tmp_path: Path, objs: list[Obj], captures: dict[str, str]):  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cluster.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objs}, sort_keys=False)
    )
    for rel, text in captures.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return load_offline([str(tmp_path)])


def run(model, rule_id: str) -> list[Finding]:  # type: ignore[no-untyped-def]
    return list(load_all()[rule_id].execute(model))


IPT = (NETNS / "iptables-nft-save.txt").read_text()


def test_the_captured_rules_match_their_cluster(tmp_path: Path) -> None:
    m = load(
        tmp_path,
        cluster(),
        {"worker-1/iptables.txt": IPT + (NETNS / "ip6tables-nft-save.txt").read_text()},
    )
    assert m.problems == ()
    assert run(m, "KPX603") == []


def test_uneven_split_and_fallthrough(tmp_path: Path) -> None:
    # 0.5 then 0.5 then a last rule that also has 0.5: 50 %, 25 %, 12.5 %, 12.5 % falls through
    text = IPT.replace("--probability 0.33333333349", "--probability 0.50000000000").replace(
        '"shop/web:http -> 10.244.2.9:8080" -j',
        '"shop/web:http -> 10.244.2.9:8080" -m statistic --mode random --probability 0.50000000000 -j',
    )
    (f,) = run(load(tmp_path, cluster(), {"worker-1/rules.txt": text}), "KPX603")
    # the object to change is kube-proxy (its DaemonSet); the Service is named in the message
    assert f.subject.ref() == "DaemonSet/kube-system/kube-proxy" and f.severity is Severity.ERROR
    assert "kube-proxy rules for shop/web are out of date" in f.message
    assert "12.5% of new connections match no endpoint rule" in f.message
    assert (
        "uneven split (10.244.1.6:8080 50.0%, 10.244.2.8:8080 25.0%, 10.244.2.9:8080 12.5%"
        in f.message
    )
    assert "each of the 3 endpoints 33.3%" in f.message


def test_malformed_dnat(tmp_path: Path) -> None:
    text = IPT.replace("--to-destination 10.244.2.9:8080", "--to-destination :0")
    (f,) = run(load(tmp_path, cluster(), {"worker-1/rules.txt": text}), "KPX603")
    assert "malformed DNAT --to-destination ':0'" in f.message
    assert "stale :0" in f.message and "missing 10.244.2.9:8080" in f.message


def test_stale_node_port_after_the_service_changed_it(tmp_path: Path) -> None:
    (f,) = run(load(tmp_path, cluster(web_node_port=30081), {"worker-1/rules.txt": IPT}), "KPX603")
    assert "no KUBE-NODEPORTS rule for node port 30081/TCP" in f.message
    assert "stale node port 30080/TCP (the Service's node port is now 30081/TCP)" in f.message


def test_old_cluster_ip_after_the_service_was_recreated(tmp_path: Path) -> None:
    found = run(load(tmp_path, cluster(web_ip="10.96.40.3"), {"worker-1/rules.txt": IPT}), "KPX603")
    texts = [f.message for f in found]
    assert any("no KUBE-SERVICES rule for 10.96.40.3:80/TCP" in t for t in texts)
    assert any(
        "still has KUBE-SVC-WEB3ENDPOINTS0A for the old ClusterIP 10.96.40.2:80/TCP of shop/web, "
        "which was created again with ClusterIP 10.96.40.3" in t
        for t in texts
    )
    assert {f.subject.ref() for f in found} == {"DaemonSet/kube-system/kube-proxy"}


def test_filtered_dump_reports_what_it_shows_only(tmp_path: Path) -> None:
    lines = [ln for ln in IPT.splitlines() if "KUBE-SVC-TCOU" in ln or "KUBE-SEP-ZXMN" in ln]
    lines = [ln.replace("10.244.2.7:53", "10.244.2.99:53") for ln in lines]
    text = "$ iptables-save | grep -e KUBE-SVC-TCOU -e KUBE-SEP-ZXMN\n" + "\n".join(lines) + "\n"
    (f,) = run(load(tmp_path, cluster(), {"worker-1/grep.txt": text}), "KPX603")
    assert "rules for kube-system/kube-dns are out of date" in f.message
    assert "stale 10.244.2.99:53" in f.message
    assert "missing" not in f.message  # a grep can cut anything out: absence proves nothing
    assert "no KUBE-SERVICES rule" not in f.message


def test_kube_proxy_log_in_a_cluster_info_dump_is_evidence(tmp_path: Path) -> None:
    from fixture_builders import container, pod

    p = pod(
        "kube-proxy-x7k2p",
        "kube-system",
        {"k8s-app": "kube-proxy"},
        [container("kube-proxy", "registry.k8s.io/kube-proxy:v1.30.4")],
        node_name="worker-1",
        ip="192.168.50.11",
    )
    log = (
        "==== START logs for container kube-proxy of pod kube-system/kube-proxy-x7k2p ====\n"
        + (DOC / "kube-proxy.log").read_text()
        + "==== END logs for container kube-proxy of pod kube-system/kube-proxy-x7k2p ====\n"
    )
    text = IPT.replace("--to-destination 10.244.2.9:8080", "--to-destination 10.244.2.99:8080")
    m = load(
        tmp_path,
        [*cluster(), p],
        {"worker-1/rules.txt": text, "kube-system/kube-proxy-x7k2p/logs.txt": log},
    )
    (f,) = run(m, "KPX603")
    logged = [e for e in f.evidence if e.field == "kube-proxy log: failed syncs"]
    assert [e.object for e in logged] == ["Pod/kube-system/kube-proxy-x7k2p"]
    assert logged[0].value.startswith("4× ")
    (g,) = run(m, "KPX613")
    assert g.subject.ref() == "Pod/kube-system/kube-proxy-x7k2p"
    assert (
        "failed to sync its rules 4 time(s) (E0515 10:11:12.345678 … I0515 10:11:42.400144)"
        in g.message
    )


def test_kube_ipvs0_addresses_against_services(tmp_path: Path) -> None:
    addr = (NETNS / "ip-addr.txt").read_text()
    ipvs = (DOC / "ipvsadm-Ln.txt").read_text()
    m = load(
        tmp_path,
        cluster(proxy_mode="ipvs"),
        {"worker-1/capture.txt": addr + "$ ipvsadm -Ln\n" + ipvs},
    )
    found = run(m, "KPX611")
    # the captured node binds 10.96.0.1 and 10.96.0.10; web (10.96.40.2) and cart (10.96.7.7) are missing
    errors = [f for f in found if f.severity is Severity.ERROR]
    assert len(errors) == 1
    assert "not bound 3 Service address(es)" in errors[0].message
    assert (
        "10.96.40.2 (shop/web)" in errors[0].message
        and "10.96.7.7 (shop/cart)" in errors[0].message
    )
    assert "fd00:10:96::a (kube-system/kube-dns)" in errors[0].message


def test_local_route_over_another_nodes_pods(tmp_path: Path) -> None:
    routes = (NETNS / "ip-route-all.txt").read_text()
    addr = (NETNS / "ip-addr.txt").read_text()
    (f,) = run(load(tmp_path, cluster(), {"worker-1/capture.txt": routes + addr}), "CNI421")
    assert f.subject.ref() == "Node/worker-1"
    # kube-ipvs0's ClusterIPs and the node's own gateways (cni0, flannel.1) are not reported
    assert "local 10.244.3.0/24 dev lo covers worker-3's pod CIDR 10.244.3.0/24" in f.message
    assert "10.96.0.1" not in f.message and "10.244.1.1" not in f.message
    assert str(f.confirm[1]) == "ip route get 10.244.3.2"


def test_conntrack_rates_and_the_pod_netns_caveat(tmp_path: Path) -> None:
    ct = (NETNS / "conntrack-S.txt").read_text().split("\n", 1)[1]
    later = ct.replace("insert_failed=0", "insert_failed=120", 1)
    links = (NETNS / "ip-d-link.txt").read_text()
    rising = f"$ date -u\n2024-05-15T10:00:00Z\n$ conntrack -S\n{later.replace('=120', '=60')}$ date -u\n2024-05-15T10:01:00Z\n$ conntrack -S\n{later}"
    (f,) = run(load(tmp_path / "a", cluster(), {"worker-1/c.txt": links + rising}), "CT702")
    assert f.severity is Severity.WARNING
    assert "rising in 60 s: insert_failed +60 (1.00/s)" in f.message
    flat = f"$ date -u\n2024-05-15T10:00:00Z\n$ conntrack -S\n{later}$ date -u\n2024-05-15T10:01:00Z\n$ conntrack -S\n{later}"
    (g,) = run(load(tmp_path / "b", cluster(), {"worker-1/c.txt": links + flat}), "CT702")
    assert g.severity is Severity.INFO and "not rising during the capture (in 60 s)" in g.message
    pod_links = (
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n"
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
        "3: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP mode DEFAULT group default\n"
        "    link/ether 7a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff link-netnsid 0\n"
    )
    (h,) = run(
        load(
            tmp_path / "c",
            cluster(),
            {"worker-1/c.txt": "$ ip link\n" + pod_links + "$ conntrack -S\n" + later},
        ),
        "CT702",
    )
    assert h.severity is Severity.INFO
    assert "inside a pod's network namespace" in h.message


def test_table_full_in_dmesg_without_a_count(tmp_path: Path) -> None:
    (f,) = run(
        load(tmp_path, cluster(), {"worker-1/dmesg.txt": (DOC / "dmesg.txt").read_text()}), "CT701"
    )
    assert f.severity is Severity.WARNING
    assert (
        "logged 'nf_conntrack: table full, dropping packet' 3× (last [86017.800441])" in f.message
    )


@pytest.mark.parametrize(
    ("rule_id", "fragment"),
    [
        ("CNI423", "neighbor table overflow' 1×"),
        ("MTU511", "dropped packets larger than the MTU 1×"),
    ],
)
def test_kernel_events(tmp_path: Path, rule_id: str, fragment: str) -> None:
    (f,) = run(
        load(tmp_path, cluster(), {"worker-1/dmesg.txt": (DOC / "dmesg.txt").read_text()}), rule_id
    )
    assert fragment in f.message and f.subject.ref() == "Node/worker-1"


def test_nftables_mode_from_the_ruleset(tmp_path: Path) -> None:
    from netsleuth.facts.kube_proxy_mode import ProxyMode, node_proxy_mode

    m = load(
        tmp_path,
        cluster(),
        {"worker-1/nft.txt": (NETNS / "nft-ruleset-nftables-mode.txt").read_text()},
    )
    info = node_proxy_mode(m.node_artifacts["worker-1"])
    assert info is not None and info.mode is ProxyMode.NFTABLES
