"""Conntrack facts: how full each node's table is and what its counters say, with the
thresholds the scan and the trace both use (80 % warning, 95 % critical, from
the field guide's ConntrackTableNearFull / ConntrackTableCritical alerts).

Read from node artifacts: ``nf_conntrack_count``/``nf_conntrack_max`` (or
``sysctl -a`` output) and ``conntrack -S``.
https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html
"""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.facts.faults import Fault
from netsleuth.facts.node_evidence import capture_netns, describe
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, sh_c
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.logs import EventKind
from netsleuth.model.node_artifacts import ConntrackSample, NodeArtifacts
from netsleuth.model.numbers import parse_int
from netsleuth.model.objects import Meta

WARN = 0.80

CRITICAL = 0.95

# What the fix text recommends, from the field guide's tuning DaemonSet.
TUNING = cmd(
    *sh_c(
        cmd("sysctl", "-w", "net.netfilter.nf_conntrack_max=1048576"),
        cmd("sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_established=86400"),
        cmd("sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_time_wait=30"),
        cmd("sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_close_wait=15"),
        cmd("echo", "262144").pipe("tee", "/sys/module/nf_conntrack/parameters/hashsize"),
        sep="; ",
    )
).note("as root on the node")


def count_and_max(art: NodeArtifacts) -> tuple[int | None, int | None]:
    ct = art.conntrack
    count = ct.count if ct else None
    limit = ct.max if ct else None
    sysctls = art.sysctls or {}
    if count is None:
        count = _int(sysctls.get("net.netfilter.nf_conntrack_count"))
    if limit is None:
        limit = _int(
            sysctls.get("net.netfilter.nf_conntrack_max") or sysctls.get("net.nf_conntrack_max")
        )
    return count, limit


def _int(v: str | None) -> int | None:
    return parse_int(v)


def ct_table_nearly_full_faults(model: ClusterModel) -> Iterator[Fault]:
    """CT701: A node's conntrack table is 80 % full or more, or its kernel logged
    'table full, dropping packet'."""
    for node, art in sorted(model.node_artifacts.items()):
        count, limit = count_and_max(art)
        full = [e for e in art.events if e.kind == EventKind.CONNTRACK_TABLE_FULL]
        logged = [Evidence(f"Node/{node}", f"{e.source}: table full", describe(e)) for e in full]
        ratio = count / limit if count is not None and limit else None
        if (ratio is None or ratio < WARN) and not full:
            continue
        n = model.nodes.get(node)
        in_pod = capture_netns(model, art) == "pod"
        if ratio is not None and ratio >= WARN:
            severity = Severity.ERROR if ratio >= CRITICAL else Severity.WARNING
            message = (
                f"node {node} conntrack table {count:,} of {limit:,} entries ({ratio:.1%})"
                + (
                    ": new connections are being dropped or about to be"
                    if ratio >= CRITICAL
                    else ""
                )
            )
            if full:
                message += f"; the kernel logged 'table full, dropping packet' {sum(e.count for e in full)}×"
            evidence = [
                Evidence(f"Node/{node}", "/proc/sys/net/netfilter/nf_conntrack_count", str(count)),
                Evidence(f"Node/{node}", "/proc/sys/net/netfilter/nf_conntrack_max", str(limit)),
                *logged,
            ]
        else:
            severity = Severity.WARNING
            last = full[-1].last_time or full[-1].first_time
            message = (
                f"node {node}: the kernel logged 'nf_conntrack: table full, dropping packet' "
                f"{sum(e.count for e in full)}×"
                + (f" (last {last})" if last else "")
                + ": new connections were dropped"
            )
            if ratio is not None:
                message += f"; the table is at {ratio:.1%} now ({count:,} of {limit:,})"
            evidence = logged
        if in_pod and ratio is not None and not full:
            severity = Severity.INFO
            message += (
                "; these files were captured inside a pod's network namespace (kubectl exec): "
                "the count is that namespace's, not the node's"
            )
        yield Fault(
            layer=Layer.CONNTRACK,
            kind="Node",
            meta=n.meta if n else Meta(name=node),
            artifacts=True,
            severity=severity,
            message=message,
            evidence=evidence,
            confirm=(
                cmd("cat", "/proc/sys/net/netfilter/nf_conntrack_count").note(f"on {node}"),
                cmd("cat", "/proc/sys/net/netfilter/nf_conntrack_max"),
                cmd("conntrack", "-S"),
                cmd("dmesg").pipe("grep", "-i", "nf_conntrack: table full"),
            ),
            fix=Fix(
                text=f"Raise nf_conntrack_max on {node}"
                + (f" (at least {2 * limit:,})" if limit else "")
                + " with the hash size at about max/4, "
                "and shorten nf_conntrack_tcp_timeout_established / time_wait / close_wait and "
                "nf_conntrack_udp_timeout(_stream); persist them in a tuning DaemonSet or kube-proxy's "
                "conntrack.maxPerCore.",
                command=TUNING,
            ),
        )


