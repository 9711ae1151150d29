"""The HTML report: one self-contained page (inline script and style, no fetches).

:func:`render_report` takes whatever parts a command has (a scan, traces,
a connectivity diff, the model for the map) and renders the page from the
jinja2 templates beside this module (autoescape on). The text parts —
summary, findings, traces, diff, input problems — are plain HTML and read
without JavaScript; the script adds the service map (a canvas), the
namespace/severity filters, search and the copy buttons.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from netsleuth import __version__
from netsleuth.checks.base import ScanResult
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity, Verdict
from netsleuth.model.problems import LoadProblem
from netsleuth.policy.connlist import Connection, Peer, WorkloadMatrix
from netsleuth.policy.diff import DiffReport, Explained
from netsleuth.render.html.embed import csp_hash, script_json, visible, visible_lines
from netsleuth.render.html.mapdata import (
    DEFAULT_AGGREGATE_ABOVE,
    MapData,
    add_overlay,
    attach_findings,
    build_listed_map,
    build_map,
    conn_label,
    connection_overlay,
)
from netsleuth.trace.result import Hop, TraceResult

MAX_DIFF_ROWS = 2000
"""Lost/gained/changed connections listed in the page per kind (the rest: ``diff -o json``)."""
MAX_CONNECTION_ROWS = 5000
"""Connections listed as a table under the map (``connectivity -o html``)."""

_SEV_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_HOP_STATUS_RANK = {"broken": 0, "warning": 1, "unknown": 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceRequest:
    """A trace the report was asked for, with its result or the reason it could not run."""

    src: str
    dst: str
    result: TraceResult | None = None
    error: str | None = None
    src_peers: tuple[Peer, ...] = ()
    dst_peers: tuple[Peer, ...] = ()
    """The map nodes of the two ends (workloads; empty when an end is not a workload)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportInput:
    """Everything a report may show; a command fills in what it has."""

    title: str = "netsleuth report"
    command: str = ""
    """The command line that made the report (shown in the header)."""
    source: str = ""
    """What was read: files or the live context."""
    model: ClusterModel | None = None
    """The cluster the map is drawn from (for a diff: the AFTER side)."""
    matrix: WorkloadMatrix | None = None
    scan: ScanResult | None = None
    findings: Sequence[Finding] | None = None
    """The findings to show (``scan.findings`` when None)."""
    traces: Sequence[TraceRequest] = ()
    diff: DiffReport | None = None
    diff_sides: tuple[str, str] = ("before", "after")
    connections: Sequence[Connection] | None = None
    """A connection table under the map (``connectivity``), capped at MAX_CONNECTION_ROWS."""
    selection: str | None = None
    """Set when ``connections`` were narrowed (``--focus shop/cart``, ``--port``, ``-n``): the
    map then draws exactly those connections, and the page says which options chose them."""
    focus: str | None = None
    """``--focus``: the workload whose neighbourhood the map shows (its namespace open)."""
    problems: Sequence[LoadProblem] = ()
    unreadable_policies: Sequence[str] = ()
    notes: Sequence[str] = ()
    """Why some results are unknown (a policy the API server would reject was left out)."""
    aggregate_above: int = DEFAULT_AGGREGATE_ABOVE
    with_map: bool = True
    generated: str | None = None
    """The timestamp shown (UTC now when None; tests pass a fixed one)."""


@dataclass(slots=True)
class _Summary:
    layers: list[dict[str, Any]] = field(default_factory=list)
    severities: dict[str, int] = field(default_factory=dict)
    verdicts: dict[str, int] = field(default_factory=dict)


