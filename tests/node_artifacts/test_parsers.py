"""Node artifact parsers on real command output captured in network namespaces
(``data/``: ip route, ip -d link, iptables-save, conntrack -S, /proc/net/stat/nf_conntrack
from a kube-proxy-shaped netns), plus junk tolerance."""

from __future__ import annotations

from pathlib import Path

from netsleuth.sources.node_artifacts import (
    parse_conntrack_s,
    parse_ip_link,
    parse_ip_route,
    parse_iptables_save,
    parse_ipvsadm,
    parse_proc_nf_conntrack,
    parse_resolv_conf,
    parse_sysctl,
)
from netsleuth.sources.node_bundle import read_node_bundle

DATA = Path(__file__).parent / "data"


def test_ip_route_real_output() -> None:
    routes = parse_ip_route((DATA / "ip-route.txt").read_text())
    by_dest = {r.destination: r for r in routes}
    assert by_dest["default"].gateway == "192.168.50.1" and by_dest["default"].device == "eth0"
    assert by_dest["10.244.2.0/24"].device == "flannel.1" and by_dest["10.244.2.0/24"].onlink
    assert by_dest["10.244.3.0/24"].mtu == 1400
    assert "10.244.8.0/24" in by_dest  # "unreachable" route type is stripped


def test_ip_link_real_output() -> None:
    links = {link.name: link for link in parse_ip_link((DATA / "ip-d-link.txt").read_text())}
    assert links["lo"].mtu == 65536
    assert links["eth0"].mtu == 9001
    vx = [link for link in links.values() if link.kind == "vxlan"]
    assert vx and vx[0].vxlan_id is not None and vx[0].vxlan_port is not None


def test_iptables_save_real_output_kube_proxy_chains() -> None:
    dump = parse_iptables_save((DATA / "iptables-save-netns.txt").read_text())
    assert "nat" in dump.chains and "KUBE-SERVICES" in dump.chains["nat"]
    dnat = [r for r in dump.rules if r.target == "DNAT"]
    assert dnat and all(r.to_destination for r in dnat)
    svc = [
        r
        for r in dump.rules
        if r.chain == "KUBE-SERVICES" and (r.target or "").startswith("KUBE-SVC-")
    ]
    assert svc and all(r.destination and r.dport and r.comment for r in svc)


def test_conntrack_counters_sum_per_cpu() -> None:
    text = "cpu=0 found=1 insert_failed=2 drop=3 early_drop=0\ncpu=1 found=0 insert_failed=5 drop=1 early_drop=4\n"
    ct = parse_conntrack_s(text)
    assert (ct.insert_failed, ct.drop, ct.early_drop) == (7, 4, 4)
    real = parse_conntrack_s((DATA / "conntrack-S.txt").read_text())
    assert len(real.per_cpu) >= 1 and real.drop == 0
    proc = parse_proc_nf_conntrack((DATA / "nf_conntrack").read_text())
    assert proc.count == 3


def test_ipvsadm() -> None:
    text = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.96.0.1:443 rr
  -> 172.18.0.2:6443              Masq    1      3          0
TCP  10.96.0.10:53 rr
  -> 10.244.0.3:53                Masq    1      0          0
  -> 10.244.0.4:53                Masq    0      0          2
"""
    (api, dns) = parse_ipvsadm(text)
    assert (api.address, api.port, api.real_servers[0].port) == ("10.96.0.1", 443, 6443)
    assert [rs.weight for rs in dns.real_servers] == [1, 0]


def test_junk_lines_become_problems_with_line_numbers() -> None:
    problems: list = []  # type: ignore[type-arg]
    routes = parse_ip_route(
        "default via 10.0.0.1 dev eth0\n%%% garbage\n10.1.0.0/16 dev cni0\n", "r.txt", problems
    )
    assert len(routes) == 2
    assert problems[0].origin.line == 2 and problems[0].origin.file == "r.txt"
    problems.clear()
    dump = parse_iptables_save(
        "*nat\n:KUBE-SERVICES - [0:0]\nnonsense here\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n",
        "i.txt",
        problems,
    )
    assert len(dump.rules) == 1 and problems[0].origin.line == 3
    problems.clear()
    assert parse_sysctl("net.ipv4.ip_forward = 1\nbroken\n", "s", problems) == {
        "net.ipv4.ip_forward": "1"
    }
    assert problems[0].origin.line == 2
    rc = parse_resolv_conf("nameserver 10.0.0.2\nsearch a.internal b\noptions ndots:2 rotate\n")
    assert rc.search == ("a.internal", "b") and ("ndots", "2") in rc.options


def test_bundle(tmp_path: Path) -> None:
    node = tmp_path / "worker-1"
    node.mkdir()
    (node / "ip-route.txt").write_text((DATA / "ip-route.txt").read_text())
    (node / "nf_conntrack_count").write_text("250880\n")
    (node / "nf_conntrack_max").write_text("262144\n")
    (node / "mystery.bin").write_text("x")
    (node / "cni").mkdir()
    (node / "cni" / "10-flannel.conflist").write_text(
        '{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel","delegate":{"mtu":1450}},{"type":"portmap"}]}'
    )
    art, problems = read_node_bundle(node)
    assert art.node == "worker-1" and art.routes
    assert art.conntrack is not None and (art.conntrack.count, art.conntrack.max) == (
        250880,
        262144,
    )
    assert (
        art.cni_configs
        and art.cni_configs[0].mtu == 1450
        and art.cni_configs[0].plugin_types == ("flannel", "portmap")
    )
    assert [p.message for p in problems] == [
        "this section is not a node capture netsleuth recognises (first line 'x')"
    ]
