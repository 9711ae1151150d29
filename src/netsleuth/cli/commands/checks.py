"""``netsleuth checks``: list the registered checks, show one's page, or write the docs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.cli.common import emit, output_choices, output_option
from netsleuth.errors import QueryError

if TYPE_CHECKING:
    ChecksOutput = str
else:
    ChecksOutput = output_choices("checks")


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
        force: Annotated[
            bool,
            typer.Option(
                "--force",
                help="With --write-docs: write into a non-empty folder that holds other files "
                "(README.md and <ID>.md pages are replaced, nothing else is touched).",
            ),
        ] = False,
        output: Annotated[ChecksOutput, output_option("checks")] = "table",
    ) -> None:
        """List the checks `netsleuth scan` runs (ID, layer, severity, summary), or show one."""
        from netsleuth.checks.base import load_all
        from netsleuth.checks.docs import check_markdown
        from netsleuth.checks.docs import write_docs as write

        registry = load_all()
        if write_docs is not None:
            paths = write(write_docs, registry.values(), force=force)
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
        emit("checks", output, list(registry.values()))
