"""DNS116: a node's firewall rules drop DNS to the cluster DNS."""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import dns_pods, dns_service
from netsleuth.model.commands import cmd
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.node_artifacts import IptablesRule
from netsleuth.model.objects import Meta

# Chains of kube-proxy and of CNIs: their drops are Service and NetworkPolicy
# decisions that other checks and the policy engine judge, not a host firewall's.
_DATAPLANE_CHAINS = (
    "KUBE-",
    "cali-",
    "CILIUM",
    "NETSLEUTH-",
    "FLANNEL",
    "WEAVE",
    "ANTREA",
    "KUBE-ROUTER",
    "OVN",
)
# A rule with any other match (conntrack state, marks, sets, rates, `recent`) drops
# only some packets: it is not judged here.
_PLAIN_MATCHES = {"tcp", "udp", "multiport", "comment"}
_PORTS = re.compile(r"--(?:dport|dports|destination-ports?) (\S+)")


def _ports_hit_53(spec: str) -> bool | None:
    """True/False when the rule names ports (53 among them or not); None when it names none."""
    found = _PORTS.findall(spec)
    if not found:
        return None
    for group in found:
        for part in group.split(","):
            lo, _, hi = part.partition(":")
            try:
                if int(lo or 0) <= 53 <= int(hi or lo or 65535):
                    return True
            except ValueError:
                continue
    return False


def _blanket(rule: IptablesRule) -> bool:
    """Only -s/-d/-p/-i/-o, port and comment matches: it drops every packet it describes."""
    words = rule.spec.split()
    if "!" in words:
        return False
    modules = {words[i + 1] for i, w in enumerate(words[:-1]) if w == "-m"}
    return modules <= _PLAIN_MATCHES


def _dst_hits(
    rule: IptablesRule, targets: list[ipaddress.IPv4Address | ipaddress.IPv6Address]
) -> list[str]:
    if rule.destination is None:
        return [str(t) for t in targets]
    try:
        net = ipaddress.ip_network(rule.destination, strict=False)
    except ValueError:
        return []
    return [str(t) for t in targets if t.version == net.version and t in net]


@register(
    id="DNS116",
    layer=Layer.DNS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service",), node_artifacts=("iptables",)),
)
def dns_node_firewall_drops(model: ClusterModel) -> Iterator[Finding]:
    """A node's firewall rules drop DNS to the cluster DNS.

    What it checks:
        Each node's ``iptables-save`` filter table, outside kube-proxy's and
        the CNI's own chains: a ``DROP`` or ``REJECT`` rule in ``FORWARD``
        (or a host-firewall chain such as ``ufw-*``, ``DOCKER-USER``; in
        ``INPUT`` only when it names a cluster DNS address) whose protocol
        is UDP, TCP or any, whose ports include 53 or are not restricted,
        and whose destination holds the kube-dns ClusterIP or a CoreDNS pod
        IP (or is not restricted). Rules with other matches (connection
        state, marks, sets, rates) drop only some packets and are not judged.

    Why it breaks traffic:
        Pods send their DNS queries to the kube-dns ClusterIP; after
        kube-proxy's DNAT they are forwarded to a CoreDNS pod through the
        client's node and the CoreDNS pod's node. A firewall rule dropping
        them on either node makes every lookup from (or served on) that node
        time out, while the rest of the network works: applications fail
        with name-resolution errors after 5-second waits.

    Example:
        ``cp-1``: ``-A FORWARD -d 10.244.0.2/32 -p udp -m udp --dport 53 -j DROP``,
        left by a host hardening script, on the node running both CoreDNS pods.

    Fix:
        Remove the rule (or allow UDP and TCP 53 to the cluster DNS before
        it) in the node's firewall configuration (ufw, firewalld, nftables
        or the script that wrote it), so it does not come back on reboot.

    Confirm live:
        ``iptables-save -t filter | grep -- '--dport 53'`` on the node;
        ``kubectl exec <pod on that node> -- nslookup kubernetes.default``.

    References:
        https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/ ;
        https://kubernetes.io/docs/reference/networking/ports-and-protocols/
    """
    svc = dns_service(model)
    targets: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    if svc is not None and svc.cluster_ip not in (None, "None"):
        with contextlib.suppress(ValueError):
            targets.append(ipaddress.ip_address(str(svc.cluster_ip)))
    for p in dns_pods(model):
        for ip in p.pod_ips:
            try:
                targets.append(ipaddress.ip_address(ip))
            except ValueError:
                continue
    if not targets:
        return
    for name, art in sorted(model.node_artifacts.items()):
        if art.iptables is None:
            continue
        for rule in art.iptables.rules:
            if rule.table != "filter" or rule.target not in ("DROP", "REJECT"):
                continue
            if rule.chain.startswith(_DATAPLANE_CHAINS) or rule.chain == "OUTPUT":
                continue
            if rule.protocol not in (None, "udp", "tcp", "all") or not _blanket(rule):
                continue
            ports = _ports_hit_53(rule.spec)
            if ports is False:
                continue
            hits = _dst_hits(rule, targets)
            if not hits or (rule.chain == "INPUT" and rule.destination is None):
                continue
            node = model.nodes.get(name)
            what = f"{(rule.protocol or 'all').upper()} " + ("port 53" if ports else "every port")
            yield finding(
                "DNS116",
                model,
                kind="Node",
                meta=node.meta if node else Meta(name=name),
                artifacts=True,
                message=(
                    f"node {name}'s firewall {rule.target}s {what} to the cluster DNS "
                    f"({', '.join(hits[:3])}) in {rule.chain}: lookups through this node time out"
                ),
                evidence=[
                    Evidence(
                        f"Node/{name}",
                        f"iptables-save -t filter {rule.chain}",
                        f"-A {rule.chain} {rule.spec}",
                    ),
                    *(
                        [
                            Evidence(
                                f"Service/{svc.namespace}/{svc.name}",
                                "spec.clusterIP",
                                str(svc.cluster_ip),
                            )
                        ]
                        if svc is not None
                        else []
                    ),
                ],
                confirm=(
                    cmd("iptables-save", "-t", "filter")
                    .pipe("grep", "--", "--dport 53")
                    .note(f"on {name}"),
                ),
                fix=Fix(
                    text=f"Remove the rule from {name}'s firewall configuration (or allow UDP and TCP "
                    "53 to the cluster DNS before it), where it is written, so it survives no reboot."
                ),
            )
