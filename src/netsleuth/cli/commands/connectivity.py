"""``netsleuth connectivity``, ``netsleuth diff`` and ``netsleuth exposure``."""

from __future__ import annotations

import csv
import io
from typing import Annotated

import typer

from netsleuth.cli.common import (
    AllNamespacesOpt,
    ContextOpt,
    FileOpt,
    KubeconfigOpt,
    NamespaceOpt,
    input_options,
    load_model,
    problems_json,
)
from netsleuth.cli.errors import EXIT_DIFF_LOST
from netsleuth.errors import QueryError
from netsleuth.model.cluster import ClusterModel
from netsleuth.render.console import OutputFormat, stdout_console
from netsleuth.render.jsonout import dumps_json


def _parse_port(text: str | None) -> tuple[str, int] | None:
    if text is None:
        return None
    proto, _, num = text.partition("/")
    if not num:
        proto, num = "tcp", proto
    if not num.isdigit() or proto.upper() not in ("TCP", "UDP", "SCTP"):
        raise QueryError(f"bad --port {text!r}", tip="Use PROTO/PORT, e.g. tcp/8080.")
    return proto.upper(), int(num)


def _load_side(side: str) -> ClusterModel:
    from netsleuth.sources import load_live, load_offline

    return load_live() if side == "live" else load_offline([side])


def register(app: typer.Typer) -> None:
    @app.command("connectivity")
    def connectivity_cmd(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        focus: Annotated[
            str | None, typer.Option("--focus", help="Only connections of this workload (ns/name).")
        ] = None,
        port: Annotated[
            str | None,
            typer.Option("--port", help="Only connections allowing PROTO/PORT (tcp/8080)."),
        ] = None,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table, json, csv, md or dot.")
        ] = OutputFormat.TABLE,
    ) -> None:
        """Every connection NetworkPolicy allows, at workload level."""
        from netsleuth.policy.connlist import connectivity

        if output not in (
            OutputFormat.TABLE,
            OutputFormat.JSON,
            OutputFormat.CSV,
            OutputFormat.MD,
            OutputFormat.DOT,
        ):
            raise QueryError("connectivity supports -o table, json, csv, md or dot")
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=output != OutputFormat.TABLE,
        )
        model = load_model(opts)
        conns = connectivity(model, focus=focus, port=_parse_port(port))
        if opts.namespace:
            conns = [c for c in conns if opts.namespace in (c.src.namespace, c.dst.namespace)]
        if output == OutputFormat.JSON:
            doc = {
                "connections": [
                    {"src": c.src.json(), "dst": c.dst.json(), "conn": c.conn_json()} for c in conns
                ],
                "problems": problems_json(model.problems),
            }
            typer.echo(dumps_json(doc), nl=False)
        elif output == OutputFormat.CSV:
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["src", "dst", "conn"])
            for c in conns:
                w.writerow([c.src.describe(), c.dst.describe(), c.conn_text()])
            typer.echo(buf.getvalue(), nl=False)
        elif output == OutputFormat.MD:
            lines = ["| src | dst | conn |", "|---|---|---|"]
            lines += [
                f"| {c.src.describe()} | {c.dst.describe()} | {c.conn_text()} |" for c in conns
            ]
            typer.echo("\n".join(lines))
        elif output == OutputFormat.DOT:
            lines = ["digraph connectivity {", '  rankdir="LR";', "  node [shape=box];"]
            lines += [
                f'  "{c.src.describe()}" -> "{c.dst.describe()}" [label="{c.conn_text()}"];'
                for c in conns
            ]
            typer.echo("\n".join([*lines, "}"]))
        else:
            from rich.table import Table

            from netsleuth.render.problems_table import render_problems

            console = stdout_console()
            table = Table(show_edge=False)
            for col in ("src", "dst", "conn"):
                table.add_column(col)
            for c in conns:
                table.add_row(c.src.describe(), c.dst.describe(), c.conn_text())
            console.print(table)
            console.print(f"{len(conns)} allowed connection(s)")
            render_problems(model.problems, console)

    @app.command("diff")
    def diff_cmd(
        before: Annotated[str, typer.Argument(help="A path, or 'live'.")],
        after: Annotated[str, typer.Argument(help="A path, or 'live'.")],
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table, json or md.")
        ] = OutputFormat.TABLE,
    ) -> int:
        """Connections lost, gained and changed between two versions. Exit code 3 when any is lost."""
        from netsleuth.policy.connlist import connectivity, diff

        a, b = _load_side(before), _load_side(after)
        d = diff(connectivity(a), connectivity(b))
        rows = [("lost", c.src.describe(), c.dst.describe(), c.conn_text(), "") for c in d.lost]
        rows += [
            ("gained", c.src.describe(), c.dst.describe(), "", c.conn_text()) for c in d.gained
        ]
        rows += [
            ("changed", x.src.describe(), x.dst.describe(), x.conn_text(), y.conn_text())
            for x, y in d.changed
        ]
        if output == OutputFormat.JSON:
            typer.echo(
                dumps_json(
                    {
                        "lost": [
                            {"src": c.src.json(), "dst": c.dst.json(), "conn": c.conn_json()}
                            for c in d.lost
                        ],
                        "gained": [
                            {"src": c.src.json(), "dst": c.dst.json(), "conn": c.conn_json()}
                            for c in d.gained
                        ],
                        "changed": [
                            {
                                "src": x.src.json(),
                                "dst": x.dst.json(),
                                "before": x.conn_json(),
                                "after": y.conn_json(),
                            }
                            for x, y in d.changed
                        ],
                        "problems": problems_json(a.problems + b.problems),
                    }
                ),
                nl=False,
            )
        elif output == OutputFormat.MD:
            lines = ["| diff | src | dst | before | after |", "|---|---|---|---|---|"]
            typer.echo("\n".join(lines + [f"| {' | '.join(r)} |" for r in rows]))
        else:
            from rich.table import Table

            console = stdout_console()
            table = Table(show_edge=False)
            for col in ("diff", "src", "dst", "before", "after"):
                table.add_column(col)
            for r in rows:
                table.add_row(*r)
            console.print(table)
            console.print(f"{len(d.lost)} lost, {len(d.gained)} gained, {len(d.changed)} changed")
        return EXIT_DIFF_LOST if d.lost else 0

    @app.command("exposure")
    def exposure_cmd(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table or json.")
        ] = OutputFormat.TABLE,
    ) -> None:
        """What can reach each workload from other namespaces and from outside the cluster."""
        from netsleuth.policy.exposure import exposure

        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=output != OutputFormat.TABLE,
        )
        model = load_model(opts)
        rows = [r for r in exposure(model) if opts.namespace in (None, r.namespace)]
        if output == OutputFormat.JSON:
            typer.echo(
                dumps_json(
                    {
                        "workloads": [r.json() for r in rows],
                        "problems": problems_json(model.problems),
                    }
                ),
                nl=False,
            )
            return
        from rich.table import Table

        console = stdout_console()
        table = Table(show_edge=False)
        for col in (
            "workload",
            "from other namespaces",
            "from outside the cluster",
            "ingress protected",
            "egress protected",
        ):
            table.add_column(col)
        for r in rows:
            table.add_row(
                f"{r.namespace}/{r.name}[{r.kind}]",
                r.from_namespaces,
                r.from_outside,
                "yes" if r.ingress_isolated else "NO",
                "yes" if r.egress_isolated else "NO",
            )
        console.print(table)
