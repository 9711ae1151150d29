"""A kube-proxy-shaped node in network namespaces, and the collector's command list run in it.

Used two ways:

- ``python tests/node_artifacts/netns_node.py`` (as root) rebuilds the node and
  rewrites the captured outputs in ``data/netns/`` (see ``data/netns/NOTE.md``);
- the root-marked tests build it again and feed the live outputs to the parsers.

Everything is created in namespaces named ``nsnodeev-*`` (veths and bridges live inside
them) and removed afterwards; no traffic leaves them.

The node (``nsnodeev-<tag>-node``) has: ``eth0`` 192.168.50.11/24 towards an upstream
namespace (192.168.50.1, the default gateway), a ``cni0`` bridge 10.244.1.1/24 with one
pod (10.244.1.5), ``flannel.1`` VXLAN (VNI 1, UDP 8472, MTU 1450) with the route to
worker-2's pods, a ``kube-ipvs0`` device (a bridge: no dummy driver here) holding two ClusterIPs, a policy rule, a
*shadowing* local route for 10.244.3.0/24 (worker-3's pod range, a planted fault), and
kube-proxy iptables rules (nf_tables backend) for three Services, one of them without
endpoints, plus a legacy-backend leftover. A second namespace (``…-nft``) holds the
``table ip kube-proxy`` of kube-proxy's nftables mode.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
FIXTURES = HERE / "data" / "netns"

# What kube-proxy (iptables mode, v1.30) writes for these Services; iptables-restore
# loads it and iptables-save prints it back in its own normal form.
KUBE_PROXY_NAT = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]
:KUBE-SEP-VQR5XXOKHSDAUMBB - [0:0]
:KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]
:KUBE-SEP-IT2ZTR26TO4XFPTO - [0:0]
:KUBE-SEP-ZXMNUKOKXUTL2MK2 - [0:0]
:KUBE-SVC-WEB3ENDPOINTS0A - [0:0]
:KUBE-EXT-WEB3ENDPOINTS0A - [0:0]
:KUBE-SEP-WEBAAAAAAAAAAAA1 - [0:0]
:KUBE-SEP-WEBAAAAAAAAAAAA2 - [0:0]
:KUBE-SEP-WEBAAAAAAAAAAAA3 - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-NODEPORTS -p tcp -m comment --comment "shop/web:http" -m tcp --dport 30080 -j KUBE-EXT-WEB3ENDPOINTS0A
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
-A KUBE-SERVICES -d 10.96.40.2/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEB3ENDPOINTS0A
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-NPX46M4PTMTKRN6Y ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-MARK-MASQ
-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https -> 192.168.50.10:6443" -j KUBE-SEP-VQR5XXOKHSDAUMBB
-A KUBE-SEP-VQR5XXOKHSDAUMBB -s 192.168.50.10/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ
-A KUBE-SEP-VQR5XXOKHSDAUMBB -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 192.168.50.10:6443
-A KUBE-SVC-TCOU7JCQXEZGVUNU ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ
-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.244.1.5:53" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-IT2ZTR26TO4XFPTO
-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.244.2.7:53" -j KUBE-SEP-ZXMNUKOKXUTL2MK2
-A KUBE-SEP-IT2ZTR26TO4XFPTO -s 10.244.1.5/32 -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
-A KUBE-SEP-IT2ZTR26TO4XFPTO -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.1.5:53
-A KUBE-SEP-ZXMNUKOKXUTL2MK2 -s 10.244.2.7/32 -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
-A KUBE-SEP-ZXMNUKOKXUTL2MK2 -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.2.7:53
-A KUBE-EXT-WEB3ENDPOINTS0A -m comment --comment "masquerade traffic for shop/web:http external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-WEB3ENDPOINTS0A -j KUBE-SVC-WEB3ENDPOINTS0A
-A KUBE-SVC-WEB3ENDPOINTS0A ! -s 10.244.0.0/16 -d 10.96.40.2/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-WEB3ENDPOINTS0A -m comment --comment "shop/web:http -> 10.244.1.6:8080" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-WEBAAAAAAAAAAAA1
-A KUBE-SVC-WEB3ENDPOINTS0A -m comment --comment "shop/web:http -> 10.244.2.8:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-WEBAAAAAAAAAAAA2
-A KUBE-SVC-WEB3ENDPOINTS0A -m comment --comment "shop/web:http -> 10.244.2.9:8080" -j KUBE-SEP-WEBAAAAAAAAAAAA3
-A KUBE-SEP-WEBAAAAAAAAAAAA1 -s 10.244.1.6/32 -m comment --comment "shop/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-WEBAAAAAAAAAAAA1 -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination 10.244.1.6:8080
-A KUBE-SEP-WEBAAAAAAAAAAAA2 -s 10.244.2.8/32 -m comment --comment "shop/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-WEBAAAAAAAAAAAA2 -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination 10.244.2.8:8080
-A KUBE-SEP-WEBAAAAAAAAAAAA3 -s 10.244.2.9/32 -m comment --comment "shop/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-WEBAAAAAAAAAAAA3 -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination 10.244.2.9:8080
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-SERVICES -d 10.96.7.7/32 -p tcp -m comment --comment "shop/cart:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
COMMIT
"""

