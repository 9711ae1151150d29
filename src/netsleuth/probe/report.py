"""What the packets did, per hop: the agent's raw result read against the request.

Each hop says what was sent and what came back, with a verdict:

- dns: resolved (and to the addresses the model predicts), NXDOMAIN,
  refused, SERVFAIL or timed out; slow when the lookup took over a second
  (a dropped query retried after the resolver's timeout);
- service: the connects to the ClusterIP, and which endpoints answered
  (the lab's responder names its pod); some failing means an endpoint behind
  the VIP is dead or stale;
- endpoint / pod: connected, refused (the packet arrived and nothing
  listens: RST or ICMP port-unreachable), or timed out (dropped on the way:
  a NetworkPolicy, a missing route, a full conntrack table);
- mtu: the DF ping sweep's path MTU against the source pod's MTU; a smaller
  path with no ICMP error is a black hole.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from netsleuth.model.findings import Verdict
from netsleuth.probe.plan import ConnectTarget, ProbeRequest

SLOW_DNS_MS = 1000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeHop:
    hop: str
    target: str
    verdict: Verdict
    observed: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeReport:
    src: str
    dst: str
    backend: str
    hops: tuple[ProbeHop, ...]
    notes: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        verdicts = {h.verdict for h in self.hops}
        for v in (Verdict.BROKEN, Verdict.WARNING):
            if v in verdicts:
                return v
        if not self.hops or verdicts <= {Verdict.UNKNOWN, Verdict.SKIPPED}:
            return Verdict.UNKNOWN
        return Verdict.OK


def _dns_hop(d: dict[str, Any], expected: tuple[str, ...]) -> ProbeHop:
    queries = d.get("queries", [])
    n = len(queries)
    ms = float(d.get("ms", 0))
    outcome = d.get("outcome")
    tried = []
    for q in queries:
        if q["query"] not in tried:
            tried.append(q["query"])
    details = tuple(
        f"{q['query']} {q['type']} @{q['server']}: {q['rcode']}"
        + (f" {', '.join(a['value'] for a in q['answers'] if a['value'])}" if q["answers"] else "")
        + f" ({q['ms']} ms)"
        for q in queries
    )
    addrs = list(d.get("addresses", []))
    if outcome == "resolved":
        if expected and set(addrs) != set(expected):
            return ProbeHop(
                hop="dns",
                target=d["name"],
                verdict=Verdict.WARNING,
                observed=f"resolved to {', '.join(addrs)}, the model says {', '.join(expected)}",
                details=details,
            )
        if ms > SLOW_DNS_MS:
            return ProbeHop(
                hop="dns",
                target=d["name"],
                verdict=Verdict.WARNING,
                observed=f"resolved to {', '.join(addrs)} but slowly: {ms:.0f} ms over {n} queries",
                details=details,
            )
        return ProbeHop(
            hop="dns",
            target=d["name"],
            verdict=Verdict.OK,
            observed=f"resolved to {', '.join(addrs)} as {tried[-1] if tried else d['name']} ({n} queries, {ms:.0f} ms)",
            details=details,
        )
    what = {
        "nxdomain": f"NXDOMAIN for every candidate ({', '.join(tried)})",
        "timeout": f"no answer: {n} queries timed out ({ms:.0f} ms)",
        "refused": "the nameserver refused the query",
        "servfail": "SERVFAIL",
    }.get(str(outcome), str(outcome))
    return ProbeHop(
        hop="dns", target=d["name"], verdict=Verdict.BROKEN, observed=what, details=details
    )


def _connect_hop(c: ConnectTarget, r: dict[str, Any]) -> ProbeHop:
    attempts = r.get("attempts", [])
    counts = Counter(a["status"] for a in attempts)
    total = len(attempts)
    banners = sorted(
        {
            a.get("banner", "").split(" ")[1]
            for a in attempts
            if a.get("banner", "").startswith("netsleuth-lab ")
        }
    )
    ms = [a["ms"] for a in attempts if a["status"] == "connected"]
    details = tuple(
        f"attempt {i + 1}: {a['status']}"
        + (f" ({a['banner']})" if a.get("banner") else "")
        + f" {a['ms']} ms"
        for i, a in enumerate(attempts)
    )
    summary = ", ".join(f"{k} {v}/{total}" for k, v in sorted(counts.items()))
    if counts.get("connected") == total:
        obs = f"connected {total}/{total}" + (f" in {max(ms):.1f} ms" if ms else "")
        if banners and c.kind == "service":
            obs += "; answered by " + ", ".join(banners)
        return ProbeHop(
            hop=c.kind, target=c.label, verdict=Verdict.OK, observed=obs, details=details
        )
    if counts.get("refused") == total:
        why = (
            "refused: the packet arrived and nothing listens on that port"
            if c.kind != "service"
            else "refused: the ClusterIP rejects connections (a Service without endpoints)"
        )
        return ProbeHop(
            hop=c.kind, target=c.label, verdict=Verdict.BROKEN, observed=why, details=details
        )
    if not counts.get("connected"):
        why = f"{summary}: dropped on the way (NetworkPolicy, a missing route, a full conntrack table or a dead pod)"
        return ProbeHop(
            hop=c.kind, target=c.label, verdict=Verdict.BROKEN, observed=why, details=details
        )
    why = f"{summary}: some connections fail"
    if banners:
        why += "; answered only by " + ", ".join(banners)
    if c.kind == "service":
        why += " (an endpoint behind the ClusterIP does not answer: stale or dead)"
    return ProbeHop(
        hop=c.kind, target=c.label, verdict=Verdict.BROKEN, observed=why, details=details
    )


def _mtu_hop(m: dict[str, Any], src_mtu: int | None) -> ProbeHop:
    ip = m.get("ip", "?")
    status = m.get("status")
    details = tuple(
        f"{t['size']} bytes DF: {t['result']}"
        + (f" (mtu {t['mtu']} from {t['from']})" if t.get("mtu") else "")
        for t in m.get("tried", [])
    )
    via = f" (TCP segments to {m['via']}; ICMP is dropped)" if m.get("via") else ""
    if status == "ok":
        return ProbeHop(
            hop="mtu",
            target=ip,
            verdict=Verdict.OK,
            observed=f"path carries {m['path_mtu']}-byte packets with DF (the pod's MTU){via}",
            details=details,
        )
    if status == "reduced":
        pm = m["path_mtu"]
        local = m.get("local_mtu") or src_mtu
        if m.get("black_hole"):
            obs = f"black hole: packets above {pm} bytes vanish without an ICMP error (pod MTU {local}){via}"
            return ProbeHop(
                hop="mtu", target=ip, verdict=Verdict.BROKEN, observed=obs, details=details
            )
        fn = m.get("frag_needed") or {}
        obs = f"path MTU {pm} < pod MTU {local}: ICMP fragmentation-needed from {fn.get('from')} (mtu {fn.get('mtu')})"
        return ProbeHop(
            hop="mtu", target=ip, verdict=Verdict.WARNING, observed=obs, details=details
        )
    return ProbeHop(
        hop="mtu",
        target=ip,
        verdict=Verdict.UNKNOWN,
        observed="not checked: " + str(m.get("reason", "")),
        details=details,
    )


def read_result(
    req: ProbeRequest,
    raw: dict[str, Any],
    *,
    backend: str,
    src_mtu: int | None = None,
    commands: tuple[str, ...] = (),
) -> ProbeReport:
    hops: list[ProbeHop] = []
    for d in raw.get("dns", []):
        hops.append(_dns_hop(d, req.expected_addresses))
    for c, r in zip(req.connects, raw.get("connect", []), strict=False):
        hops.append(_connect_hop(c, r))
    for m in raw.get("mtu", []):
        hops.append(_mtu_hop(m, src_mtu))
    return ProbeReport(
        src=f"{req.src.namespace}/{req.src.name}",
        dst=req.dst_text,
        backend=backend,
        hops=tuple(hops),
        notes=req.notes,
        commands=commands,
        raw=raw,
    )
