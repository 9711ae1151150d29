"""``netsleuth explain``: goldens over ``tests/policy/data/shop.yaml`` and CLI behaviour.

The expected verdicts were worked out by hand from the manifests (see the
comment on each case) before the goldens were written; the goldens pin the
wording.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from netsleuth.errors import QueryError
from netsleuth.model.ports import parse_port
from netsleuth.policy.explain import ExplainReport, build_report
from netsleuth.render.console import capture_console
from netsleuth.render.explain_json import explain_document
from netsleuth.render.explain_table import render_explain
from netsleuth.sources.load import load_offline

DATA = Path(__file__).resolve().parent / "data" / "shop.yaml"

# (golden name, src, dst, --port, expected overall verdict)
CASES = [
    # frontend egress: rule #2 allows pod app=db on named port pg; db ingress rule #1 allows frontend.
    ("frontend-to-db-service", "shop/frontend", "shop/db", "tcp/5432", True),
    # quarantine is denied by the ANP before NetworkPolicy is consulted.
    ("quarantine-to-frontend", "quarantine/suspect", "deployment/shop/frontend", "tcp/http", False),
    # ops -> db: the ANP passes, db-ingress isolates db and rule #2 allows prometheus only on 9187.
    ("prometheus-to-db-5432", "ops/prometheus-0", "shop/db-0", "5432/tcp", False),
    # DNS egress is allowed to the derived kube-dns (the input has none).
    ("frontend-dns", "shop/frontend", "kube-system/kube-dns", "udp/53", True),
    # An external client reaches frontend on http (rule without from) but not db.
    ("external-to-frontend", "external", "shop/frontend", "tcp/8080", True),
    # Every port: frontend -> db allows TCP 5432 only.
    ("frontend-to-db-all-ports", "shop/frontend", "shop/db-0", None, True),
    # Every port: db's egress is default-deny except DNS and app=db; BANP denies shop -> ops.
    ("db-to-prometheus-all-ports", "shop/db-0", "ops/prometheus-0", None, False),
]


def report(src: str, dst: str, port: str | None) -> ExplainReport:
    return build_report(
        load_offline([str(DATA)]), src, dst, port=parse_port(port) if port else None
    )


@pytest.mark.parametrize(
    ("name", "src", "dst", "port", "allowed"), CASES, ids=[c[0] for c in CASES]
)
def test_explain_goldens(
    name: str,
    src: str,
    dst: str,
    port: str | None,
    allowed: bool,
    golden: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A relative path: the rendered text (and its wrapping) must not depend on the checkout path.
    monkeypatch.chdir(DATA.parent)
    model = load_offline([DATA.name])
    rep = build_report(model, src, dst, port=parse_port(port) if port else None)
    assert rep.allowed is allowed
    console, buf = capture_console(120)
    render_explain(rep, console, model.problems)
    golden(f"explain/{name}.txt", buf.getvalue())


def test_explain_json_document() -> None:
    rep = report("ops/prometheus-0", "shop/db-0", "tcp/5432")
    doc = orjson.loads(orjson.dumps(explain_document(rep, [])))
    assert doc["mode"] == "port" and doc["allowed"] is False
    assert doc["src"] == {
        "kind": "pod",
        "namespace": "ops",
        "name": "prometheus-0",
        "ips": ["10.244.2.30"],
        "host_network": False,
        "derived": False,
    }
    ing = doc["ingress"]
    assert ing["isolated"] and ing["decided_by"] == "NetworkPolicy"
    assert ing["admin"]["action"] == "Pass" and ing["admin"]["rule"]["rule_name"] == "pass-ops"
    assert any("port 5432/TCP is not 9187/TCP" in m["reason"] for m in ing["misses"])
    all_ports = explain_document(report("shop/frontend", "shop/db-0", None), [])
    assert all_ports["combined"] == {"TCP": ["5432"], "UDP": [], "SCTP": []}


def test_unknown_names_raise_query_error_with_close_matches() -> None:
    with pytest.raises(QueryError) as exc:
        report("shop/frontnd", "shop/db", None)
    assert exc.value.tip is not None and "shop/frontend" in exc.value.tip
    with pytest.raises(QueryError):
        report("shop/frontend", "shop/db-0", "tcp/nosuchport")


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    from netsleuth.cli import app
    from netsleuth.cli.errors import run_app

    monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
    return run_app(app)


def test_cli_exit_codes_and_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(
        ["explain", "shop/frontend", "shop/db", "-p", "tcp/5432", "-f", str(DATA), "-o", "json"],
        monkeypatch,
    )
    out = capsys.readouterr()
    assert code == 0
    doc = orjson.loads(out.out)
    assert doc["allowed"] is True and doc["problems"] and doc["problems"][0]["level"] == "warning"
    code = run_cli(["explain", "shop/nope", "shop/db", "-f", str(DATA)], monkeypatch)
    err = capsys.readouterr().err
    assert code == 2 and "Tip:" in err