def ct_drops_faults(model: ClusterModel) -> Iterator[Fault]:
    """CT702: Conntrack counters on a node show dropped or failed inserts (with their
    rate between two dated samples, and the caveat for counters read in a pod)."""
    for node, art in sorted(model.node_artifacts.items()):
        ct = art.conntrack
        if ct is None or not ct.has_counters:
            continue
        drops = ct.drop + ct.early_drop
        if drops <= 0 and ct.insert_failed <= 0:
            continue
        n = model.nodes.get(node)
        parts = []
        if drops:
            parts.append(f"drop={ct.drop} early_drop={ct.early_drop} (table full)")
        if ct.insert_failed:
            parts.append(f"insert_failed={ct.insert_failed} (insert races, the 5-second DNS delay)")
        fix_parts = []
        if drops:
            fix_parts.append(
                "raise nf_conntrack_max and shorten nf_conntrack_tcp_timeout_established and the UDP timeouts"
            )
        if ct.insert_failed:
            fix_parts.append("use single-request-reopen in pod dnsConfig or NodeLocal DNSCache")
        severity = Severity.WARNING
        message = f"node {node} conntrack counters since boot: " + "; ".join(parts)
        evidence = [
            Evidence(f"Node/{node}", "conntrack -S drop", str(ct.drop)),
            Evidence(f"Node/{node}", "conntrack -S early_drop", str(ct.early_drop)),
            Evidence(f"Node/{node}", "conntrack -S insert_failed", str(ct.insert_failed)),
        ]
        trend = rates(ct.samples)
        if trend is not None:
            text, rising = trend
            message += "; " + text
            evidence.append(Evidence(f"Node/{node}", "conntrack -S samples", text))
            if not rising:
                severity = Severity.INFO  # it happened, but not while the capture ran
        netns = capture_netns(model, art)
        if netns == "pod":
            severity = Severity.INFO
            message += (
                "; conntrack -S ran inside a pod's network namespace (kubectl exec): these "
                "counters are that namespace's and say nothing about the node"
            )
        elif netns is None:
            message += (
                " (if this was captured inside a pod with kubectl exec, the counters are that "
                "pod's network namespace's, not the node's)"
            )
        yield Fault(
            layer=Layer.CONNTRACK,
            severity=severity,
            kind="Node",
            meta=n.meta if n else Meta(name=node),
            artifacts=True,
            message=message,
            evidence=evidence,
            confirm=(
                cmd("conntrack", "-S").note(f"twice, a minute apart, on {node}"),
                cmd("grep", "conntrack", "/proc/net/stat/nf_conntrack"),
            ),
            fix=Fix(
                text=f"On {node}: " + "; ".join(fix_parts) + ".", command=TUNING if drops else None
            ),
        )


_RATE_KEYS = ("insert_failed", "drop", "early_drop")


def rates(samples: tuple[ConntrackSample, ...]) -> tuple[str, bool] | None:
    """How the counters moved between the first and last sample of the capture:
    ``(text, rising)``, or ``None`` with fewer than two samples. With the samples'
    times (``date`` outputs, ``# at`` headers) the change is a rate per second."""
    if len(samples) < 2:
        return None
    timed = [s for s in samples if s.time is not None]
    first, last = (timed[0], timed[-1]) if len(timed) >= 2 else (samples[0], samples[-1])
    seconds = (
        last.time - first.time
        if first.time is not None and last.time is not None and last.time > first.time
        else None
    )
    deltas = {k: last.counters.get(k, 0) - first.counters.get(k, 0) for k in _RATE_KEYS}
    rising = {k: d for k, d in deltas.items() if d > 0}
    span = f"in {seconds:.0f} s" if seconds else "between the two samples"
    if not rising:
        return f"not rising during the capture ({span}): these are old events", False
    if seconds:
        text = ", ".join(f"{k} +{d} ({d / seconds:.2f}/s)" for k, d in rising.items())
    else:
        text = ", ".join(f"{k} +{d}" for k, d in rising.items())
    return f"rising {span}: {text}", True
