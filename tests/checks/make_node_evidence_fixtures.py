"""Write the bad/good fixtures of the checks that read node evidence and logs
(KPX611-607, CNI421-413, MTU511, DNS131).

Run ``python tests/checks/make_node_evidence_fixtures.py``; commit what it writes.
The cluster is :func:`make_fixtures.system` (plus an app); the node evidence is saved
the way operators save it, not in netsleuth's own layout: one ``capture.txt`` per node
in a folder named after the node, outputs under ``$ command`` headers, and container
logs in the ``<namespace>/<pod>/logs.txt`` files of ``kubectl cluster-info dump
--output-directory``. Outputs are shaped like the real ones in
``tests/node_artifacts/data`` (captured in a test network namespace).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fixture_builders import Obj, container, pod
from make_fixtures import NODES, app, dump, system
from owner_chain import complete

FIXTURES = Path(__file__).parent / "fixtures"

Files = dict[str, str]
Builder = Callable[[bool], tuple[list[Obj], Files]]
BUILDERS: dict[str, Builder] = {}


def fixture(rule_id: str) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        BUILDERS[rule_id] = fn
        return fn

    return deco


def ip_addr(node_ip: str, gateway: str, extra: str = "") -> str:
    return f"""1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000
    link/ether 02:42:0a:00:00:0b brd ff:ff:ff:ff:ff:ff
    inet {node_ip}/24 brd 10.0.0.255 scope global eth0
       valid_lft forever preferred_lft forever
3: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN group default qlen 1000
    link/ipip 0.0.0.0 brd 0.0.0.0
    inet {gateway}/32 scope global tunl0
       valid_lft forever preferred_lft forever
{extra}"""


def kube_ipvs0(addresses: list[str]) -> str:
    lines = [
        "4: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default",
        "    link/ether 6e:2f:61:9c:4a:10 brd ff:ff:ff:ff:ff:ff",
    ]
    for a in addresses:
        lines += [
            f"    inet {a}/32 scope global kube-ipvs0",
            "       valid_lft forever preferred_lft forever",
        ]
    return "\n".join(lines) + "\n"


def ipvsadm(vs: list[tuple[str, str, int, list[tuple[str, int]]]]) -> str:
    out = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    ]
    for proto, vip, port, rss in vs:
        out.append(f"{proto:<4} {vip}:{port} rr")
        for rip, rport in rss:
            out.append(f"  -> {f'{rip}:{rport}':<28} Masq    1      0          0         ")
    return "\n".join(out) + "\n"


def capture(*sections: tuple[str, str]) -> str:
    return "".join(f"$ {cmd}\n{body}" for cmd, body in sections)


def proxy_pod(n: str, ip: str) -> Obj:
    p = pod(
        f"kube-proxy-{n[-1]}7x2q",
        "kube-system",
        {"k8s-app": "kube-proxy"},
        [container("kube-proxy", "registry.k8s.io/kube-proxy:v1.29.4")],
        node_name=n,
        ip=ip,
        host_ip=ip,
        owner=("DaemonSet", "kube-proxy"),
    )
    p["spec"]["hostNetwork"] = True
    return p


def dump_log(ns: str, pod_name: str, container_name: str, text: str) -> tuple[str, str]:
    body = (
        f"==== START logs for container {container_name} of pod {ns}/{pod_name} ====\n"
        + text
        + f"==== END logs for container {container_name} of pod {ns}/{pod_name} ====\n"
    )
    return f"{ns}/{pod_name}/logs.txt", body


# --------------------------------------------------------------------------- KPX


@fixture("KPX611")
def _kpx611(bad: bool) -> tuple[list[Obj], Files]:
    objs = system(proxy_mode="ipvs") + app("web", nodes=False)
    (n, ip, _), _ = NODES
    vs = ipvsadm(
        [
            ("TCP", "10.96.0.10", 53, [("10.244.0.2", 53), ("10.244.1.2", 53)]),
            ("UDP", "10.96.0.10", 53, [("10.244.0.2", 53), ("10.244.1.2", 53)]),
            ("TCP", "10.96.0.10", 9153, [("10.244.0.2", 9153), ("10.244.1.2", 9153)]),
            ("TCP", "10.96.10.10", 80, [("10.244.0.20", 8080), ("10.244.1.21", 8080)]),
        ]
    )
    bound = ["10.96.0.10"] if bad else ["10.96.0.10", "10.96.10.10"]
    return objs, {
        f"{n}/capture.txt": capture(
            ("ipvsadm -Ln", vs), ("ip addr show", ip_addr(ip, "10.244.0.1", kube_ipvs0(bound)))
        )
    }


LSMOD = """Module                  Size  Used by
ip_vs_sh               12288  0
ip_vs_wrr              12288  0
ip_vs_rr               12288  8
ip_vs                 225280  14 ip_vs_rr,ip_vs_wrr,ip_vs_sh
xt_conntrack           12288  12
nf_conntrack          196608  6 xt_conntrack,ip_vs
nf_defrag_ipv6         24576  2 ip_vs,nf_conntrack
nf_defrag_ipv4         12288  1 nf_conntrack
overlay               200704  14
"""


@fixture("KPX612")
def _kpx612(bad: bool) -> tuple[list[Obj], Files]:
    objs = system(proxy_mode="ipvs")
    (n, _, _), _ = NODES
    listing = "\n".join(ln for ln in LSMOD.splitlines() if not ln.startswith("ip_vs")) + "\n"
    return objs, {f"{n}/capture.txt": capture(("lsmod", listing if bad else LSMOD))}


KUBE_PROXY_OK = """I0515 09:58:01.104223       1 server_linux.go:69] "Using iptables proxy"
I0515 09:58:01.144907       1 proxier.go:286] "Using iptables Proxier"
I0515 09:58:01.266891       1 proxier.go:805] "Syncing iptables rules"
"""
KUBE_PROXY_FAILING = (
    KUBE_PROXY_OK
    + """E0515 10:11:12.345678       1 proxier.go:1542] "Failed to execute iptables-restore" err=<
	exit status 4: Another app is currently holding the xtables lock. Perhaps you want to use the -w option?
 >
