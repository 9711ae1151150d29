"""``conformance`` as a table, JSON (``{"pairs", "agree", "disagree", "findings"}``) and SARIF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from netsleuth import __url__, __version__
from netsleuth.probe.conformance import RULE_ID, ConformanceReport, PairResult
from netsleuth.render.console import plain, styled
from netsleuth.render.findings_json import finding_json
from netsleuth.render.output import Output
from netsleuth.render.sarif import SARIF_SCHEMA, SARIF_VERSION, _result


def _pair_json(r: PairResult) -> dict[str, Any]:
    return {
        "src": r.src,
        "dst": r.dst,
        "dst_ip": r.dst_ip,
        "protocol": r.protocol,
        "port": r.port,
        "predicted": r.predicted,
        "observed": r.observed,
        "observed_detail": r.observed_detail,
        "prediction": list(r.prediction_reasons),
    }


def conformance_document(rep: ConformanceReport, *, all_pairs: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "lab": rep.lab,
        "pairs": rep.pairs,
        "agree": rep.agree,
        "disagree": [_pair_json(r) for r in rep.disagree],
        "findings": [finding_json(f) for f in rep.findings],
        "notes": list(rep.notes),
        "not_probed": list(rep.not_probed),
    }
    if all_pairs:
        doc["results"] = [_pair_json(r) for r in rep.results]
    return doc


def conformance_sarif(rep: ConformanceReport) -> dict[str, Any]:
    rule = {
        "id": RULE_ID,
        "name": "PredictedVersusObserved",
        "shortDescription": {
            "text": "The policy engine's verdict differs from what real packets did."
        },
        "fullDescription": {
            "text": "conformance probes every pod pair and port of a lab; a pair where the "
            "NetworkPolicy engine predicts allowed and the packets were dropped, or the reverse."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["kubernetes", "networking", "conformance"]},
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "netsleuth",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": __url__,
                        "rules": [rule],
                    }
                },
                "invocations": [{"executionSuccessful": True}],
                "results": [_result(f, {RULE_ID: 0}) for f in rep.findings],
            }
        ],
    }


def render_conformance(
    rep: ConformanceReport, console: Console, *, all_pairs: bool = False
) -> None:
    console.print(
        styled(
            ("conformance", "bold"),
            f" lab {rep.lab}: {rep.pairs} probes, {rep.agree} agree, {len(rep.disagree)} disagree",
        )
    )
    for n in rep.notes:
        console.print(plain(f"  note: {n}", "dim"))
    for n in rep.not_probed:
        console.print(plain(f"  not probed: {n}", "dim"))
    rows = rep.results if all_pairs else rep.disagree
    if not rows:
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("Source", "Destination", "Port", "Predicted", "Observed"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            plain(r.src),
            plain(r.dst),
            plain(f"{r.port}/{r.protocol}"),
            plain(r.predicted),
            plain(r.observed, "" if r.agree else "bold red"),
        )
    console.print(table)
    for r in rep.disagree:
        console.print()
        console.print(plain(f"{r.src} → {r.dst} {r.port}/{r.protocol}", "bold"))
        console.print(plain(f"  predicted {r.predicted}:"))
        for line in r.prediction_reasons:
            console.print(plain(f"    {line}"))
        console.print(plain(f"  observed {r.observed}: {r.observed_detail}"))


@dataclass(frozen=True, slots=True)
class ConformanceView:
    """What ``conformance`` renders: the report, and whether agreeing pairs are listed (--all)."""

    report: ConformanceReport
    all_pairs: bool = False


def conf_table(view: ConformanceView, out: Output) -> None:
    render_conformance(view.report, out.console(), all_pairs=view.all_pairs)


def conf_json(view: ConformanceView, out: Output) -> None:
    from netsleuth.render.jsonout import dumps_json

    out.write(dumps_json(conformance_document(view.report, all_pairs=view.all_pairs)))


def conf_sarif(view: ConformanceView, out: Output) -> None:
    from netsleuth.render.jsonout import dumps_json

    out.write(dumps_json(conformance_sarif(view.report)))
