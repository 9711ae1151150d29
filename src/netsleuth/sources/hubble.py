"""Hubble flows from files: ``hubble observe -o json|jsonpb|compact`` and the flow exporter.

One record per line, streamed (constant memory, whatever the file size):

- JSON, the ``GetFlowsResponse`` wrapper that ``hubble observe -o json``
  prints and the exporter writes (``{"flow": {...}, "node_name": ...,
  "time": ...}``), or a bare ``Flow`` object (older ``hubble observe -o json``,
  ``jq .flow``). Field names are the protobuf names, as Cilium's generated
  ``MarshalJSON`` (protojson with ``UseProtoNames``) prints them: ``IP``,
  ``l4``, ``Type``, ``node_name``, ``drop_reason_desc``, ``is_reply``…
  ``lost_events`` records become :class:`LostEvents`; ``node_status``,
  ``agent_event`` and ``debug_event`` records are not flows and are passed over.
- ``-o compact`` text lines::

      Mar 21 10:24:36.264: shop/web-5d8f7c9b4-x2x9q:41234 (ID:12345) -> payments/api-7c9d8b-abcde:8080 (ID:23456) Policy denied DROPPED (TCP Flags: SYN)

  (``[node]`` after the time with ``--print-node-name``; ``<-`` marks a
  reply, printed destination first; ``<>`` an unknown direction). The
  compact time has no year: times are compared within the file only.

Bad lines never stop the stream: each becomes a :class:`LoadProblem`
naming the file and line (the first 10 per file, then one count).
``tests/data/flows/README.md`` maps every field to flow.proto.
"""

from __future__ import annotations

import gzip
import ipaddress
import re
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson
from orjson import JSONDecodeError, loads

from netsleuth.errors import InputError
from netsleuth.model.flows import (
    DROP_REASON_BY_DESCRIPTION,
    DROP_REASON_BY_NAME,
    VERDICTS,
    Flow,
    FlowEndpoint,
    LostEvents,
    drop_reason_name,
)
from netsleuth.model.problems import Level, LoadProblem, Origin

MAX_PROBLEMS_PER_FILE = 10

FlowRecord = Flow | LostEvents | LoadProblem

_COMPACT = re.compile(
    r"^(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?)"
    r"(?: \[(?P<node>[^\]]*)\])?: "
    r"(?P<left>\S+) \((?P<leftid>[^)]*)\) (?P<arrow>->|<-|<>) "
    r"(?P<right>\S+) \((?P<rightid>[^)]*)\) "
    r"(?P<rest>.*)$"
)
_VERDICT_WORDS = {
    "FORWARDED": "FORWARDED",
    "DROPPED": "DROPPED",
    "ERROR": "ERROR",
    "AUDIT": "AUDIT",
    "REDIRECTED": "REDIRECTED",
    "TRACED": "TRACED",
    "TRANSLATED": "TRANSLATED",
    "VERDICT_UNKNOWN": "VERDICT_UNKNOWN",
    # policy-verdict events print these words instead (hubble printer getVerdict)
    "ALLOWED": "FORWARDED",
    "DENIED": "DROPPED",
    "AUDITED": "AUDIT",
}
_TRAILING = re.compile(r"^(?P<type>.*?) ?(?P<verdict>[A-Z_]+)(?: \((?P<summary>.*)\))?$")
_HOSTPORT = re.compile(
    r"^(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\s\[\]]+?))(?::(?P<port>\d+))?$"
)


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():  # protojson prints 64-bit ints as strings
        return int(value)
    return 0


# Flow and FlowEndpoint are named tuples; building them as tuples of every field, in
# order, skips their Python-level __new__ (a third of the reading cost). The
# reader tests hold every record to the field count.
_new = tuple.__new__


