"""Timed evidence from logs: kernel messages and the network components' container logs.

:func:`log_events` scans a log for the lines that matter on the packet path
(see :class:`~netsleuth.model.logs.EventKind`) and returns one
:class:`~netsleuth.model.logs.LogEvent` per kind with the count, the first
line and the first and last time seen. The scan is one regular expression
over the whole text, so a large log costs little.

:func:`container_logs` reads the ``==== START logs for container C of pod
NS/P ====`` … ``==== END logs … ====`` sections of a ``kubectl cluster-info
dump`` (its stdout stream, or the ``<ns>/<pod>/logs.txt`` files of
``--output-directory``) into :class:`~netsleuth.model.logs.ContainerLog`
values, and :func:`blank_container_logs` removes them from the stream so the
JSON documents around them parse with their line numbers intact.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import replace

from netsleuth.model.logs import ContainerLog, EventKind, LogEvent
from netsleuth.model.node_artifacts import EvidenceKind
from netsleuth.model.problems import Origin
from netsleuth.sources.node_artifacts import parse_epoch
from netsleuth.sources.node_sniff import log_kind

_KERNEL = None  # every source
_KPROXY = frozenset({EvidenceKind.KUBE_PROXY_LOG.value})
_DNS = frozenset({EvidenceKind.COREDNS_LOG.value})
_CNI = frozenset({EvidenceKind.CNI_LOG.value, "kubelet-log", "log"})

# (kind, sources it is believed from (None: any), pattern). Patterns quote the
# messages as the components print them.
_PATTERNS: tuple[tuple[EventKind, frozenset[str] | None, str], ...] = (
    # net/netfilter/nf_conntrack_core.c: net_warn_ratelimited("nf_conntrack: table full, dropping packet\n")
    # under pr_fmt "nf_conntrack: ", hence the doubled prefix in most kernels.
    (
        EventKind.CONNTRACK_TABLE_FULL,
        _KERNEL,
        r"nf_conntrack: (?:nf_conntrack: )?table full, dropping packet",
    ),
    # net/openvswitch/vport.c: "%s: dropped over-mtu packet: %d > %d"
    (EventKind.OVER_MTU_DROP, _KERNEL, r"dropped over-mtu packet: \d+ > \d+"),
    # net/core/neighbour.c: "neighbour: %s: neighbor table overflow!"
    (EventKind.NEIGHBOUR_TABLE_OVERFLOW, _KERNEL, r"neighbou?r table overflow"),
    # net/netfilter/ipvs/ip_vs_*.c: ip_vs_scheduler_err() "IPVS: %s: %s %s:%d - no destination available"
    (EventKind.IPVS_NO_DESTINATION, _KERNEL, r"IPVS: \S+: \S+ \S+ - no destination available"),
    (
        EventKind.KUBE_PROXY_SYNC_ERROR,
        _KPROXY,
        r"Failed to execute iptables-restore|iptables-restore failed|\"?Sync failed|Failed to sync"
        r"|Failed to (?:ensure|delete|add|flush|list|run)[^\n]{0,80}(?:chain|rule|ipset|ipvs|IPVS|dummy|nft|address)"
        r"|failed to run nft|Error syncing|error syncing",
    ),
    # plugin/loop: "Loop (%s -> %s) detected for zone %q, see https://coredns.io/plugins/loop#troubleshooting"
    (EventKind.COREDNS_LOOP, _DNS, r"plugin/loop: Loop \([^)\n]*\) detected"),
    # plugin/errors: "[ERROR] plugin/errors: 2 <name>. <type>: read udp <src>-><upstream>:53: i/o timeout"
    (EventKind.COREDNS_UPSTREAM_TIMEOUT, _DNS, r"\[ERROR\] plugin/errors: [^\n]*i/o timeout"),
    (
        EventKind.CNI_IPAM_ERROR,
        _CNI,
        r"no IP addresses available in range set|failed to allocate for range|No more free IPs"
        r"|Failed to (?:get|assign|allocate|request) (?:an )?IP|failed to acquire lease"
        r"|ipam/ipam\.go[^\n]*(?:ERROR|[Ee]rror)|IPAM[^\n]{0,40}(?:exhaust|fail)|InsufficientCidrBlocks"
        r"|failed to assign an IP address",
    ),
    (
        EventKind.CNI_ERROR,
        _CNI,
        r"failed to (?:setup|set up) network for sandbox|networkPlugin cni failed|CNI failed"
        r"|\[ERROR\]\[\d+\]|level=error |plugin type=\"[\w-]+\" (?:name=\"[\w-]+\" )?failed",
    ),
)
_EVENTS = re.compile("|".join(f"(?P<e{i}>{p})" for i, (_, _, p) in enumerate(_PATTERNS)))

_TIME_PREFIXES = re.compile(
    r"^(?:(?P<rfc>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))\s+)?"
    r"(?:\[\s*(?P<up>\d+\.\d+)\]"
    r"|\[(?P<ctime>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4})\]"
    r"|(?P<klog>[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+)"
    r"|(?P<calico>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)"
    r"|(?P<journal>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)"
    r"|.*?time=\"(?P<logfmt>[^\"]+)\""
    r"|\{[^\n]*?\"(?:ts|time)\":\s*\"?(?P<json>[^\",}]+))?"
)


def line_time(line: str) -> tuple[str | None, float | None, float | None]:
    """``(time as written, epoch seconds or None, seconds since boot or None)``."""
    m = _TIME_PREFIXES.match(line)
    if m is None:
        return None, None, None
    if m.group("up"):
        return f"[{m.group('up')}]", None, float(m.group("up"))
    for key in ("ctime", "calico", "logfmt", "json"):
        v = m.group(key)
        if v:
            if key == "ctime":
                return v, parse_epoch(v), None
            if key == "calico":
                return v, parse_epoch(v.replace(" ", "T") + "Z"), None
            if key == "json" and re.fullmatch(r"\d+(?:\.\d+)?", v):
                return v, float(v), None
            return v, parse_epoch(v), None
    if m.group("rfc"):
        return m.group("rfc"), parse_epoch(m.group("rfc")), None
    for key in ("klog", "journal"):
        v = m.group(key)
        if v:
            return v, None, None  # no year: shown as written
    return None, None, None


def log_events(
    text: str,
    start: int,
    end: int,
    *,
    source: str,
    file: str,
    line0: int,
    node: str | None = None,
    pod: str | None = None,
    container: str | None = None,
) -> tuple[LogEvent, ...]:
    """The events in ``text[start:end]`` (a log whose first line is line ``line0``)."""
    found: dict[EventKind, dict[str, object]] = {}
    line = line0
    pos = start

    def record(kind: EventKind, ls: int) -> None:
        nonlocal line, pos
        le = text.find("\n", ls, end)
        le = end if le < 0 else le
        line += text.count("\n", pos, ls)
        pos = ls
        raw = text[ls:le].rstrip("\r")
        shown, epoch, _ = line_time(raw)
        entry = found.get(kind)
        if entry is None:
            found[kind] = {
                "count": 1,
                "example": raw.strip()[:300],
                "line": line,
                "last_line": line,
                "first_time": shown,
                "last_time": shown,
                "first_epoch": epoch,
                "last_epoch": epoch,
            }
        else:
            entry["count"] = int(str(entry["count"])) + 1
            entry["last_line"] = line
            entry["last_time"] = shown
            entry["last_epoch"] = epoch

    # One event per line: when a line matches several kinds, the first in _PATTERNS
    # (the more specific: an IPAM failure inside a sandbox error) counts.
    cur_line = -1
    best = len(_PATTERNS)
    for m in _EVENTS.finditer(text, start, end):
        idx = int((m.lastgroup or "e0")[1:])
        _, sources, _ = _PATTERNS[idx]
        if sources is not None and source not in sources:
            continue
        ls = max(text.rfind("\n", start, m.start()) + 1, start)
        if ls != cur_line:
            if cur_line >= 0:
                record(_PATTERNS[best][0], cur_line)
            cur_line, best = ls, idx
        else:
            best = min(best, idx)
    if cur_line >= 0:
        record(_PATTERNS[best][0], cur_line)
    out = []
    for kind, e in found.items():
        ev = LogEvent(
            kind=kind,
            source=source,
            count=int(str(e["count"])),
            example=str(e["example"]),
            file=file,
            line=int(str(e["line"])),
            last_line=int(str(e["last_line"])),
            first_time=e["first_time"] if isinstance(e["first_time"], str) else None,
            last_time=e["last_time"] if isinstance(e["last_time"], str) else None,
            first_epoch=e["first_epoch"] if isinstance(e["first_epoch"], float) else None,
            last_epoch=e["last_epoch"] if isinstance(e["last_epoch"], float) else None,
            node=node,
            pod=pod,
            container=container,
        )
        out.append(ev)
    return tuple(out)


def date_boot_times(events: tuple[LogEvent, ...], boot_epoch: float | None) -> tuple[LogEvent, ...]:
    """Give dmesg events (``[seconds since boot]``) epoch times, when the boot time is known."""
    if boot_epoch is None:
        return events
    out = []
    for ev in events:
        if ev.first_epoch is None and ev.first_time and ev.first_time.startswith("["):
            first = _boot_seconds(ev.first_time)
            last = _boot_seconds(ev.last_time or "")
            ev = replace(
                ev,
                first_epoch=boot_epoch + first if first is not None else None,
                last_epoch=boot_epoch + last if last is not None else None,
            )
        out.append(ev)
    return tuple(out)


def _boot_seconds(text: str) -> float | None:
    m = re.fullmatch(r"\[\s*(\d+\.\d+)\]", text)
    return float(m.group(1)) if m else None


def iso(epoch: float | None) -> str | None:
    """An epoch as ``2024-05-01T10:00:00Z`` for messages."""
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- cluster-info dump

# kubectl/pkg/cmd/clusterinfo/clusterinfo_dump.go printContainer()
_START = re.compile(
    r"^==== START logs for container (\S+) of pod ([^/\s]+)/(\S+) ====[ \t]*$", re.M
)
_END_FMT = "==== END logs for container {c} of pod {ns}/{p} ===="


def container_logs(text: str, file: str) -> Iterator[tuple[int, int, ContainerLog]]:
    """``(section start, section end, log)`` for every container log section in ``text``."""
    pos = 0
    line = 1
    while True:
        m = _START.search(text, pos)
        if m is None:
            return
        line += text.count("\n", pos, m.start())
        c, ns, p = m.group(1), m.group(2), m.group(3)
        body_start = m.end() + 1 if m.end() < len(text) else m.end()
        end_marker = _END_FMT.format(c=c, ns=ns, p=p)
        stop = text.find(end_marker, body_start)
        nxt = _START.search(text, body_start)
        if stop < 0 or (nxt is not None and nxt.start() < stop):
            # no END marker (a cut dump): the log runs to the next START or the end
            body_end = nxt.start() if nxt is not None else len(text)
            section_end = body_end
        else:
            body_end = stop
            nl = text.find("\n", stop)
            section_end = len(text) if nl < 0 else nl + 1
        body_line = line + 1
        hint = f"{p} {c}"
        source = log_kind(text, body_start, body_end, hint)
        src = source.value if source is not None else "log"
        lines = text.count("\n", body_start, body_end)
        events = log_events(
            text,
            body_start,
            body_end,
            source=src,
            file=file,
            line0=body_line,
            pod=f"{ns}/{p}",
            container=c,
        )
        yield (
            m.start(),
            section_end,
            ContainerLog(
                namespace=ns,
                pod=p,
                container=c,
                origin=Origin(file=file, line=line),
                source=source.value if source is not None else None,
                lines=lines,
                events=events,
            ),
        )
        line += text.count("\n", m.start(), section_end)
        pos = section_end


def blank_container_logs(text: str, file: str) -> tuple[str, list[ContainerLog]]:
    """``text`` with every container log section replaced by as many newlines (so the
    JSON documents around keep their line numbers), and the logs."""
    if "==== START logs for container" not in text:
        return text, []
    parts: list[str] = []
    logs: list[ContainerLog] = []
    prev = 0
    for s, e, log in container_logs(text, file):
        parts.append(text[prev:s])
        parts.append("\n" * text.count("\n", s, e))
        logs.append(log)
        prev = e
    parts.append(text[prev:])
    return "".join(parts), logs
