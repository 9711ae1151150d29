"""``-o html`` of ``scan``, ``trace``, ``connectivity`` and ``diff``: the report page with one part.

Each is a renderer of the format registry (:mod:`netsleuth.render.formats`):
``render(result, out)``. The page is the one ``netsleuth report`` writes
(:func:`netsleuth.render.html.report.render_report`), holding the command's
result; the service map is drawn from ``out.context.model`` when the
command passed its cluster (without one the page has the text parts only).
"""

from __future__ import annotations

import shlex

from netsleuth.checks.scan import ScanReport
from netsleuth.policy.diff import DiffReport
from netsleuth.policy.reports import ConnectivityReport
from netsleuth.render.html.compose import trace_request
from netsleuth.render.html.report import ReportInput, render_report
from netsleuth.render.output import Output
from netsleuth.trace.result import TraceResult


def _write(inp: ReportInput, out: Output) -> None:
    out.write(render_report(inp))


def render_scan(report: ScanReport, out: Output) -> None:
    ctx = out.context
    _write(
        ReportInput(
            title="netsleuth scan",
            command=ctx.command,
            source=ctx.source,
            model=ctx.model,
            scan=report.result,
            findings=report.findings,
            problems=report.problems,
        ),
        out,
    )


def render_trace(result: TraceResult, out: Output) -> None:
    ctx = out.context
    q = result.query
    if ctx.model is not None:
        request = trace_request(ctx.model, q.src, q.dst, result=result, namespace=ctx.namespace)
    else:
        from netsleuth.render.html.report import TraceRequest

        request = TraceRequest(src=q.src, dst=q.dst, result=result)
    _write(
        ReportInput(
            title="netsleuth trace",
            command=ctx.command,
            source=ctx.source,
            model=ctx.model,
            traces=(request,),
        ),
        out,
    )


def _selection(report: ConnectivityReport) -> str | None:
    """The options that narrowed the connection list, as a command line writes them."""
    words: list[str] = []
    if report.focus is not None:
        words += ["--focus", report.focus]
    if report.port is not None:
        words += ["--port", str(report.port)]
    if report.namespace is not None:
        words += ["-n", report.namespace]
    return shlex.join(words) if words else None


def render_connectivity(report: ConnectivityReport, out: Output) -> None:
    ctx = out.context
    _write(
        ReportInput(
            title="netsleuth connectivity",
            command=ctx.command,
            source=ctx.source,
            model=ctx.model,
            connections=report.connections,
            selection=_selection(report),
            focus=report.focus,
            notes=report.notes,
            problems=report.problems,
            unreadable_policies=report.unreadable,
        ),
        out,
    )


def render_diff(report: DiffReport, out: Output) -> None:
    ctx = out.context
    _write(
        ReportInput(
            title="netsleuth diff",
            command=ctx.command,
            source=ctx.source,
            model=ctx.model,
            diff=report,
            diff_sides=ctx.sides,
            notes=report.notes,
            problems=report.problems,
        ),
        out,
    )
