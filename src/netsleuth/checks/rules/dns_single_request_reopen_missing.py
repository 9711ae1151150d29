"""DNS114: pods exposed to the A/AAAA conntrack race lack single-request-reopen."""

from __future__ import annotations

import re
from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.facts.kube_dns import nodelocal_daemonset, pod_resolver
from netsleuth.facts.kube_proxy_mode import cluster_proxy_mode
from netsleuth.facts.ownership import workload_subject
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Snippet, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Node, Pod

# The conntrack insertion race for parallel UDP packets of one socket through
# DNAT was fixed in two kernel patches ("resolve clash for matching
# conntracks", 4.19/5.0, and "skip nat clash resolution for same-origin
# entries", 5.0). Kernels before 5.0 lose one of the A/AAAA queries.
FIXED_KERNEL = (5, 0)
_KERNEL = re.compile(r"^(\d+)\.(\d+)")
_OPTIONS_THAT_AVOID_RACE = ("single-request-reopen", "single-request", "use-vc")
_MUSL_HINTS = ("alpine", "musl")


def kernel_before_fix(node: Node) -> bool | None:
    m = _KERNEL.match(node.kernel_version or "")
    if m is None:
        return None
    return (int(m.group(1)), int(m.group(2))) < FIXED_KERNEL


def _glibc(pod: Pod) -> bool:
    """musl (Alpine) ignores `single-request-reopen`; images we cannot tell are taken as glibc."""
    return not any(h in c.image.lower() for c in pod.spec.containers for h in _MUSL_HINTS)


@register(
    id="DNS114",
    layer=Layer.DNS,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Pod", "Node")),
    config=True,
)
def single_request_reopen_missing(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Pods exposed to the 5-second A/AAAA conntrack race lack `single-request-reopen`.

    What it checks: applies only when all of these hold: kube-proxy DNATs
    DNS to CoreDNS through conntrack (iptables or IPVS mode, not an eBPF
    replacement), NodeLocal DNSCache is absent, and nodes run a kernel older
    than 5.0 (before the conntrack clash-resolution fixes). Then it reports
    workloads with cluster DNS, glibc-based images (not Alpine/musl), and no
    `single-request-reopen` (or `single-request`, `use-vc`) in `dnsConfig.options`.

    Why it breaks traffic: glibc sends the A and AAAA queries from one socket
    at the same time. Both race to create the same conntrack entry through
    DNAT; on old kernels the loser is dropped on insert (`insert_failed`
    grows), and the resolver waits its 5-second timeout before retrying.
    Users see lookups that take exactly 5 seconds, intermittently.

    Example:
      time getent hosts api.example.com   # real 0m5.012s, now and then
      conntrack -S | grep insert_failed    # growing

    Fix: add `single-request-reopen` to the pod's `dnsConfig.options`
    (glibc then reopens the socket for the second query), or install
    NodeLocal DNSCache, or upgrade node kernels to 5.0+.

    Confirm live:
      kubectl debug node/<node> -it --image=busybox:1.36 -- cat /proc/net/stat/nf_conntrack
      kubectl exec <pod> -- cat /etc/resolv.conf

    References:
      https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/#known-issues
      https://man7.org/linux/man-pages/man5/resolv.conf.5.html
      https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/
    """
    info = cluster_proxy_mode(model)
    mode = str(info.mode) if info is not None else None
    if mode not in ("iptables", "ipvs") or nodelocal_daemonset(model) is not None:
        return
    old_nodes = {n.name: n for n in model.nodes.values() if kernel_before_fix(n)}
    if not old_nodes:
        return
    seen: set[tuple[str, str | None, str]] = set()
    for pod in model.pods:
        owner = model.owner(pod)
        key = (owner.kind, owner.namespace, owner.name)
        if key in seen:
            continue
        if pod.node_name is not None and pod.node_name not in old_nodes:
            continue
        res = pod_resolver(model, pod, config.cluster_domain)
        if (
            res is None
            or any(res.has_option(o) for o in _OPTIONS_THAT_AVOID_RACE)
            or not _glibc(pod)
        ):
            continue
        if pod.namespace == "kube-system":
            continue  # system add-ons are the provider's to configure
        seen.add(key)
        kind, wmeta = workload_subject(model, pod)
        subject = (kind, wmeta.namespace, wmeta.name)
        if subject != key and subject in seen:
            continue  # two ReplicaSets of one Deployment
        seen.add(subject)
        node = old_nodes.get(pod.node_name or "") or next(iter(old_nodes.values()))
        yield finding(
            "DNS114",
            model,
            kind=kind,
            meta=wmeta,
            also=(pod.meta,),
            message=f"{kind} {wmeta.namespace}/{wmeta.name} is exposed to the A/AAAA conntrack race "
            f"(kube-proxy {mode}, node kernel {node.kernel_version}, no NodeLocal DNSCache) and its "
            "resolv.conf lacks single-request-reopen: expect intermittent 5-second lookups.",
            evidence=[
                Evidence(f"Node/{node.name}", "status.nodeInfo.kernelVersion", node.kernel_version),
                Evidence("kube-proxy", "mode", mode),
                Evidence(
                    f"Pod/{pod.namespace}/{pod.name}",
                    "resolv.conf options",
                    " ".join(k if v is None else f"{k}:{v}" for k, v in res.options)
                    + " (no single-request-reopen)",
                ),
            ],
            confirm=(
                kubectl(
                    "debug",
                    f"node/{node.name}",
                    "-it",
                    "--image=busybox:1.36",
                    "--",
                    "cat",
                    "/proc/net/stat/nf_conntrack",
                ),
            ),
            fix=Fix(
                text="Add single-request-reopen to dnsConfig.options, install NodeLocal DNSCache, "
                "or upgrade node kernels to 5.0+.",
                snippet=Snippet(
                    {
                        "spec": {
                            "template": {
                                "spec": {
                                    "dnsConfig": {"options": [{"name": "single-request-reopen"}]}
                                }
                            }
                        }
                    }
                ),
            ),
        )
