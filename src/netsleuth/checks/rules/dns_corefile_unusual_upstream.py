"""DNS109: the Corefile forwards to an upstream that is not a usual resolver."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.kube_dns import corefile
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity

# Upstreams we consider usual: the node's resolver (/etc/resolv.conf), the
# big public anycast resolvers, and the cloud providers' link-local/VPC
# resolvers. Anything else (a corporate resolver, an IP in a peered network,
# a single VM) is "unusual": it may be fine, but it is one host the whole
# cluster's external DNS now depends on.
WELL_KNOWN_UPSTREAMS = frozenset(
    {
        "8.8.8.8",
        "8.8.4.4",
        "2001:4860:4860::8888",
        "2001:4860:4860::8844",  # Google
        "1.1.1.1",
        "1.0.0.1",
        "2606:4700:4700::1111",
        "2606:4700:4700::1001",  # Cloudflare
        "9.9.9.9",
        "149.112.112.112",  # Quad9
        "208.67.222.222",
        "208.67.220.220",  # OpenDNS
        "169.254.169.253",  # AWS VPC resolver (Route 53 Resolver)
        "169.254.169.254",  # GCP metadata resolver
        "168.63.129.16",  # Azure DNS
    }
)


def _host(target: str) -> str:
    t = target
    for scheme in ("dns://", "tls://", "https://", "grpc://"):
        if t.startswith(scheme):
            t = t[len(scheme) :]
    if t.startswith("["):
        return t[1:].split("]", 1)[0]
    if t.count(":") == 1:
        return t.split(":", 1)[0]
    return t


def is_usual_upstream(target: str) -> bool:
    if target.startswith("/"):
        return target in ("/etc/resolv.conf", "/run/systemd/resolve/resolv.conf")
    host = _host(target)
    if host in WELL_KNOWN_UPSTREAMS:
        return True
    try:
        # The VPC resolver at the VPC base + 2 (AWS) is usual too, but we cannot
        # know the VPC; any other address is reported so someone looks at it.
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return False


@register(id="DNS109", layer=Layer.DNS, severity=Severity.INFO, needs=Needs(kinds=("ConfigMap",)))
def corefile_unusual_upstream(model: ClusterModel) -> Iterator[Finding]:
    """The Corefile forwards external names to an unusual upstream resolver.

    What it checks: the targets of `forward .` in the root server block. Usual
    targets are `/etc/resolv.conf` (the node's resolvers), the public anycast
    resolvers (Google 8.8.8.8/8.8.4.4, Cloudflare 1.1.1.1/1.0.0.1, Quad9
    9.9.9.9, OpenDNS) and the cloud resolvers (AWS 169.254.169.253, GCP
    169.254.169.254, Azure 168.63.129.16). Any other address is reported: a
    corporate resolver behind a VPN, a single VM, an address in a peered VPC.

    Why it breaks traffic: every external lookup of every pod goes to that
    host. If it is slow, far away (behind a VPN) or reachable only from some
    nodes, external names fail or take seconds for the whole cluster, while
    cluster names keep working, which makes the cause hard to see.

    Example:
      forward . 10.20.0.53

    Fix: forward to the node's resolvers (`forward . /etc/resolv.conf`) or a
    resolver that is highly available and reachable from every node; list
    two targets; send only the corporate zones to the corporate resolver
    with a separate server block (`corp.example.com:53 { forward . 10.20.0.53 }`).

    Confirm live:
      kubectl get configmap coredns -n kube-system -o jsonpath='{.data.Corefile}'
      kubectl run dnstest --rm -it --image=busybox:1.36 --restart=Never -- nslookup example.com

    References:
      https://coredns.io/plugins/forward/
      https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/
    """
    cf = corefile(model)
    if cf is None:
        return
    d = cf.get("forward")
    if d is None or not d.args:
        return
    unusual = [t for t in d.args[1:] if not t.startswith("{") and not is_usual_upstream(t)]
    if not unusual:
        return
    cm = cf.config_map
    yield finding(
        "DNS109",
        model,
        kind="ConfigMap",
        meta=cm.meta,
        message=f"CoreDNS forwards external names to {', '.join(unusual)}: not the node resolver nor a "
        "well-known public or cloud resolver; every external lookup depends on it.",
        evidence=[
            Evidence(
                ref("ConfigMap", cm.meta),
                f"data.Corefile line {d.line}",
                " ".join(("forward", *d.args)),
            )
        ],
        confirm=(
            kubectl(
                "run",
                "dnstest",
                "--rm",
                "-it",
                "--image=busybox:1.36",
                "--restart=Never",
                "--",
                "nslookup",
                "example.com",
            ),
        ),
        fix=Fix(
            text="Forward to /etc/resolv.conf or a highly available resolver reachable from every node; "
            "route only private zones to private resolvers with their own server block."
        ),
    )