def _endpoint(ep: Any, ip: str, port: int, svc: Any, names: Any) -> FlowEndpoint:
    # The hot path of `netsleuth flows` (twice per flow): plain lookups, types
    # checked only where a wrong one would propagate (protojson never prints
    # them, hand-made files might).
    service = ""
    if svc and type(svc) is dict and svc.get("name"):
        service = f"{svc.get('namespace') or ''}/{svc['name']}"
    names_t = tuple(names) if names and type(names) is list else ()
    if not ep or type(ep) is not dict:
        return _new(FlowEndpoint, (ip, port, "", "", 0, (), "", "", service, names_t))
    get = ep.get
    labels = get("labels")
    workloads = get("workloads")
    wl_name = wl_kind = ""
    if workloads and type(workloads) is list:
        wl = workloads[0]
        if type(wl) is dict:
            wl_name = wl.get("name") or ""
            wl_kind = wl.get("kind") or ""
            if type(wl_name) is not str:
                wl_name = str(wl_name)
            if type(wl_kind) is not str:
                wl_kind = str(wl_kind)
    identity = get("identity", 0)
    namespace = get("namespace") or ""
    pod_name = get("pod_name") or ""
    return _new(
        FlowEndpoint,
        (
            ip,
            port,
            namespace if type(namespace) is str else str(namespace),
            pod_name if type(pod_name) is str else str(pod_name),
            identity if type(identity) is int else _int(identity),
            tuple(labels) if labels and type(labels) is list else (),
            wl_name,
            wl_kind,
            service,
            names_t,
        ),
    )


def flow_from_json(
    f: dict[str, Any], file: str = "", line: int = 0, node: str = "", time: Any = None
) -> Flow:
    """A ``Flow`` message (protojson, proto field names) -> :class:`Flow`."""
    get = f.get
    verdict = get("verdict")
    if type(verdict) is not str or not verdict:
        verdict = (
            VERDICTS[verdict]
            if type(verdict) is int and 0 <= verdict < len(VERDICTS)
            else "VERDICT_UNKNOWN"
        )
    reason: str | None = None
    if verdict == "DROPPED":
        desc = get("drop_reason_desc")
        if type(desc) is str and desc:
            reason = desc
        elif type(desc) is int:
            reason = drop_reason_name(desc)
        else:
            code = get("drop_reason")
            reason = drop_reason_name(code if type(code) is int else 0)
    ipd = get("IP")
    sip = dip = ""
    if ipd and type(ipd) is dict:
        sip = ipd.get("source") or ""
        dip = ipd.get("destination") or ""
        if type(sip) is not str:
            sip = ""
        if type(dip) is not str:
            dip = ""
    l4 = get("l4")
    proto = ""
    sport = dport = 0
    flags: tuple[str, ...] = ()
    if l4 and type(l4) is dict:
        proto = next(iter(l4))  # one key: the protocol's name
        body = l4[proto]
        if type(body) is dict:
            sport = body.get("source_port", 0)
            dport = body.get("destination_port", 0)
            if type(sport) is not int:
                sport = _int(sport)
            if type(dport) is not int:
                dport = _int(dport)
            fl = body.get("flags")
            if fl and type(fl) is dict:
                flags = tuple([k for k, v in fl.items() if v is True])
    ts_text = get("time") or time or ""
    if type(ts_text) is not str:
        ts_text = ""
    is_reply = get("is_reply")
    event = get("event_type")
    etype = event.get("type", 0) if event and type(event) is dict else None
    return _new(
        Flow,
        (
            verdict,
            _endpoint(get("source"), sip, sport, get("source_service"), get("source_names")),
            _endpoint(
                get("destination"), dip, dport, get("destination_service"), get("destination_names")
            ),
            ts_text,
            reason,
            proto if type(proto) is str else "",
            is_reply if type(is_reply) is bool else None,
            get("traffic_direction") or "",
            get("node_name") or node or "",
            get("Type") or "",
            None if etype is None else (etype if type(etype) is int else _int(etype)),
            flags,
            get("Summary") or "",
            get("trace_observation_point") or "",
            file,
            line,
        ),
    )


