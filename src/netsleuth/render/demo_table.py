"""``netsleuth demo``: the inventory, the scan and a trace of each planted fault, for a person."""

from __future__ import annotations

from dataclasses import dataclass, replace

from netsleuth.checks.scan import ScanReport
from netsleuth.inventory import Inventory
from netsleuth.render.output import Output
from netsleuth.trace.result import TraceResult


@dataclass(frozen=True, slots=True)
class DemoTrace:
    command: str
    """The ``netsleuth trace …`` command line that reproduces it."""
    title: str
    result: TraceResult | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DemoReport:
    inventory: Inventory
    scan: ScanReport
    traces: tuple[DemoTrace, ...]


def demo_table(report: DemoReport, out: Output) -> None:
    from rich.rule import Rule
    from rich.text import Text

    from netsleuth.render.findings_table import render_findings, render_next, render_overview
    from netsleuth.render.inventory_table import render_inventory
    from netsleuth.render.trace_table import render_trace

    console = out.console()
    scan = report.scan
    console.print(Rule("The faults netsleuth finds in the demo cluster"))
    render_overview(scan.findings, console)
    console.print(Rule("What was loaded (netsleuth inventory)"))
    render_inventory(report.inventory, console)
    console.print(Rule("Misconfigurations (netsleuth scan)"))
    render_findings(scan.result, scan.findings, console, verbose=out.verbose)
    # A cluster-wide risk the scan lists above (CoreDNS sizing) is said once, attributed to its
    # object there, not repeated under every trace that passes through DNS.
    in_scan = {f.message for f in report.scan.findings}
    for t in report.traces:
        console.print(Rule(Text(t.command + (f"   [{t.title}]" if t.title else ""))))
        if t.result is None:
            console.print(f"could not trace: {t.error}", markup=False)
            continue
        risks = tuple(r for r in t.result.risks if r.summary not in in_scan)
        render_trace(replace(t.result, risks=risks), console)
    console.print(Rule())
    render_next(
        scan.result,
        scan.findings,
        console,
        again="netsleuth demo",
        verbose=out.verbose,
        trace=next((t.command for t in report.traces if t.result is not None), ""),
        more=(
            ("netsleuth scan", "your cluster, through the current kubectl context"),
            (
                "netsleuth scan -f cluster.yaml",
                "a saved `kubectl get -A -o yaml > cluster.yaml`, or manifests",
            ),
        ),
    )
