"""Node captures recognised by content: every kind on real output (``data/netns``, captured
in a test network namespace) or documented output (``data/documented``), then the same
outputs renamed, concatenated, behind different prompt styles, filtered, broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsleuth.model.logs import EventKind
from netsleuth.model.node_artifacts import EvidenceKind as K
from netsleuth.sources.load import load_offline
from netsleuth.sources.node_bundle import NodeEvidence
from netsleuth.sources.node_sniff import sniff

DATA = Path(__file__).parent / "data"
NETNS = DATA / "netns"
DOC = DATA / "documented"


def body(path: Path) -> str:
    """A fixture without its ``$ command`` header line."""
    text = path.read_text()
    return text.split("\n", 1)[1] if text.startswith("$ ") else text


def evidence(*files: Path, node: str = "worker-1") -> NodeEvidence:
    ev = NodeEvidence(node)
    for f in files:
        ev.add_path(f)
    return ev


# Every real capture, by the kind it must be recognised as.
REAL = {
    "ip-d-link.txt": K.IP_LINK,
    "ip-addr.txt": K.IP_ADDR,
    "ip-route-all.txt": K.IP_ROUTE,
    "ip-6-route-all.txt": K.IP_ROUTE,
    "ip-rule.txt": K.IP_RULE,
    "iptables-nft-save.txt": K.IPTABLES_SAVE,
    "ip6tables-nft-save.txt": K.IPTABLES_SAVE,
    "iptables-legacy-save.txt": K.IPTABLES_SAVE,
    "ip6tables-legacy-save.txt": K.IPTABLES_SAVE,
    "nft-ruleset.txt": K.NFT_RULESET,
    "nft-ruleset-nftables-mode.txt": K.NFT_RULESET,
    "conntrack-S.txt": K.CONNTRACK_STATS,
    "conntrack-S-end.txt": K.CONNTRACK_STATS,
    "conntrack-C.txt": K.CONNTRACK_COUNT,
    "sysctl.txt": K.SYSCTL,
    "resolv-conf.txt": K.RESOLV_CONF,
    "cni-conf.txt": K.CNI_CONFLIST,
    "host-local-ipam.txt": K.HOST_LOCAL_IPAM,
    "ethtool-S.txt": K.ETHTOOL_STATS,
    "date.txt": K.DATE,
    "date-end.txt": K.DATE,
    "uptime.txt": K.UPTIME,
    "dmesg-netns.txt": K.DMESG,
}
DOCUMENTED = {
    "ipvsadm-Ln.txt": K.IPVSADM,
    "ipvsadm-stats.txt": K.IPVSADM_STATS,
    "ipvsadm-rate.txt": K.IPVSADM_RATE,
    "proc-net-ip_vs.txt": K.PROC_IP_VS,
    "lsmod.txt": K.LSMOD,
    "dmesg.txt": K.DMESG,
    "kube-proxy.log": K.KUBE_PROXY_LOG,
    "coredns.log": K.COREDNS_LOG,
    "kubelet.log": K.KUBELET_LOG,
    "calico-node.log": K.CNI_LOG,
}


def test_every_fixture_is_a_file_the_table_knows() -> None:
    assert {p.name for p in NETNS.glob("*.txt")} == set(REAL)
    assert {p.name for p in DOC.iterdir() if p.name != "README.md"} == set(DOCUMENTED)


@pytest.mark.parametrize(
    ("path", "kind"),
    [(NETNS / n, k) for n, k in REAL.items()] + [(DOC / n, k) for n, k in DOCUMENTED.items()],
    ids=lambda x: x.name if isinstance(x, Path) else str(x),
)
def test_each_kind_is_recognised_with_and_without_its_header(path: Path, kind: K) -> None:
    with_header = sniff(path.read_text())
    assert [s.kind for s in with_header] == [kind]
    assert with_header[0].first_line == 1
    without = sniff(body(path), "capture.txt")
    if kind in (K.CONNTRACK_COUNT,):
        # a bare number needs its command (or a telling file name)
        assert [s.kind for s in without] == [None]
        assert [s.kind for s in sniff(body(path), "conntrack-C.txt")] == [kind]
    elif path.name.endswith("legacy-save.txt") and not body(path).strip():
        assert without == []  # an empty output without its command is nothing
    else:
        assert [s.kind for s in without] == [kind]
    ev = evidence(path)
    ev.build()
    assert ev.problems == [], [p.describe() for p in ev.problems]


def test_real_links_addresses_routes_rules() -> None:
    art, problems = evidence(
        NETNS / "ip-d-link.txt",
        NETNS / "ip-addr.txt",
        NETNS / "ip-route-all.txt",
        NETNS / "ip-rule.txt",
    ).build()
    assert problems == []
    links = {link.name: link for link in art.links or ()}
    vx = links["flannel.1"]
    assert (vx.kind, vx.vxlan_id, vx.vxlan_port, vx.mtu) == ("vxlan", 1, 8472, 1450)
    assert links["cni0"].kind == "bridge" and links["eth0"].kind == "veth"
    addrs = {(a.interface, a.address, a.prefix) for a in art.addresses or ()}
    assert {("kube-ipvs0", "10.96.0.1", 32), ("kube-ipvs0", "10.96.0.10", 32)} <= addrs
    assert ("eth0", "192.168.50.11", 24) in addrs
    local = [r for r in art.routes or () if r.table == "local" and r.type == "local"]
    assert "10.244.3.0/24" in {r.destination for r in local}  # the planted shadow route
    assert {r.destination for r in local if r.device == "kube-ipvs0"} == {"10.96.0.1", "10.96.0.10"}
    main = [r for r in art.routes or () if r.table is None]
    assert any(r.destination == "default" and r.gateway == "192.168.50.1" for r in main)
    assert [(r.priority, r.selector, r.action) for r in art.ip_rules or ()][1] == (
        1000,
        "from 10.244.1.0/24",
        "lookup 100",
    )
    assert art.netns == "node"


def test_real_iptables_backends_families_and_kube_proxy_rules() -> None:
    art, problems = evidence(
        NETNS / "iptables-nft-save.txt",
        NETNS / "ip6tables-nft-save.txt",
        NETNS / "iptables-legacy-save.txt",
        NETNS / "ip6tables-legacy-save.txt",
    ).build()
    assert problems == []
    dumps = {(d.family, d.backend) for d in art.iptables_dumps}
    assert dumps == {(4, "nf_tables"), (6, "nf_tables"), (4, "legacy"), (6, "legacy")}
    ipt = art.iptables
    assert ipt is not None and ipt.backend == "nf_tables"  # the backend holding KUBE-SERVICES
    web = [
        r
        for r in ipt.rules
        if r.chain == "KUBE-SVC-WEB3ENDPOINTS0A" and r.target and r.target.startswith("KUBE-SEP")
    ]
    assert [r.probability for r in web] == [0.33333333349, 0.5, None]
    reject = [r for r in ipt.rules if r.target == "REJECT"]
    assert [r.comment for r in reject] == ["shop/cart:http has no endpoints"]
    assert reject[0].table == "filter" and reject[0].destination == "10.96.7.7"
    v6 = [r for r in ipt.rules if r.to_destination and r.to_destination.startswith("[")]
    assert [r.to_destination for r in v6] == ["[fd00:10:244:1::5]:53"]
    nodeport = [r for r in ipt.rules if r.chain == "KUBE-NODEPORTS"]
    assert nodeport[0].dport == "30080" and nodeport[0].comment == "shop/web:http"
    # the legacy leftover is kept, apart
    legacy = next(d for d in art.iptables_dumps if d.backend == "legacy" and d.family == 4)
    assert "KUBE-FIREWALL" in legacy.chains["filter"]
    assert not any(r.chain == "KUBE-FIREWALL" for r in ipt.rules)


def test_real_nft_conntrack_sysctl_and_the_rest() -> None:
    art, problems = evidence(*(NETNS / n for n in REAL)).build()
    assert problems == []
    assert art.nft is not None and ("ip", "kube-proxy") in art.nft.tables
    assert ("ip", "nat") in art.nft.tables  # iptables-nft's tables show in nft too
    ct = art.conntrack
    assert ct is not None and ct.count is not None and ct.count >= 1
    # two runs, in two files: when each ran is not known (see test_sample_times)
    assert [s.time for s in ct.samples] == [None, None]
    assert art.sysctls is not None and art.sysctls["net.ipv4.ip_forward"] == "1"
    assert art.resolv_conf is not None and art.resolv_conf.nameservers == ("192.168.50.1",)
    assert [(c.name, c.plugin_types) for c in art.cni_configs or ()] == [
        ("cbr0", ("flannel", "portmap"))
    ]
    assert {(a.network, a.address, a.interface) for a in art.ipam or ()} == {
        ("cbr0", "10.244.1.5", "eth0"),
        ("cbr0", "10.244.1.9", "eth0"),
    }
    assert art.ethtool is not None and art.ethtool["vethnsnd1"]["peer_ifindex"] >= 1
    assert art.captured_at is not None and art.uptime is not None
    kinds = {e.kind for e in art.evidence}
    assert kinds == set(REAL.values())


def test_sample_times_from_date_outputs_or_header_comments() -> None:
    ct = body(NETNS / "conntrack-S.txt")
    later = ct.replace("insert_failed=0", "insert_failed=30", 1)
    text = f"$ date -u\n2024-05-15T10:00:00Z\n$ conntrack -S\n{ct}$ conntrack -S\n{later}"
    text += f"$ date\nWed May 15 10:01:00 UTC 2024\n$ conntrack -S\n{later}"
    text += f"$ conntrack -S   # at 2024-05-15T10:02:30Z\n{ct}"
    ev = NodeEvidence("worker-1")
    ev.add_text(text, "samples.txt")
    art, problems = ev.build()
    assert problems == []
    assert art.conntrack is not None
    assert [(s.time, s.counters["insert_failed"]) for s in art.conntrack.samples] == [
        (1715767200.0, 0),
        (None, 30),  # no date of its own
        (1715767260.0, 30),
        (1715767350.0, 0),
    ]
    assert art.captured_at == 1715767200.0


def test_documented_ipvs_lsmod() -> None:
    art, problems = evidence(DOC / "ipvsadm-Ln.txt", DOC / "lsmod.txt").build()
    assert problems == []
    vs = {(s.protocol, s.address, s.port): s for s in art.ipvs or ()}
    udp = vs[("UDP", "10.96.0.10", 53)]
    assert [(r.address, r.weight) for r in udp.real_servers] == [
        ("10.244.1.5", 1),
        ("10.244.2.7", 1),
        ("10.244.2.6", 0),
    ]
    assert vs[("TCP", "10.96.40.2", 80)].flags == ("persistent", "10800")
    assert vs[("TCP", "10.96.7.7", 80)].real_servers == ()
    # /proc/net/ip_vs holds the same table in hex
    proc, _ = evidence(DOC / "proc-net-ip_vs.txt").build()
    assert [
        (s.protocol, s.address, s.port, [(r.address, r.port, r.weight) for r in s.real_servers])
        for s in proc.ipvs or ()
    ] == [
        (s.protocol, s.address, s.port, [(r.address, r.port, r.weight) for r in s.real_servers])
        for s in art.ipvs or ()
    ]
    mods = art.modules
    assert mods is not None and mods.complete
    assert {"ip_vs", "br_netfilter", "nf_conntrack"} <= mods.names
    assert not mods.known_absent("ip_vs") and mods.known_absent("wireguard")


def test_documented_kernel_and_component_log_events() -> None:
    art, problems = evidence(
        *(DOC / n for n in DOCUMENTED if n.endswith((".log", "dmesg.txt")))
    ).build()
    assert problems == []
    by = {(e.source, e.kind): e for e in art.events}
    full = by[("dmesg", EventKind.CONNTRACK_TABLE_FULL)]
    assert (full.count, full.first_time, full.last_time) == (3, "[86012.771635]", "[86017.800441]")
    assert full.line == 8 and full.last_line == 11
    assert by[("dmesg", EventKind.NEIGHBOUR_TABLE_OVERFLOW)].count == 1
    assert by[("dmesg", EventKind.IPVS_NO_DESTINATION)].count == 1
    assert by[("dmesg", EventKind.OVER_MTU_DROP)].example.endswith("1514 > 1450")
    sync = by[("kube-proxy-log", EventKind.KUBE_PROXY_SYNC_ERROR)]
    assert sync.count == 4 and sync.first_time == "E0515 10:11:12.345678"
    assert by[("coredns-log", EventKind.COREDNS_UPSTREAM_TIMEOUT)].count == 3
    assert by[("coredns-log", EventKind.COREDNS_LOOP)].count == 1
    assert by[("kubelet-log", EventKind.CNI_IPAM_ERROR)].count == 2
    assert by[("cni-log", EventKind.CNI_IPAM_ERROR)].first_epoch is not None


def test_everything_concatenated_without_headers_comes_apart() -> None:
    order = [
        NETNS / "ip-d-link.txt",
        NETNS / "ip-addr.txt",
        NETNS / "ip-route-all.txt",
        NETNS / "ip-rule.txt",
        NETNS / "iptables-nft-save.txt",
        NETNS / "ip6tables-nft-save.txt",
        NETNS / "iptables-legacy-save.txt",
        NETNS / "nft-ruleset.txt",
        NETNS / "conntrack-S.txt",
        NETNS / "sysctl.txt",
        NETNS / "resolv-conf.txt",
        DOC / "ipvsadm-Ln.txt",
        DOC / "lsmod.txt",
        NETNS / "ethtool-S.txt",
        NETNS / "host-local-ipam.txt",
        DOC / "dmesg.txt",
        NETNS / "cni-conf.txt",
        DOC / "coredns.log",
    ]
    text = "".join(body(p) if body(p).endswith("\n") else body(p) + "\n" for p in order)
    kinds = [s.kind for s in sniff(text)]
    assert kinds == [
        K.IP_LINK,
        K.IP_ADDR,
        K.IP_ROUTE,
        K.IP_RULE,
        K.IPTABLES_SAVE,
        K.IPTABLES_SAVE,
        K.IPTABLES_SAVE,
        K.NFT_RULESET,
        K.CONNTRACK_STATS,
        K.SYSCTL,
        K.RESOLV_CONF,
        K.IPVSADM,
        K.LSMOD,
        K.ETHTOOL_STATS,
        K.HOST_LOCAL_IPAM,
        K.DMESG,
        K.CNI_CONFLIST,
        K.COREDNS_LOG,
    ]


@pytest.mark.parametrize(
    "prompt",
    [
        "$ {}",
        "# {}",
        "+ {}",
        "root@worker-1:~# {}",
        "[root@worker-1 ~]# {}",
        "worker-1$ {}",
        "=== {} ===",
        "---- {} ----",
    ],
)
def test_prompt_styles(prompt: str) -> None:
    text = (
        prompt.format("sysctl net.netfilter.nf_conntrack_max")
        + "\nnet.netfilter.nf_conntrack_max = 262144\n"
        + prompt.format("cat /proc/sys/net/netfilter/nf_conntrack_count")
        + "\n250112\n"
        + prompt.format("conntrack -S")
        + "\n"
        + body(NETNS / "conntrack-S.txt")
    )
    secs = sniff(text)
    assert [(s.kind, s.header_line) for s in secs] == [
        (K.SYSCTL, 1),
        (K.NF_CONNTRACK_COUNT, 3),
        (K.CONNTRACK_STATS, 5),
    ]
    ev = NodeEvidence("worker-1")
    ev.add_text(text, "node1.txt")
    art, problems = ev.build()
    assert problems == []
    assert art.conntrack is not None and (art.conntrack.count, art.conntrack.max) == (
        250112,
        262144,
    )


def test_comments_in_outputs_are_not_headers() -> None:
    text = "# Generated by NetworkManager\nsearch ec2.internal\nnameserver 10.0.0.2\n"
    assert [s.kind for s in sniff(text)] == [K.RESOLV_CONF]
    ipt = (NETNS / "iptables-nft-save.txt").read_text()
    assert [s.kind for s in sniff(ipt)] == [K.IPTABLES_SAVE]  # "# Generated by iptables-…"


def test_filtered_outputs_say_so() -> None:
    text = (
        "$ iptables-save | grep KUBE-SVC-WEB\n"
        + "\n".join(
            ln for ln in body(NETNS / "iptables-nft-save.txt").splitlines() if "KUBE-SVC-WEB" in ln
        )
        + "\n$ lsmod | grep -E 'ip_vs|wireguard'\n"
    )
    ev = NodeEvidence("worker-1")
    ev.add_text(text, "grep.txt")
    art, problems = ev.build()
    assert problems == []
    assert art.iptables is not None and not art.iptables.complete
    assert {r.table for r in art.iptables.rules} == {"nat"}
    mods = art.modules
    assert mods is not None and not mods.complete
    # the grep found nothing: ip_vs is known to be absent, br_netfilter is not known
    assert mods.known_absent("ip_vs") and mods.known_absent("ip_vs_rr")
    assert not mods.known_absent("br_netfilter")
    assert [s.filtered for s in art.evidence] == [True, True]


def test_unrecognised_and_error_sections_are_problems_with_file_and_line() -> None:
    text = (
        "$ ip route\n"
        + body(NETNS / "ip-route-all.txt")
        + "$ ipvsadm -Ln\nCan't initialize ipvs: Protocol not available\n"
        "Are you sure that IP Virtual Server is built in the kernel or as module?\n"
        "$ ss -tan\nState  Recv-Q Send-Q Local Address:Port Peer Address:Port\n"
        "LISTEN 0      4096   0.0.0.0:10250      0.0.0.0:*\n"
        "$ lsmod\n" + body(DOC / "lsmod.txt")
    )
    ev = NodeEvidence("worker-1")
    ev.add_text(text, "node.txt")
    art, problems = ev.build()
    assert [(p.origin.file, p.origin.line, p.skipped) for p in problems] == [
        ("node.txt", 32, "section"),
        ("node.txt", 35, "section"),
    ]
    assert "`ipvsadm -Ln` printed an error" in problems[0].message
    assert "Protocol not available" in problems[0].message
    assert "`ss -tan` is not a node capture" in problems[1].message
    assert art.routes and art.modules is not None  # the rest still counts


def test_bare_numbers_need_a_hint() -> None:
    ev = NodeEvidence("worker-1")
    ev.add_text("262144\n", "limits/x", "x")
    _, problems = ev.build()
    assert len(problems) == 1 and problems[0].origin.line == 1
    ev = NodeEvidence("worker-1")
    ev.add_text("262144\n", "nf_conntrack_max", "nf_conntrack_max")
    art, problems = ev.build()
    assert problems == [] and art.conntrack is not None and art.conntrack.max == 262144


CLUSTER = """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: worker-1}
  spec: {podCIDR: 10.244.1.0/24}
