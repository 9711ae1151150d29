"""``netsleuth checks``: the registry as a table or JSON."""

from __future__ import annotations

from collections.abc import Sequence

from netsleuth.checks.base import Check
from netsleuth.render.console import print_table
from netsleuth.render.jsonout import dumps_json
from netsleuth.render.output import Output


def checks_table(checks: Sequence[Check], out: Output) -> None:
    from rich.table import Table

    table = Table(show_edge=False, box=None, pad_edge=False)
    for col in ("ID", "Layer", "Severity", "Summary"):
        table.add_column(col, overflow="fold", no_wrap=col != "Summary")
    for c in checks:
        table.add_row(c.id, str(c.layer), str(c.severity), c.summary)
    print_table(out.console(), table)


def checks_json(checks: Sequence[Check], out: Output) -> None:
    out.write(
        dumps_json(
            [
                {
                    "id": c.id,
                    "layer": str(c.layer),
                    "severity": str(c.severity),
                    "summary": c.summary,
                    "needs": {
                        "kinds": list(c.needs.kinds),
                        "any_kinds": list(c.needs.any_kinds),
                        "node_artifacts": list(c.needs.node_artifacts),
                        "observed": c.needs.observed,
                    },
                }
                for c in checks
            ]
        )
    )
