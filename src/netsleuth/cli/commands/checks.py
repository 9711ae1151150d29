"""``netsleuth checks``: list the registered checks, show one's page, or write the docs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netsleuth.checks.base import load_all
from netsleuth.errors import QueryError
from netsleuth.render.console import stdout_console


def register(app: typer.Typer) -> None:
    @app.command("checks")
    def checks(
        check_id: Annotated[str | None, typer.Argument(help="Show this check's page.")] = None,
        write_docs: Annotated[
            Path | None,
            typer.Option(
                "--write-docs",
                help="Write one Markdown page per check plus an index into this directory.",
            ),
        ] = None,
    ) -> None:
        """List the checks `netsleuth scan` runs (ID, layer, severity, summary), or show one."""
        from netsleuth.checks.docs import check_markdown
        from netsleuth.checks.docs import write_docs as write

        registry = load_all()
        if write_docs is not None:
            paths = write(write_docs, registry.values())
            typer.echo(f"wrote {len(paths)} pages to {write_docs}")
            return
        if check_id is not None:
            check = registry.get(check_id.upper())
            if check is None:
                raise QueryError(
                    f"no check {check_id!r}", tip="`netsleuth checks` lists every check ID."
                )
            typer.echo(check_markdown(check), nl=False)
            return
        from rich.table import Table

        table = Table(show_edge=False, box=None, pad_edge=False)
        for col in ("ID", "Layer", "Severity", "Summary"):
            table.add_column(col, overflow="fold", no_wrap=col != "Summary")
        for c in registry.values():
            table.add_row(c.id, str(c.layer), str(c.severity), c.summary)
        stdout_console().print(table)
