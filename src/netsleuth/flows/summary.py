"""Stream flows into a bounded summary: drops grouped, transients, predicted vs observed.

One pass, memory bounded by the number of distinct groups (not of flows):

- every flow is counted by verdict (``REDIRECTED`` — to the L7 proxy — and
  ``FORWARDED`` are not failures);
- each ``DROPPED`` flow joins a :class:`DropGroup` keyed by drop reason,
  resolved source and destination (a workload, a Service, a node, ``world``),
  protocol and direction, with counts, first/last time, ports and nodes;
- a drop followed within ``window`` seconds by a ``FORWARDED`` flow of the
  same 5-tuple (a retransmission that got through) or of the same pair and
  port marks its group transient, as does a source shown only by an address
  that is a pod of the model (its identity was not yet known where the
  packet was judged);
- each ``FORWARDED`` first packet of a connection between endpoints of the
  model is checked against the policy engine: what the engine denies but the
  cluster forwarded joins a :class:`ForwardedGroup` (policy not enforced, or
  the model is stale);
- the last verdict per (source, destination, protocol, port) is kept for
  ``trace --flows``.

Input is taken in the order given; ``hubble observe`` prints flows in time order.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from netsleuth.flows.resolve import Resolver, Side
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.flows import NOT_FAILURE_DROP_REASONS, Flow, LostEvents
from netsleuth.model.problems import LoadProblem
from netsleuth.policy import IPEndpoint, PodEndpoint, evaluate
from netsleuth.policy.coverage import unreadable_policies

DEFAULT_WINDOW = 10.0
"""Seconds within which a FORWARDED retry makes a drop transient."""
MAX_GROUPS = 10_000
MAX_PAIRS = 100_000
MAX_PORTS = 16
MAX_SAMPLES = 5
MAX_RECENT = 100_000
L4_PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(slots=True)
class FlowCounts:
    total: int = 0
    forwarded: int = 0
    dropped: int = 0
    redirected: int = 0
    other: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "forwarded": self.forwarded,
            "dropped": self.dropped,
            "redirected": self.redirected,
            "other": self.other,
        }


@dataclass(slots=True)
class _Span:
    count: int = 0
    first: float | None = None
    first_text: str = ""
    last: float | None = None
    last_text: str = ""
    ports: dict[int, int] = field(default_factory=dict)
    ports_overflow: int = 0
    nodes: dict[str, int] = field(default_factory=dict)
    src_ips: list[str] = field(default_factory=list)
    dst_ips: list[str] = field(default_factory=list)
    origin: str = ""

    def add(self, f: Flow, t: float | None) -> None:
        self.count += 1
        if self.count == 1:
            self.first, self.first_text, self.last, self.last_text = t, f.time_text, t, f.time_text
            self.origin = f"{f.file}:{f.line}" if f.file else ""
        elif t is not None:
            if self.first is None or t < self.first:
                self.first, self.first_text = t, f.time_text
            if self.last is None or t >= self.last:
                self.last, self.last_text = t, f.time_text
        port = f.dst.port
        if port:
            if port in self.ports:
                self.ports[port] += 1
            elif len(self.ports) < MAX_PORTS:
                self.ports[port] = 1
            else:
                self.ports_overflow += 1
        if f.node:
            if f.node in self.nodes:
                self.nodes[f.node] += 1
            elif len(self.nodes) < MAX_SAMPLES:
                self.nodes[f.node] = 1
        if f.src.ip and len(self.src_ips) < MAX_SAMPLES and f.src.ip not in self.src_ips:
            self.src_ips.append(f.src.ip)
        if f.dst.ip and len(self.dst_ips) < MAX_SAMPLES and f.dst.ip not in self.dst_ips:
            self.dst_ips.append(f.dst.ip)

    def top_ports(self, n: int = MAX_PORTS) -> list[int]:
        return [p for p, _ in sorted(self.ports.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


@dataclass(slots=True)
class DropGroup(_Span):
    """Repeated drops of one reason between the same two sides."""

    reason: str = ""
    src: Side | None = None
    dst: Side | None = None
    protocol: str = ""
    direction: str = ""
    identity_unknown: int = 0
    """Drops whose source was shown only by an address that is a pod of the model."""
    retried_forwarded: int = 0
    """Drops whose exact 5-tuple was FORWARDED within the window afterwards."""
    pair_forwarded_after: int = 0
    """Drops followed within the window by a FORWARDED flow of the same pair and port."""

    @property
    def transient(self) -> bool:
        return self.retried_forwarded > 0 or self.pair_forwarded_after > 0


@dataclass(slots=True)
class ForwardedGroup(_Span):
    """Connections the cluster forwarded although the policy engine denies them."""

    src: Side | None = None
    dst: Side | None = None
    protocol: str = ""


@dataclass(slots=True)
class PairObservation:
    """The last verdict seen for one (source, destination, protocol, port)."""

    verdict: str = ""
    reason: str | None = None
    time_text: str = ""
    node: str = ""
    forwarded: int = 0
    dropped: int = 0
    file: str = ""
    line: int = 0

    @property
    def origin(self) -> str:
        """``file:line`` of that last flow (empty when it came from no file)."""
        return f"{self.file}:{self.line}" if self.file else ""


@dataclass(frozen=True, slots=True)
class FlowSummary:
    counts: FlowCounts
    drops: tuple[DropGroup, ...]
    forwarded_denied: tuple[ForwardedGroup, ...]
    pairs: dict[tuple[str, str, str, int], PairObservation]
    problems: tuple[LoadProblem, ...] = ()
    lost_events: int = 0
    window: float = DEFAULT_WINDOW
    notes: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    pair_sides: dict[str, Side] = field(default_factory=dict)
    """Side by key, for every side a pair mentions."""


def summarize(
    model: ClusterModel,
    records: Iterable[Flow | LostEvents | LoadProblem],
    *,
    window: float = DEFAULT_WINDOW,
    files: tuple[str, ...] = (),
    progress: Callable[[int], object] | None = None,
) -> FlowSummary:
    """Consume ``records`` once and return the summary (see the module docstring)."""
    resolver = Resolver(model)
    groups: dict[tuple[str, str, str, str, str], DropGroup] = {}
    fwd_denied: dict[tuple[str, str, str], ForwardedGroup] = {}
    pairs: dict[tuple[str, str, str, int], PairObservation] = {}
    sides: dict[str, Side] = {}
    recent: OrderedDict[tuple[str, int, str, int, str], tuple[float, DropGroup, bool]] = (
        OrderedDict()
    )
    pair_drop: dict[tuple[str, str, str, int], tuple[float, DropGroup, bool]] = {}
    verdict_cache: dict[tuple[object, ...], tuple[bool, bool]] = {}
    problems: list[LoadProblem] = []
    notes: list[str] = []
    lost = 0
    overflow_groups = 0
    check_policy = not unreadable_policies(model)
    if not check_policy:
        notes.append(
            "forwarded flows were not compared with the policies: some policy kinds could not be read"
        )
    side = resolver.side
    # Per-verdict counts in locals (the loop runs once per flow; attribute updates cost).
    total = forwarded = dropped = redirected = other = 0
    for rec in records:
        if not isinstance(rec, Flow):
            if isinstance(rec, LostEvents):
                lost += rec.count
            else:
                problems.append(rec)
            continue
        total += 1
        if progress is not None and total % 65536 == 0:
            progress(total)
        verdict = rec.verdict
        reply = rec.is_reply
        if verdict == "FORWARDED":
            forwarded += 1
            if reply is True:
                continue
        elif verdict == "DROPPED":
            dropped += 1
        elif verdict == "REDIRECTED":
            redirected += 1
            continue
        else:
            other += 1
            continue
        proto = rec.protocol
        sport, dport = rec.src.port, rec.dst.port
        if verdict == "DROPPED":
            reason = rec.drop_reason or "DROP_REASON_UNKNOWN"
            if reason in NOT_FAILURE_DROP_REASONS:
                continue
            s = side(rec.src)
            d = side(rec.dst)
            gkey = (reason, s.key, d.key, proto, rec.direction)
            g = groups.get(gkey)
            if g is None:
                if len(groups) >= MAX_GROUPS:
                    overflow_groups += 1
                    continue
                g = groups[gkey] = DropGroup(
                    reason=reason, src=s, dst=d, protocol=proto, direction=rec.direction
                )
            t = rec.time
            g.add(rec, t)
            if s.identity_unknown:
                g.identity_unknown += 1
            if reply is not True:
                pkey = (s.key, d.key, proto, dport)
                _observe(pairs, sides, pkey, s, d, rec)
                if t is not None:
                    # a drop at egress is cleared by any later forward; one at (or
                    # possibly at) ingress only by a forward the destination received
                    needs_delivery = rec.direction != "EGRESS"
                    pair_drop[pkey] = (t, g, needs_delivery)
                    tup = (rec.src.ip, sport, rec.dst.ip, dport, proto)
                    recent[tup] = (t, g, needs_delivery)
                    recent.move_to_end(tup)
                    while recent:
                        old_key, old = next(iter(recent.items()))
                        if old[0] >= t - window and len(recent) <= MAX_RECENT:
                            break
                        del recent[old_key]
                    if len(pair_drop) > MAX_PAIRS:
                        pair_drop.clear()
            continue
        # FORWARDED, not a reply
        delivered = rec.delivered
        if recent:
            tup = (rec.src.ip, sport, rec.dst.ip, dport, proto)
            hit = recent.get(tup)
            if (
                hit is not None
                and (delivered or not hit[2])
                and (ft := rec.time) is not None
                and 0 <= ft - hit[0] <= window
            ):
                hit[1].retried_forwarded += 1
                del recent[tup]
        s = side(rec.src)
        d = side(rec.dst)
        pkey = (s.key, d.key, proto, dport)
        if pair_drop:
            ph = pair_drop.get(pkey)
            if (
                ph is not None
                and (delivered or not ph[2])
                and (ft := rec.time) is not None
                and 0 <= ft - ph[0] <= window
            ):
                ph[1].pair_forwarded_after += 1
                del pair_drop[pkey]
        _observe(pairs, sides, pkey, s, d, rec)
        if (
            check_policy
            and proto in L4_PROTOCOLS
            and dport
            and d.pod is not None
            and (rec.flow_type in ("L3_L4", ""))
            and rec.is_new_connection
        ):
            src_key: object
            if s.pod_key is not None:
                src_key = s.pod_key
            elif s.kind in ("world", "address", "node", "reserved") and rec.src.ip:
                src_key = rec.src.ip
            else:
                continue
            ck = (src_key, d.pod_key, proto, dport)
            sides_allowed = verdict_cache.get(ck)
            if sides_allowed is None:
                src_ep = PodEndpoint(s.pod) if s.pod is not None else IPEndpoint(rec.src.ip)
                dec = evaluate(model, src_ep, PodEndpoint(d.pod), proto, dport)
                sides_allowed = (dec.egress.allowed, dec.ingress.allowed)
                if len(verdict_cache) < 200_000:
                    verdict_cache[ck] = sides_allowed
            # seen at the destination: both sides passed; elsewhere only the egress side
            allowed = sides_allowed[0] and (sides_allowed[1] or not delivered)
            if not allowed:
                fkey = (s.key, d.key, proto)
                fg = fwd_denied.get(fkey)
                if fg is None:
                    if len(fwd_denied) >= MAX_GROUPS:
                        continue
                    fg = fwd_denied[fkey] = ForwardedGroup(src=s, dst=d, protocol=proto)
                fg.add(rec, rec.time)
    counts = FlowCounts(total, forwarded, dropped, redirected, other)
    if overflow_groups:
        notes.append(
            f"{overflow_groups} drops beyond {MAX_GROUPS} distinct groups were counted but not grouped"
        )
    if len(pairs) >= MAX_PAIRS:
        notes.append(f"only the first {MAX_PAIRS} source/destination pairs were kept for trace")
    return FlowSummary(
        counts=counts,
        drops=tuple(
            sorted(groups.values(), key=lambda g: (-g.count, g.reason, g.src.key if g.src else ""))
        ),
        forwarded_denied=tuple(
            sorted(fwd_denied.values(), key=lambda g: (-g.count, g.src.key if g.src else ""))
        ),
        pairs=pairs,
        problems=tuple(problems),
        lost_events=lost,
        window=window,
        notes=tuple(notes),
        files=files,
        pair_sides=sides,
    )


def _observe(
    pairs: dict[tuple[str, str, str, int], PairObservation],
    sides: dict[str, Side],
    key: tuple[str, str, str, int],
    s: Side,
    d: Side,
    f: Flow,
) -> None:
    obs = pairs.get(key)
    if obs is None:
        if len(pairs) >= MAX_PAIRS:
            return
        obs = pairs[key] = PairObservation()
        sides.setdefault(s.key, s)
        sides.setdefault(d.key, d)
    verdict = obs.verdict = f.verdict
    obs.reason = f.drop_reason
    obs.time_text = f.time_text
    obs.node = f.node
    obs.file = f.file
    obs.line = f.line
    if verdict == "DROPPED":
        obs.dropped += 1
    else:
        obs.forwarded += 1