- apiVersion: v1
  kind: Node
  metadata: {name: worker-2}
  spec: {podCIDR: 10.244.2.0/24}
"""


def test_folders_named_after_nodes_anywhere_and_explicit_node_paths(tmp_path: Path) -> None:
    (tmp_path / "cluster.yaml").write_text(CLUSTER)
    deep = tmp_path / "support" / "2024-05-15" / "worker-1"
    deep.mkdir(parents=True)
    (deep / "stuff.txt").write_text((NETNS / "ip-route-all.txt").read_text())
    # `ip -j link` saved as .json in the node's folder: node evidence, not a manifest problem
    (deep / "links.json").write_text(
        json.dumps([{"ifindex": 2, "ifname": "eth0", "mtu": 9001, "flags": ["UP"]}])
    )
    (tmp_path / "support" / "elsewhere.txt").write_text("not a node's\n")
    other = tmp_path.parent / f"{tmp_path.name}-w2.txt"
    other.write_text((DOC / "ipvsadm-Ln.txt").read_text())
    m = load_offline([str(tmp_path), f"node=worker-2:{other}"])
    assert m.problems == ()
    assert sorted(m.node_artifacts) == ["worker-1", "worker-2"]
    w1 = m.node_artifacts["worker-1"]
    assert w1.routes and [(link.name, link.mtu) for link in w1.links or ()] == [("eth0", 9001)]
    assert m.node_artifacts["worker-2"].ipvs
    # a folder named after no Node is not node evidence
    assert not any("elsewhere" in e.file for a in m.node_artifacts.values() for e in a.evidence)


def test_cluster_info_dump_logs_become_evidence(tmp_path: Path) -> None:
    stream = (
        Path(__file__).parents[1] / "sources" / "data" / "cluster-info-stream.txt"
    ).read_text()
    extra = (
        "==== START logs for container kube-proxy of pod kube-system/kube-proxy-7xk2p ====\n"
        + (DOC / "kube-proxy.log").read_text()
        + '{"level":"info","ts":1715767200.5,"msg":"a JSON log line"}\n'
        + "==== END logs for container kube-proxy of pod kube-system/kube-proxy-7xk2p ====\n"
    )
    (tmp_path / "dump.txt").write_text(stream + extra)
    m = load_offline([str(tmp_path / "dump.txt")])
    assert m.problems == ()  # no "document has no kind" for log lines that look like JSON
    logs = {(c.namespace, c.pod, c.container): c for c in m.container_logs}
    kp = logs[("kube-system", "kube-proxy-7xk2p", "kube-proxy")]
    assert kp.source == "kube-proxy-log"
    assert [(e.kind, e.count) for e in kp.events] == [(EventKind.KUBE_PROXY_SYNC_ERROR, 4)]
    assert kp.events[0].pod == "kube-system/kube-proxy-7xk2p"
    assert ("kube-system", "coredns-76f75df574-8xk2p", "coredns") in logs
    # the objects around the logs still load, with their lines
    assert [p.name for p in m.pods] == ["coredns-76f75df574-8xk2p"]


def test_inventory_lists_the_node_evidence(tmp_path: Path) -> None:
    from netsleuth.inventory import build_inventory
    from netsleuth.render.inventory_json import inventory_document

    (tmp_path / "cluster.yaml").write_text(CLUSTER)
    node = tmp_path / "worker-1"
    node.mkdir()
    (node / "capture.txt").write_text(
        (NETNS / "ip-route-all.txt").read_text() + (NETNS / "conntrack-C.txt").read_text()
    )
    doc = inventory_document(build_inventory(load_offline([str(tmp_path)])))
    assert doc["node_evidence"] == [
        {"node": "worker-1", "file": str(node / "capture.txt"), "line": 1, "kind": "ip-route"},
        {
            "node": "worker-1",
            "file": str(node / "capture.txt"),
            "line": 31,
            "kind": "conntrack-count",
        },
    ]
