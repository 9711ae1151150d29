"""``netsleuth demo``: diagnose the bundled example cluster.

It shows what netsleuth does best on a realistic cluster with planted
faults: the inventory, the scan findings, and a trace of each fault listed
in the demo's ``faults.yaml``.
"""

from __future__ import annotations

import shlex
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from netsleuth.cli.common import emit, output_choices, output_option

if TYPE_CHECKING:
    from netsleuth.model.cluster import ClusterModel
    from netsleuth.render.demo_table import DemoTrace

    DemoOutput = str
else:
    DemoOutput = output_choices("demo")


def demo_dir() -> Path:
    return Path(str(resources.files("netsleuth") / "data" / "demo"))


def demo_faults(path: Path) -> list[dict[str, Any]]:
    """The planted faults of the demo (``faults.yaml``)."""
    import yaml

    faults_file = path / "faults.yaml"
    if not faults_file.exists():
        return []
    faults = yaml.safe_load(faults_file.read_text()) or []
    return [f for f in faults if isinstance(f, dict)]


def demo_traces(model: ClusterModel, faults: list[dict[str, Any]]) -> tuple[DemoTrace, ...]:
    from netsleuth.errors import NetsleuthError
    from netsleuth.render.demo_table import DemoTrace
    from netsleuth.trace import trace

    out = []
    for fault in faults:
        t = fault.get("trace")
        if not isinstance(t, dict) or "src" not in t or "dst" not in t:
            continue
        argv = ["netsleuth", "trace", str(t["src"]), str(t["dst"])]
        if t.get("port"):
            argv += ["--port", str(t["port"])]
        title = str(fault.get("id") or fault.get("title") or "")
        try:
            res = trace(
                model,
                str(t["src"]),
                str(t["dst"]),
                port=t.get("port"),
                protocol=str(t.get("protocol", "TCP")),
            )
        except NetsleuthError as exc:
            out.append(DemoTrace(shlex.join(argv), title, None, exc.message))
            continue
        out.append(DemoTrace(shlex.join(argv), title, res))
    return tuple(out)


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        traces: Annotated[
            bool, typer.Option("--traces/--no-traces", help="Trace each planted fault.")
        ] = True,
        verbose: Annotated[
            bool, typer.Option("-v", "--verbose", help="List every skipped check.")
        ] = False,
        output: Annotated[DemoOutput, output_option("demo")] = "table",
    ) -> None:
        """Diagnose the bundled example cluster (3 nodes, ~40 pods, planted faults)."""
        from netsleuth.checks.scan import scan
        from netsleuth.errors import SourceError
        from netsleuth.inventory import build_inventory
        from netsleuth.render.demo_table import DemoReport
        from netsleuth.sources import load_offline

        path = demo_dir()
        if not path.is_dir():
            raise SourceError(f"demo data missing at {path}", tip="reinstall netsleuth")
        model = load_offline([str(path)])
        report = DemoReport(
            inventory=build_inventory(model),
            scan=scan(model),
            traces=demo_traces(model, demo_faults(path)) if traces else (),
        )
        emit("demo", output, report, verbose=verbose)
