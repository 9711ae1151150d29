"""DNS116: a node's firewall rules drop DNS to the cluster DNS."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.coredns_health import dns_node_firewall_drops_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


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

    yield from findings_from("DNS116", model, dns_node_firewall_drops_faults(model))