KUBE_PROXY_NAT6 = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-V6DNSAAAAAAAAAAA - [0:0]
:KUBE-SEP-V6DNSAAAAAAAAAA1 - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d fd00:10:96::a/128 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-V6DNSAAAAAAAAAAA
-A KUBE-SVC-V6DNSAAAAAAAAAAA -m comment --comment "kube-system/kube-dns:dns -> [fd00:10:244:1::5]:53" -j KUBE-SEP-V6DNSAAAAAAAAAA1
-A KUBE-SEP-V6DNSAAAAAAAAAA1 -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination [fd00:10:244:1::5]:53
COMMIT
"""

# A leftover of a kube-proxy that once ran with the legacy backend.
LEGACY_FILTER = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -j KUBE-FIREWALL
-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP
COMMIT
"""

# kube-proxy's nftables mode (v1.31), trimmed to one Service.
NFT_KUBE_PROXY = """table ip kube-proxy {
    comment "rules for kube-proxy"
    set cluster-ips {
        type ipv4_addr
        comment "Active ClusterIPs"
        elements = { 10.96.0.10 }
    }
    map service-ips {
        type ipv4_addr . inet_proto . inet_service : verdict
        comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
        elements = { 10.96.0.10 . udp . 53 : goto service-ULMVA6XW-kube-system/kube-dns/udp/dns }
    }
    chain services {
        ip daddr . meta l4proto . th dport vmap @service-ips
    }
    chain nat-prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        jump services
    }
    chain service-ULMVA6XW-kube-system/kube-dns/udp/dns {
        numgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-kube-system/kube-dns/udp/dns__10.244.1.5/53 }
    }
    chain endpoint-5OJB2KTY-kube-system/kube-dns/udp/dns__10.244.1.5/53 {
        meta l4proto udp dnat to 10.244.1.5:53
    }
}
"""

RESOLV_CONF = "nameserver 192.168.50.1\nsearch ec2.internal\noptions edns0 trust-ad\n"
FLANNEL_CONFLIST = """{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
"""


@dataclass
class Node:
    tag: str
    node: str
    up: str
    pod: str
    nft: str
    root: Path
    """A scratch directory standing for the node's root filesystem (``{root}``)."""


def sh(*argv: str, check: bool = True, netns: str | None = None, stdin: str | None = None) -> str:
    cmd = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip()}")
    return proc.stdout