def parse_json_line(line: bytes | str, file: str = "", number: int = 0) -> FlowRecord | None:
    """One JSON line -> a flow, lost events, ``None`` (a non-flow event), or a problem."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        origin = Origin(file=file or None, line=number or None)
        return LoadProblem(
            level=Level.DEGRADED,
            message=f"not valid JSON: {exc}",
            origin=origin,
            skipped="this line",
        )
    if type(obj) is not dict:
        origin = Origin(file=file or None, line=number or None)
        return LoadProblem(
            level=Level.DEGRADED,
            message="a JSON line that is not an object",
            origin=origin,
            skipped="this line",
        )
    flow = obj.get("flow")
    if type(flow) is dict:
        return flow_from_json(flow, file, number, str(obj.get("node_name") or ""), obj.get("time"))
    origin = Origin(file=file or None, line=number or None)
    lost = obj.get("lost_events")
    if isinstance(lost, dict):
        return LostEvents(
            source=str(lost.get("source") or "UNKNOWN_LOST_EVENT_SOURCE"),
            count=_int(lost.get("num_events_lost")),
            node=str(obj.get("node_name") or ""),
            origin=origin,
        )
    if any(k in obj for k in ("node_status", "agent_event", "debug_event")):
        return None
    if "verdict" in obj or "IP" in obj or "l4" in obj or "source" in obj:
        return flow_from_json(obj, file, number)
    keys = ", ".join(sorted(str(k) for k in obj)[:5])
    return LoadProblem(
        level=Level.DEGRADED,
        message=f"a JSON object that is not a Hubble flow (keys: {keys})",
        origin=origin,
        skipped="this line",
    )


def _compact_side(text: str, ident: str) -> FlowEndpoint:
    m = _HOSTPORT.match(text)
    host, port = (
        (text, 0) if m is None else (m.group("ip6") or m.group("host"), _int(m.group("port")))
    )
    identity = 0
    labels: tuple[str, ...] = ()
    if ident.startswith("ID:"):
        identity = _int(ident[3:])
    elif ident:
        labels = (f"reserved:{ident}",)
    if "/" in host:
        ns, _, pod = host.partition("/")
        return FlowEndpoint(port=port, namespace=ns, pod_name=pod, identity=identity, labels=labels)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return FlowEndpoint(
            port=port, identity=identity, labels=labels, names=tuple(host.split(","))
        )
    return FlowEndpoint(ip=host, port=port, identity=identity, labels=labels)


def parse_compact_line(line: str, origin: Origin) -> Flow | LoadProblem:
    """One ``hubble observe -o compact`` line -> a flow (or a problem)."""
    m = _COMPACT.match(line)
    tail = _TRAILING.match(m.group("rest")) if m else None
    verdict = _VERDICT_WORDS.get(tail.group("verdict")) if tail else None
    if m is None or tail is None or verdict is None:
        return LoadProblem(
            level=Level.DEGRADED,
            message="neither JSON nor a `hubble observe -o compact` line",
            origin=origin,
            skipped="this line",
        )
    left = _compact_side(m.group("left"), m.group("leftid"))
    right = _compact_side(m.group("right"), m.group("rightid"))
    arrow = m.group("arrow")
    src, dst = (right, left) if arrow == "<-" else (left, right)
    kind = tail.group("type").strip()
    summary = tail.group("summary") or ""
    reason = None
    if verdict == "DROPPED":
        reason = DROP_REASON_BY_DESCRIPTION.get(kind.lower())
        if reason is None:
            reason = kind.upper().replace(" ", "_") if kind in DROP_REASON_BY_NAME else None
        if reason is None and kind.startswith("policy-verdict"):
            reason = "POLICY_DENIED"
        reason = reason or "DROP_REASON_UNKNOWN"
    proto = ""
    flags: tuple[str, ...] = ()
    if summary.startswith("TCP Flags:"):
        proto = "TCP"
        flags = tuple(x.strip() for x in summary[len("TCP Flags:") :].split(",") if x.strip())
    elif summary.startswith(("ICMPv4", "ICMPv6")):
        proto = summary[:6]
    elif summary.startswith(("DNS ", "HTTP", "Kafka")) or "UDP" in summary:
        proto = "UDP" if summary.startswith("DNS ") else ("UDP" if "UDP" in summary else "TCP")
    direction = ""
    for word in ("INGRESS", "EGRESS"):
        if f" {word}" in f" {kind}":
            direction = word
    return Flow(
        verdict=verdict,
        src=src,
        dst=dst,
        time_text=m.group("ts"),
        drop_reason=reason,
        protocol=proto,
        is_reply=None if arrow == "<>" else arrow == "<-",
        direction=direction,
        node=m.group("node") or "",
        flow_type="L7" if kind.endswith(("-request", "-response")) else "L3_L4",
        tcp_flags=flags,
        summary=summary,
        observation_point=kind.upper().replace("-", "_")
        if kind.startswith(("to-", "from-"))
        else "",
        file=origin.file or "",
        line=origin.line or 0,
    )


def _open(path: str) -> IO[bytes] | gzip.GzipFile:
    if path == "-":
        return sys.stdin.buffer
    try:
        if path.endswith(".gz"):
            return gzip.open(path, "rb")
        return open(path, "rb", buffering=1 << 16)  # long lines: fewer, larger reads
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", file=path) from exc


_NO_ENDPOINT = FlowEndpoint()
COUNTED_REPLY = Flow("FORWARDED", _NO_ENDPOINT, _NO_ENDPOINT, is_reply=True)
"""``brief``: every forwarded reply (a reply is never a policy decision; it is only counted)."""
COUNTED_REDIRECTED = Flow("REDIRECTED", _NO_ENDPOINT, _NO_ENDPOINT)
"""``brief``: every flow redirected to the L7 proxy (not a failure; only counted)."""
_REPLY = b'"is_reply":true'
_FORWARDED = b'"verdict":"FORWARDED"'
_REDIRECTED = b'"verdict":"REDIRECTED"'
_CLOSED = (b"}\n", b"}", b"}\r\n")
_HEAD = 256
_TAIL = 512


def read_lines(lines: Iterable[bytes], name: str, *, brief: bool = False) -> Iterator[FlowRecord]:
    """Parse lines of one input (JSON or compact, detected per line).

    ``brief``: for :func:`netsleuth.flows.summarize`, which only counts forwarded
    replies and flows redirected to the proxy, those are told by their
    ``"verdict"``/``"is_reply"`` members as Hubble writes them (compact JSON: a
    ``"`` inside a string is escaped, so the bytes match members only; looked for
    near the start and the end of the line, where Hubble puts them) and yielded
    as :data:`COUNTED_REPLY`/:data:`COUNTED_REDIRECTED` without parsing the line
    (half of a busy stream is replies). A line that does not end in ``}``, or
    that spells or places those members otherwise (spaces, enum numbers), is
    parsed in full.
    """
    problems = 0
    for number, raw in enumerate(lines, 1):
        rec: FlowRecord | None
        if raw[:1] == b"{":  # the common case: no copy, orjson skips the newline
            if brief and raw.endswith(_CLOSED):
                # Hubble writes "verdict" near the start, "is_reply" near the end:
                # looking there only costs little (a miss only means a full parse)
                if raw.find(_FORWARDED, 0, _HEAD) >= 0:
                    if raw.find(_REPLY, len(raw) - _TAIL) >= 0:
                        yield COUNTED_REPLY
                        continue
                elif raw.find(_REDIRECTED, 0, _HEAD) >= 0:
                    yield COUNTED_REDIRECTED
                    continue
            # a GetFlowsResponse with its flow: read here; anything else (not JSON, a
            # bare flow, lost events, other records) through parse_json_line
            try:
                obj = loads(raw)
            except JSONDecodeError:
                obj = None
            if type(obj) is dict:
                f = obj.get("flow")
                if type(f) is dict:
                    node = obj.get("node_name") or ""
                    if type(node) is not str:
                        node = str(node)
                    yield flow_from_json(f, name, number, node, obj.get("time"))
                    continue
            rec = parse_json_line(raw, name, number)
        else:
            line = raw.strip()
            if not line:
                continue
            origin = Origin(file=name, line=number)
            if line[:1] == b"{":
                rec = parse_json_line(line, name, number)
            else:
                rec = parse_compact_line(line.decode("utf-8", "replace"), origin)
        if rec is None:
            continue
        if isinstance(rec, LoadProblem):
            problems += 1
            if problems > MAX_PROBLEMS_PER_FILE:
                continue
        yield rec
    if problems > MAX_PROBLEMS_PER_FILE:
        yield LoadProblem(
            level=Level.DEGRADED,
            message=f"{problems - MAX_PROBLEMS_PER_FILE} more unreadable lines",
            origin=Origin(file=name),
            skipped="those lines",
        )


def read_flows(paths: Iterable[str], *, brief: bool = False) -> Iterator[FlowRecord]:
    """Stream every flow of ``paths`` (``-`` is stdin; ``.gz`` files are decompressed).

    Raises :class:`InputError` when a file cannot be opened; bad lines are problems.
    ``brief``: see :func:`read_lines` (what :func:`netsleuth.flows.summarize` reads).
    """
    for path in paths:
        fh = _open(path)
        name = "<stdin>" if path == "-" else path
        try:
            yield from read_lines(fh, name, brief=brief)
        except (OSError, EOFError) as exc:
            yield LoadProblem(
                level=Level.DEGRADED,
                message=f"reading stopped: {exc}",
                origin=Origin(file=name),
                skipped="the rest of the file",
            )
        finally:
            if fh is not sys.stdin.buffer:
                fh.close()