@cache
def _asset(name: str) -> str:
    return (resources.files("netsleuth.render.html") / "assets" / name).read_text("utf-8")


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("netsleuth.render.html", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["v"] = visible
    env.filters["vl"] = visible_lines
    env.filters["ref"] = _subject_ref
    env.filters["sevrank"] = lambda s: _SEV_ORDER.get(Severity(s), 3)
    return env


def _subject_ref(f: Finding) -> str:
    s = f.subject
    return f"{s.kind} {s.namespace}/{s.name}" if s.namespace else f"{s.kind} {s.name}"


def _ordered(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (_SEV_ORDER[f.severity], str(f.layer), f.rule_id, f.subject.ref()),
    )


def _summary(findings: Sequence[Finding], traces: Sequence[TraceRequest]) -> _Summary:
    """Faults by layer, worst first: scan findings and the broken/warning hops of the traces."""
    per: dict[str, Counter[str]] = {}
    for f in findings:
        per.setdefault(str(f.layer), Counter())[str(f.severity)] += 1
    for t in traces:
        if t.result is None:
            continue
        for hop in t.result.hops:
            st = str(hop.status)
            if st in ("broken", "warning"):
                per.setdefault(str(hop.layer), Counter())[f"hop-{st}"] += 1
    order = [str(layer) for layer in Layer]
    rows: list[dict[str, Any]] = [
        {
            "layer": layer,
            "error": c["error"],
            "warning": c["warning"],
            "info": c["info"],
            "broken": c["hop-broken"],
            "hop_warning": c["hop-warning"],
        }
        for layer, c in per.items()
    ]
    rows.sort(
        key=lambda r: (
            -(r["error"] + r["broken"]),
            -(r["warning"] + r["hop_warning"]),
            -r["info"],
            order.index(r["layer"]) if r["layer"] in order else len(order),
            r["layer"],
        )
    )
    sev = Counter(str(f.severity) for f in findings)
    verdicts = Counter(str(t.result.verdict) if t.result else "error" for t in traces)
    return _Summary(
        layers=rows,
        severities={s: sev[s] for s in ("error", "warning", "info")},
        verdicts=dict(verdicts),
    )


def _hop_view(hop: Hop) -> dict[str, Any]:
    st = str(hop.status)
    return {
        "layer": str(hop.layer),
        "status": st,
        "summary": hop.summary,
        "root_cause": hop.root_cause,
        "detail": list(hop.detail),
        "evidence": hop.evidence,
        "confirm": hop.confirm,
        "fix": hop.fix,
        "open": st in _HOP_STATUS_RANK,
    }


def _trace_views(traces: Sequence[TraceRequest], findings_ns: set[str]) -> list[dict[str, Any]]:
    out = []
    for k, t in enumerate(traces):
        r = t.result
        namespaces = sorted({p.namespace for p in (*t.src_peers, *t.dst_peers) if p.namespace})
        view: dict[str, Any] = {
            "id": f"trace-{k + 1}",
            "src": t.src,
            "dst": t.dst,
            "error": t.error,
            "namespaces": " ".join(namespaces),
        }
        if r is not None:
            q = r.query
            view.update(
                verdict=str(r.verdict),
                src_resolved=q.src_resolved,
                dst_resolved=q.dst_resolved
                + (f":{q.port}" if q.port is not None else "")
                + f"/{q.protocol}",
                path=q.path,
                notes=list(q.notes),
                hops=[_hop_view(h) for h in r.hops],
                problems=list(r.problems),
            )
        else:
            view["verdict"] = "error"
        out.append(view)
    return out


def _peer_text(p: Peer) -> str:
    return p.describe()


def _explained_view(e: Explained, after: bool) -> dict[str, Any]:
    return {
        "src": _peer_text(e.before.src),
        "dst": _peer_text(e.before.dst),
        "ns": " ".join(sorted({x for x in (e.before.src.namespace, e.before.dst.namespace) if x})),
        "before": conn_label(e.before.ports),
        "after": conn_label(e.after.ports) if after and e.after is not None else "",
        "probe": f"{e.probe[0]}/{e.probe[1]}",
        "why": list(e.why),
        "changes": [
            c.describe()
            + (
                f" ({c.origin.file}" + (f":{c.origin.line}" if c.origin.line else "") + ")"
                if c.origin.file
                else ""
            )
            for c in e.changes
        ],
    }


def _diff_view(report: DiffReport) -> dict[str, Any]:
    d = report.diff
    lost = [_explained_view(e, after=False) for e in report.lost[:MAX_DIFF_ROWS]]
    changed = [_explained_view(e, after=True) for e in report.changed[:MAX_DIFF_ROWS]]
    gained = [
        {
            "src": _peer_text(c.src),
            "dst": _peer_text(c.dst),
            "ns": " ".join(sorted({x for x in (c.src.namespace, c.dst.namespace) if x})),
            "conn": conn_label(c.ports),
        }
        for c in d.gained[:MAX_DIFF_ROWS]
    ]
    return {
        "lost": lost,
        "gained": gained,
        "changed": changed,
        "counts": {"lost": len(d.lost), "gained": len(d.gained), "changed": len(d.changed)},
        "policy_changes": [
            c.describe()
            + (
                f" ({c.origin.file}" + (f":{c.origin.line}" if c.origin.line else "") + ")"
                if c.origin.file
                else ""
            )
            for c in report.policy_changes
        ],
        "cap": MAX_DIFF_ROWS,
    }


def _overlays(data: MapData, traces: Sequence[TraceRequest], diff: DiffReport | None) -> None:
    for k, t in enumerate(traces):
        if t.result is None:
            continue
        src = sorted({i for p in t.src_peers if (i := data.node_of(p)) is not None})
        dst = sorted({i for p in t.dst_peers if (i := data.node_of(p)) is not None})
        q = t.result.query
        add_overlay(
            data,
            kind="trace",
            src=src,
            dst=dst,
            status=str(t.result.verdict),
            label=f"trace {t.src} → {t.dst}"
            + (f" ({q.port}/{q.protocol})" if q.port is not None else ""),
            anchor=f"trace-{k + 1}",
        )
    if diff is not None:
        for k, e in enumerate(diff.lost[:MAX_DIFF_ROWS]):
            connection_overlay(data, e.before, kind="lost", status="lost", anchor=f"lost-{k + 1}")
        for k, c in enumerate(diff.diff.gained[:MAX_DIFF_ROWS]):
            connection_overlay(data, c, kind="gained", status="gained", anchor=f"gained-{k + 1}")


def _namespaces(
    model: ClusterModel | None, findings: Sequence[Finding], data: MapData | None
) -> list[dict[str, Any]]:
    """Namespace rows (the no-JavaScript view of the map, and the filter's choices)."""
    names: set[str] = set()
    if data is not None and data.selection is not None:
        # a map of listed connections: its namespaces only
        names |= {g["name"] for g in data.groups if not g["ext"]}
    elif model is not None:
        names |= set(model.namespaces) | set(model.pods_by_namespace)
    names |= {f.subject.namespace for f in findings if f.subject.namespace}
    counts = Counter(f.subject.namespace for f in findings if f.subject.namespace)
    workloads: dict[str, int] = {}
    pods: dict[str, int] = {}
    if data is not None:
        for g in data.groups:
            if not g["ext"]:
                workloads[g["name"]] = g["end"] - g["start"]
                pods[g["name"]] = sum(
                    data.nodes[i].get("p", 0) for i in range(g["start"], g["end"])
                )
    return [
        {
            "name": n,
            "workloads": workloads.get(n),
            "pods": pods.get(n),
            "findings": counts.get(n, 0),
        }
        for n in sorted(names)
    ]


def render_report(inp: ReportInput) -> str:
    """The whole page as a string."""
    findings = _ordered(
        list(inp.findings if inp.findings is not None else (inp.scan.findings if inp.scan else ()))
    )
    data: MapData | None = None
    if inp.with_map and inp.model is not None:
        if inp.selection is not None and inp.connections is not None:
            data = build_listed_map(
                inp.model,
                inp.connections,
                selection=inp.selection,
                focus=inp.focus,
                aggregate_above=inp.aggregate_above,
            )
        else:
            data = build_map(inp.model, wm=inp.matrix, aggregate_above=inp.aggregate_above)
        attach_findings(inp.model, data, findings)
        _overlays(data, inp.traces, inp.diff)
    summary = _summary(findings, inp.traces)
    traces = _trace_views(inp.traces, set())
    js = _asset("report.js")
    css = _asset("report.css")
    csp = (
        "default-src 'none'; "
        f"script-src {csp_hash(js)}; style-src {csp_hash(css)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    page_data: dict[str, Any] = {
        "map": data.to_json() if data is not None else None,
        "findings": [
            {
                "id": f.rule_id,
                "sev": str(f.severity),
                "ns": f.subject.namespace,
                "subject": _subject_ref(f),
            }
            for f in findings
        ],
    }
    connections = None
    if inp.connections is not None:
        connections = {
            "rows": [
                {
                    "src": c.src.describe(),
                    "dst": c.dst.describe(),
                    "conn": conn_label(c.ports),
                    "ns": " ".join(sorted({x for x in (c.src.namespace, c.dst.namespace) if x})),
                }
                for c in inp.connections[:MAX_CONNECTION_ROWS]
            ],
            "total": len(inp.connections),
            "cap": MAX_CONNECTION_ROWS,
        }
    skipped = []
    if inp.scan is not None:
        skipped = [(s.check_id, s.reason) for s in (*inp.scan.skipped, *inp.scan.errors)]
    generated = inp.generated or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    template = _env().get_template("report.html.j2")
    return template.render(
        title=inp.title,
        command=inp.command,
        source=inp.source,
        version=__version__,
        generated=generated,
        csp=csp,
        css=Markup(css),  # our own asset, not cluster text
        js=Markup(js),
        data_json=script_json(page_data),
        summary=summary,
        findings=findings,
        scan=inp.scan,
        skipped=skipped,
        traces=traces,
        diff=_diff_view(inp.diff) if inp.diff is not None else None,
        diff_sides=inp.diff_sides,
        connections=connections,
        problems=list(inp.problems),
        unreadable=list(inp.unreadable_policies),
        notes=list(inp.notes),
        namespaces=_namespaces(inp.model, findings, data),
        map=data,
        focus=inp.focus,
        verdict_ok=str(Verdict.OK),
    )