def have_tools() -> str | None:
    """None when this machine can build the node, else why not."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("ip", "iptables-nft-restore", "iptables-legacy-restore", "nft", "conntrack"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


@contextlib.contextmanager
def kube_node(tag: str = "cap") -> Iterator[Node]:
    """Build the node; remove every namespace afterwards, also on failure.

    Network namespace names are global to the machine, so a test's are its own: two test
    sessions at once (``make test`` beside a targeted run in another worktree) would
    otherwise collide, one's ``ip netns add`` failing on the other's namespace or one's
    teardown deleting the other's mid-test. Only the captures (``tag="cap"``, whose outputs
    are stored and show ``link-netns <name>``) keep a fixed name."""
    pre = (
        f"nsnodeev-{tag}"
        if tag == "cap"
        else f"nsnodeev-{tag}-{os.getpid()}-{secrets.token_hex(2)}"
    )
    node = Node(tag, f"{pre}-node", f"{pre}-up", f"{pre}-pod", f"{pre}-nft", Path())
    names = (node.node, node.up, node.pod, node.nft)
    scratch = Path(tempfile.mkdtemp(prefix=f"{pre}-root-"))
    node.root = scratch
    try:
        for ns in names:
            sh("ip", "netns", "add", ns)
        n, u, p = node.node, node.up, node.pod
        # the underlay: eth0 in the node, its peer in the upstream namespace
        sh("ip", "link", "add", "eth0", "netns", n, "type", "veth", "peer", "name", "eth0",
           "netns", u)  # fmt: skip
        sh("ip", "-n", n, "addr", "add", "192.168.50.11/24", "dev", "eth0")
        sh("ip", "-n", u, "addr", "add", "192.168.50.1/24", "dev", "eth0")
        for ns in (n, u, p, node.nft):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", n, "link", "set", "eth0", "up")
        sh("ip", "-n", u, "link", "set", "eth0", "up")
        sh("ip", "-n", n, "route", "add", "default", "via", "192.168.50.1", "dev", "eth0")
        # the pod bridge and one pod
        sh("ip", "-n", n, "link", "add", "cni0", "type", "bridge")
        sh("ip", "-n", n, "addr", "add", "10.244.1.1/24", "dev", "cni0")
        sh("ip", "-n", n, "link", "set", "cni0", "up")
        sh("ip", "link", "add", "vethnsnd1", "netns", n, "type", "veth", "peer", "name", "eth0",
           "netns", p)  # fmt: skip
        sh("ip", "-n", n, "link", "set", "vethnsnd1", "master", "cni0", "up")
        sh("ip", "-n", p, "addr", "add", "10.244.1.5/24", "dev", "eth0")
        sh("ip", "-n", p, "link", "set", "eth0", "up")
        sh("ip", "-n", p, "route", "add", "default", "via", "10.244.1.1")
        # flannel's VXLAN device and the route to worker-2's pods through it
        sh("ip", "-n", n, "link", "add", "flannel.1", "type", "vxlan", "id", "1", "local",
           "192.168.50.11", "dev", "eth0", "dstport", "8472", "nolearning")  # fmt: skip
        sh("ip", "-n", n, "link", "set", "flannel.1", "mtu", "1450", "up")
        sh("ip", "-n", n, "addr", "add", "10.244.1.0/32", "dev", "flannel.1")
        sh("ip", "-n", n, "route", "add", "10.244.2.0/24", "via", "10.244.2.0", "dev",
           "flannel.1", "onlink")  # fmt: skip
        # kube-proxy IPVS mode binds ClusterIPs to a dummy device; this build machine's
        # kernel has no dummy driver, so an empty bridge stands in (see data/netns/NOTE.md)
        sh("ip", "-n", n, "link", "add", "kube-ipvs0", "type", "bridge")
        for cip in ("10.96.0.1/32", "10.96.0.10/32"):
            sh("ip", "-n", n, "addr", "add", cip, "dev", "kube-ipvs0")
        # policy routing, and the planted fault: a local route over worker-3's pod range
        sh("ip", "-n", n, "rule", "add", "from", "10.244.1.0/24", "lookup", "100", "pref", "1000")
        sh("ip", "-n", n, "route", "add", "default", "via", "192.168.50.1", "table", "100")
        sh("ip", "-n", n, "route", "add", "local", "10.244.3.0/24", "dev", "lo", "table", "local")
        sh("ip", "-n", n, "-6", "addr", "add", "fd00:10:244:1::1/64", "dev", "cni0")
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", netns=n)
        # kube-proxy's rules (nf_tables backend), and a legacy leftover
        sh("iptables-nft-restore", netns=n, stdin=KUBE_PROXY_NAT)
        sh("ip6tables-nft-restore", netns=n, stdin=KUBE_PROXY_NAT6)
        sh("iptables-legacy-restore", netns=n, stdin=LEGACY_FILTER)
        sh("nft", "-f", "-", netns=node.nft, stdin=NFT_KUBE_PROXY)
        # traffic through the node, so conntrack has entries
        sh("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.244.1.1", netns=p, check=False)
        sh("ping", "-c", "1", "-W", "1", "192.168.50.1", netns=n, check=False)
        # the node's files
        (scratch / "etc" / "cni" / "net.d").mkdir(parents=True)
        (scratch / "etc" / "resolv.conf").write_text(RESOLV_CONF)
        (scratch / "etc" / "cni" / "net.d" / "10-flannel.conflist").write_text(FLANNEL_CONFLIST)
        ipam = scratch / "var" / "lib" / "cni" / "networks" / "cbr0"
        ipam.mkdir(parents=True)
        # host-local writes "<container id>\r\n<ifname>" per address (plugins/ipam/host-local/backend/disk)
        (ipam / "10.244.1.5").write_text("3f2a9c1e0b7d4c55a1e2b3c4d5e6f708\r\neth0")
        (ipam / "10.244.1.9").write_text("9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b\r\neth0")
        (ipam / "last_reserved_ip.0").write_text("10.244.1.9")
        (ipam / "lock").write_text("")
        yield node
    finally:
        for ns in names:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class Output:
    command: str
    stdout: str
    stderr: str
    returncode: int


def run_command_list(node: Node) -> dict[str, Output]:
    """The collector's command list (``netsleuth.sources.node_commands``) in the node's netns."""
    import shlex

    from netsleuth.sources.node_commands import COMMANDS

    out: dict[str, Output] = {}
    for c in COMMANDS:
        argv = c.resolved(str(node.root))
        proc = subprocess.run(
            ["ip", "netns", "exec", node.node, *argv], capture_output=True, text=True, timeout=60
        )
        out[c.slug] = Output(shlex.join(argv), proc.stdout, proc.stderr, proc.returncode)
    proc = subprocess.run(
        ["ip", "netns", "exec", node.nft, "nft", "list", "ruleset"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out["nft-ruleset-nftables-mode"] = Output(
        "nft list ruleset", proc.stdout, proc.stderr, proc.returncode
    )
    proc = subprocess.run(
        ["ip", "netns", "exec", node.node, "ethtool", "-S", "vethnsnd1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out["ethtool-S"] = Output("ethtool -S vethnsnd1", proc.stdout, proc.stderr, proc.returncode)
    return out


def versions() -> str:
    def first(*argv: str) -> str:
        p = subprocess.run(argv, capture_output=True, text=True, check=False)
        return (p.stdout or p.stderr).strip().splitlines()[0]

    return "\n".join(
        [
            f"- kernel: {os.uname().release}",
            f"- {first('ip', '-V')}",
            f"- {first('iptables', '--version')} / {first('iptables-legacy', '--version')}",
            f"- {first('nft', '--version')}",
            f"- {first('conntrack', '--version')}",
            f"- {first('sysctl', '--version')}",
            f"- {first('ethtool', '--version')}",
            f"- {first('dmesg', '--version')}",
            f"- {first('kmod', '--version')}",
        ]
    )


def main() -> int:
    why = have_tools()
    if why:
        print(f"cannot build the node: {why}", file=sys.stderr)
        return 2
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with kube_node("cap") as node:
        outputs = run_command_list(node)
        # dmesg is the host's ring buffer: keep the lines about this node's own devices
        kmsg = subprocess.run(["dmesg"], capture_output=True, text=True, check=False).stdout
        ours = [ln for ln in kmsg.splitlines() if "vethnsnd1" in ln]
        (FIXTURES / "dmesg-netns.txt").write_text(
            "$ dmesg | grep vethnsnd1\n" + "\n".join(ours) + "\n"
        )
    for slug, o in outputs.items():
        if slug in ("dmesg", "lsmod", "ipvsadm", "sysctl"):
            continue  # host-wide or unavailable here: see NOTE.md
        text = f"$ {o.command}\n{o.stdout}"
        (FIXTURES / f"{slug}.txt").write_text(text.replace(str(node.root), "/host"))
    # sysctl -a in the netns: keep the net.* keys (the rest describes this build machine)
    sysctl = outputs["sysctl"]
    keys = [ln for ln in sysctl.stdout.splitlines() if ln.startswith("net.")]
    (FIXTURES / "sysctl.txt").write_text("$ sysctl -a | grep ^net\\.\n" + "\n".join(keys) + "\n")
    print(versions())
    return 0


if __name__ == "__main__":
    sys.exit(main())