I0515 10:11:12.345701       1 proxier.go:1571] "Sync failed" retryingTime="30s"
"""
)


@fixture("KPX613")
def _kpx613(bad: bool) -> tuple[list[Obj], Files]:
    (n, ip, _), _ = NODES
    p = proxy_pod(n, ip)
    objs = [*system(), p]
    path, body = dump_log(
        "kube-system",
        p["metadata"]["name"],
        "kube-proxy",
        KUBE_PROXY_FAILING if bad else KUBE_PROXY_OK,
    )
    return objs, {path: body}


# --------------------------------------------------------------------------- CNI


def local_table(ip: str, gateway: str, extra: str = "") -> str:
    return f"""local {gateway} dev tunl0 proto kernel scope host src {gateway}
local {ip} dev eth0 proto kernel scope host src {ip}
broadcast 10.0.0.255 dev eth0 proto kernel scope link src {ip}
local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1
local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1
broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1
{extra}"""


@fixture("CNI421")
def _cni421(bad: bool) -> tuple[list[Obj], Files]:
    (n, ip, _), (_, _, cidr2) = NODES
    extra = f"local {cidr2} dev lo scope host\n" if bad else ""
    return system(), {
        f"{n}/capture.txt": capture(
            ("ip route show table local", local_table(ip, "10.244.0.1", extra))
        )
    }


@fixture("CNI422")
def _cni422(bad: bool) -> tuple[list[Obj], Files]:
    (n, _, _), _ = NODES
    held = ["10.244.0.2"] + ([f"10.244.0.{i}" for i in range(30, 38)] if bad else [])
    lines = []
    for i, a in enumerate(held):
        lines.append(f"/var/lib/cni/networks/k8s-pod-network/{a}:{i:032x}")
        lines.append(f"/var/lib/cni/networks/k8s-pod-network/{a}:eth0")
    return system(), {
        f"{n}/capture.txt": capture(("grep -r . /var/lib/cni/networks", "\n".join(lines) + "\n"))
    }


DMESG = """[    7.412205] bridge: filtering via arp/ip/ip6tables is no longer available by default. Update your scripts to load br_netfilter if you need this.
[   13.550019] cali8c1e3f2a: port 1 entered forwarding state
"""


@fixture("CNI423")
def _cni423(bad: bool) -> tuple[list[Obj], Files]:
    (n, _, _), _ = NODES
    extra = "[90111.002317] neighbour: arp_cache: neighbor table overflow!\n" if bad else ""
    return system(), {
        f"{n}/capture.txt": capture(
            ("dmesg", DMESG + extra),
            (
                "sysctl net.ipv4.neigh.default.gc_thresh3",
                "net.ipv4.neigh.default.gc_thresh3 = 1024\n",
            ),
        )
    }


@fixture("MTU511")
def _mtu511(bad: bool) -> tuple[list[Obj], Files]:
    _, (n, _, _) = NODES
    extra = "[92870.130004] ovs-system: dropped over-mtu packet: 1514 > 1450\n" if bad else ""
    return system(), {f"{n}/capture.txt": capture(("dmesg", DMESG + extra))}


# --------------------------------------------------------------------------- DNS

COREDNS_OK = """.:53
[INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908
CoreDNS-1.11.1
linux/amd64, go1.20.7, ae2bbc2
"""
COREDNS_BAD = (
    COREDNS_OK
    + """[ERROR] plugin/errors: 2 2959410410432744431.6521463271573227536. HINFO: read udp 10.244.0.2:44516->10.0.0.2:53: i/o timeout
[ERROR] plugin/errors: 2 api.stripe.com. A: read udp 10.244.0.2:39012->10.0.0.2:53: i/o timeout
[FATAL] plugin/loop: Loop (127.0.0.1:45403 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 3596592398924637034.1735474094318470917."
"""
)


@fixture("DNS131")
def _dns131(bad: bool) -> tuple[list[Obj], Files]:
    objs = system()
    name = "coredns-5d78c9869d-ax7k2"
    path, body = dump_log("kube-system", name, "coredns", COREDNS_BAD if bad else COREDNS_OK)
    return objs, {path: body}


def main(argv: list[str] | None = None) -> int:
    only = set(argv or sys.argv[1:])
    for rule_id, fn in sorted(BUILDERS.items()):
        if only and rule_id not in only:
            continue
        for which in ("bad", "good"):
            folder = FIXTURES / rule_id / which
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            objs, files = fn(which == "bad")
            (folder / "cluster.yaml").write_text(dump(complete(objs)))
            for rel, text in files.items():
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
