"""``netsleuth diff -o sarif``: one SARIF 2.1.0 result per lost connection.

The rule is ``DIFF001`` (connection lost). A result points at the policy
whose change removed the connection when the AFTER side came from files
(the first changed policy selecting one of the connection's ends, at its
file and line), otherwise at a logical location ``src -> dst``. The
message carries the reference evaluator's explanation.
"""

from __future__ import annotations

from netsleuth import __url__, __version__
from netsleuth.policy.diff import DiffReport, Explained
from netsleuth.render.jsonout import dumps_json
from netsleuth.render.output import Output
from netsleuth.render.sarif import SARIF_SCHEMA

RULE_ID = "DIFF001"


def _location(e: Explained) -> dict[str, object]:
    for c in e.changes:
        if c.origin.file and not c.origin.live:
            region = {"startLine": c.origin.line} if c.origin.line else {}
            phys: dict[str, object] = {"artifactLocation": {"uri": c.origin.file}}
            if region:
                phys["region"] = region
            return {
                "physicalLocation": phys,
                "logicalLocations": [
                    {
                        "name": c.name,
                        "fullyQualifiedName": f"NetworkPolicy/{c.namespace}/{c.name}",
                        "kind": "resource",
                    }
                ],
            }
    return {
        "logicalLocations": [
            {
                "name": f"{e.before.src.describe()} -> {e.before.dst.describe()}",
                "kind": "connection",
            }
        ]
    }


def render_sarif(report: DiffReport) -> str:
    results = []
    for e in report.lost:
        proto, port = e.probe
        text = (
            f"Connection lost: {e.before.src.describe()} -> {e.before.dst.describe()} "
            f"({e.before.conn_text()} before; {proto}/{port} now denied)."
        )
        if e.why:
            text += " " + " ".join(line.strip() for line in e.why)
        results.append(
            {
                "ruleId": RULE_ID,
                "level": "error",
                "message": {"text": text},
                "locations": [_location(e)],
                "properties": {
                    "src": e.before.src.json(),
                    "dst": e.before.dst.json(),
                    "before": e.before.conn_json(),
                },
            }
        )
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "netsleuth",
                        "version": __version__,
                        "informationUri": __url__,
                        "rules": [
                            {
                                "id": RULE_ID,
                                "name": "ConnectionLost",
                                "shortDescription": {
                                    "text": "A connection allowed before is denied after the change"
                                },
                                "fullDescription": {
                                    "text": "netsleuth diff found a workload connection that the "
                                    "BEFORE version of the policies allowed and the AFTER version denies."
                                },
                                "defaultConfiguration": {"level": "error"},
                            }
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return dumps_json(doc)


def diff_sarif(report: DiffReport, out: Output) -> None:
    out.write(render_sarif(report))
