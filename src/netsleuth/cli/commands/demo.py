"""``netsleuth demo``: diagnose the bundled example cluster.

It shows what netsleuth does best on a realistic cluster with planted
faults: the inventory, the scan findings, and a trace of each fault listed
in the demo's ``faults.yaml``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
import yaml

from netsleuth.render.console import OutputFormat, stdout_console


def demo_dir() -> Path:
    return Path(str(resources.files("netsleuth") / "data" / "demo"))


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        traces: Annotated[
            bool, typer.Option("--traces/--no-traces", help="Trace each planted fault.")
        ] = True,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table only.")
        ] = OutputFormat.TABLE,
    ) -> None:
        """Diagnose the bundled example cluster (3 nodes, ~40 pods, planted faults)."""
        from rich.rule import Rule

        from netsleuth.inventory import build_inventory
        from netsleuth.render.inventory_table import render_inventory
        from netsleuth.sources import load_offline

        path = demo_dir()
        if not path.is_dir():
            raise typer.BadParameter(f"demo data missing at {path}")
        console = stdout_console()
        model = load_offline([str(path)])
        console.print(Rule("What was loaded (netsleuth inventory)"))
        render_inventory(build_inventory(model), console)

        from netsleuth.checks.base import load_all, run_checks
        from netsleuth.render.findings_table import render_scan

        console.print(Rule("Misconfigurations (netsleuth scan)"))
        result = run_checks(model, load_all().values())
        render_scan(result, model, console)

        faults_file = path / "faults.yaml"
        if traces and faults_file.exists():
            from netsleuth.errors import NetsleuthError
            from netsleuth.render.trace_table import render_trace
            from netsleuth.trace import trace

            faults = yaml.safe_load(faults_file.read_text()) or []
            for fault in faults:
                t = fault.get("trace") if isinstance(fault, dict) else None
                if not isinstance(t, dict) or "src" not in t or "dst" not in t:
                    continue
                title = fault.get("id") or fault.get("title") or ""
                console.print(
                    Rule(
                        f"netsleuth trace {t['src']} {t['dst']}"
                        + (f" --port {t['port']}" if t.get("port") else "")
                        + (f"   [{title}]" if title else "")
                    )
                )
                try:
                    res = trace(
                        model,
                        str(t["src"]),
                        str(t["dst"]),
                        port=t.get("port"),
                        protocol=str(t.get("protocol", "TCP")),
                    )
                except NetsleuthError as exc:
                    console.print(f"could not trace: {exc.message}")
                    continue
                render_trace(res, console)
