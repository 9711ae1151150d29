"""DNS113: pods with ndots:5 call external names (search-list query amplification)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.facts.cluster_domain import cluster_domain
from netsleuth.facts.kube_dns import ndots_amplification, pod_resolver
from netsleuth.facts.ownership import workload_subject
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Snippet, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Pod

# A URL's host, or a value that is nothing but host[:port].
_URL_HOST = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/\s]*@)?([A-Za-z0-9.-]+)")
_BARE_HOST = re.compile(
    r"^(?:--?[A-Za-z0-9-]+=)?([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\.?)(?::\d+)?/?$"
)
_TLD = re.compile(r"^[A-Za-z]{2,63}$")
_NOT_TLDS = frozenset(
    {
        "yaml",
        "yml",
        "json",
        "txt",
        "conf",
        "cfg",
        "ini",
        "log",
        "py",
        "sh",
        "jar",
        "xml",
        "properties",
        "key",
        "pem",
        "crt",
        "html",
        "js",
        "css",
        "toml",
        "env",
        "sock",
        "pid",
        "gz",
        "tgz",
        "zip",
        "so",
        "local",
        "internal",
        "svc",
        "cluster",
        "lan",
        "localdomain",
        "home",
        "corp",
    }
)


def external_hostnames(values: list[str], cluster_domain: str) -> list[str]:
    """Hostnames with at least two dots outside the cluster domain, from env values and args."""
    out: list[str] = []
    for value in values:
        for token in value.split():
            m = _URL_HOST.search(token)
            host = m.group(1) if m else None
            if host is None:
                b = _BARE_HOST.match(token)
                host = b.group(1) if b else None
            if host is None:
                continue
            bare = host.rstrip(".").lower()
            labels = bare.split(".")
            if (
                host.endswith(".")
                or bare.count(".") < 2
                or not _TLD.match(labels[-1])
                or labels[-1] in _NOT_TLDS
            ):
                continue
            if bare.endswith(cluster_domain) or ".svc." in f".{bare}.":
                continue
            if bare not in out:
                out.append(bare)
    return out


def _values(pod: Pod) -> list[str]:
    vals: list[str] = []
    for c in pod.spec.containers:
        vals += [v for _, v in c.env if v]
        vals += list(c.args) + list(c.command)
    return vals


def _node_resolv_known(model: ClusterModel, pod: Pod) -> bool:
    """The node's resolv.conf is in the input, so its search domains are in the list."""
    art = model.node_artifacts.get(pod.node_name or "")
    return art is not None and art.resolv_conf is not None


@register(
    id="DNS113", layer=Layer.DNS, severity=Severity.INFO, needs=Needs(kinds=("Pod",)), config=True
)
def ndots_external_names(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Pods with the default ndots:5 call external names: each lookup costs several queries.

    What it checks: workloads whose pods use cluster DNS with ndots 5 or
    more (the `ClusterFirst` default) and whose env values, args or command
    contain an external hostname or URL (a name with at least two dots,
    outside the cluster domain, without a trailing dot). One finding per
    workload, with the number of queries one lookup costs. A warning when
    three or more search names are wasted per lookup and no NodeLocal
    DNSCache answers them from its cache (every one is then a round trip to
    CoreDNS, on the path of every call); else informational. The trace's dns
    hop reads the same fact.

    Why it breaks traffic: with ndots:5, a name with fewer than five dots is
    tried with every search domain first (`api.stripe.com.shop.svc.cluster.local`,
    `…svc.cluster.local`, `…cluster.local`, then node domains) and only then
    as is, each as A and AAAA: (search domains + 1) × 2 queries, all but two
    answered NXDOMAIN. That multiplies CoreDNS load and conntrack entries and
    adds latency to every uncached lookup, and makes the 5-second conntrack
    race (DNS114) several times more likely.

    Example:
      env:
      - name: PAYMENTS_URL
        value: https://api.stripe.com/v1
      # ndots:5 (default): 4 candidates x (A + AAAA) = 8 queries per lookup

    Fix: write external names as FQDNs with a trailing dot
    (`api.stripe.com.`), or set `dnsConfig.options: [{name: ndots, value: "2"}]`
    on the pod template; NodeLocal DNSCache absorbs the extra queries.

    Confirm live:
      kubectl exec <pod> -- cat /etc/resolv.conf
      kubectl logs -n kube-system -l k8s-app=kube-dns | grep NXDOMAIN | head

    References:
      https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config
      https://man7.org/linux/man-pages/man5/resolv.conf.5.html
    """
    domain = cluster_domain(model, config.cluster_domain)
    seen: set[tuple[str, str | None, str]] = set()
    for pod in model.pods:
        owner = model.owner(pod)
        key = (owner.kind, owner.namespace, owner.name)
        if key in seen:
            continue
        seen.add(key)
        res = pod_resolver(model, pod, domain)
        if res is None or res.ndots < 5:
            continue
        hosts = [h for h in external_hostnames(_values(pod), domain) if h.count(".") < res.ndots]
        if not hosts:
            continue
        kind, wmeta = workload_subject(model, pod)
        subject = (kind, wmeta.namespace, wmeta.name)
        if subject != key and subject in seen:
            continue  # two ReplicaSets of one Deployment
        seen.add(subject)
        amp = ndots_amplification(model, pod, hosts[0], domain)
        per = amp.queries if amp is not None else res.queries_for(hosts[0])
        shown = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
        yield finding(
            "DNS113",
            model,
            kind=kind,
            meta=wmeta,
            also=(pod.meta,),
            severity=Severity.WARNING if amp is not None and amp.degraded else None,
            message=f"{kind} {wmeta.namespace}/{wmeta.name} calls {shown} with ndots:{res.ndots}: each "
            f"uncached lookup costs {per} queries ({len(res.search)} search domains + the name, x2 for A and "
            f"AAAA) instead of 2.",
            evidence=[
                Evidence(
                    f"Pod/{pod.namespace}/{pod.name}",
                    "resolv.conf search",
                    " ".join(res.search)
                    + ("" if _node_resolv_known(model, pod) else " (+ node search domains)"),
                ),
                Evidence(
                    f"Pod/{pod.namespace}/{pod.name}", "resolv.conf options", f"ndots:{res.ndots}"
                ),
                Evidence(
                    f"Pod/{pod.namespace}/{pod.name}", "spec.containers[*].env/args", hosts[0]
                ),
            ],
            confirm=(
                kubectl("exec", "-n", pod.namespace, pod.name, "--", "cat", "/etc/resolv.conf"),
            ),
            fix=Fix(
                text=f"Use FQDNs with a trailing dot ({hosts[0]}.) or lower ndots on the pod template.",
                snippet=Snippet(
                    {
                        "spec": {
                            "template": {
                                "spec": {
                                    "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]}
                                }
                            }
                        }
                    }
                ),
            ),
        )
