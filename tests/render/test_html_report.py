"""The HTML report as text: self-contained, every part present, cluster text escaped."""

from __future__ import annotations

import html
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsleuth.checks.base import load_all, run_checks
from netsleuth.cli import app
from netsleuth.cli.errors import EXIT_USAGE, run_app
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import (
    Confidence,
    Evidence,
    Finding,
    Fix,
    Layer,
    Severity,
    Subject,
    Verdict,
)
from netsleuth.model.untrusted import visible as untrusted_visible
from netsleuth.render.html.compose import trace_request
from netsleuth.render.html.embed import script_json, visible, visible_lines
from netsleuth.render.html.report import ReportInput, render_report
from netsleuth.sources import load_offline
from netsleuth.trace.result import Hop, TraceQuery, TraceResult

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
HOSTILE = ROOT / "tests" / "data" / "html" / "hostile.yaml"
EVIL = "</script><script>window.__pwned=1</script><!-- \u2028\u2029 \x1b[31m"


class _Tags(HTMLParser):
    """Every start tag and attribute name, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs |= {a for a, _ in attrs}


def markup_of(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    return p


def assert_inert(page: str) -> None:
    """Only our two scripts, no event-handler attributes, no injected element."""
    m = markup_of(page)
    assert m.tags.count("script") == 2
    assert not [a for a in m.attrs if a.startswith("on")]
    assert not {"img", "svg", "iframe", "object", "embed", "link", "base"} & set(m.tags)


def data_of(page: str) -> dict[str, object]:
    m = re.search(r'<script type="application/json" id="netsleuth-data">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def test_script_json_cannot_end_the_element_and_round_trips() -> None:
    text = script_json({"name": EVIL, "k": ["<!--", "-->", "&amp;"]})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    # the same text comes back, made visible as the HTML parts show it
    assert json.loads(str(text)) == {"name": visible(EVIL), "k": ["<!--", "-->", "&amp;"]}
    assert visible(EVIL) != EVIL and "</script>" in visible(EVIL)


def test_script_json_makes_every_string_visible_keys_too() -> None:
    value = {"a\x1b": [1, 2, 3], "b": [{"l": {"k\u202e": "v\u2028"}}, "x\ty", 7, None]}
    assert json.loads(str(script_json(value))) == {
        "a\\x1b": [1, 2, 3],
        "b": [{"l": {"k\\u202e": "v\\u2028"}}, "x\\ty", 7, None],
    }


def test_visible_shows_control_and_bidi_characters() -> None:
    # the project's one helper: the page shows what a terminal table shows
    text = "a\x1b[31mb\x07\u202ec\td\r\n\u2028"
    assert visible(text) == untrusted_visible(text) == "a\\x1b[31mb\\x07\\u202ec\\td\\r\\n\\u2028"
    # <pre> blocks (a YAML snippet) keep their line breaks, nothing else
    assert visible_lines(text) == "a\\x1b[31mb\\x07\\u202ec\\td\\r\n\\u2028"
    assert visible(404) == "404"


def hostile_finding() -> Finding:
    return Finding(
        rule_id="SVC201",
        layer=Layer.ENDPOINTS,
        severity=Severity.ERROR,
        confidence=Confidence.INFERRED,
        subject=Subject("Service", EVIL, "svc\"'><img src=x onerror=window.__pwned=2>"),
        message=f"selects {EVIL}",
        evidence=(Evidence(object=EVIL, field="metadata.labels", value=EVIL),),
        confirm=(kubectl("get", "pods", "-n", EVIL),),
        fix=Fix(text=EVIL, command=kubectl("patch", "svc", EVIL)),
    )


def hostile_trace() -> TraceResult:
    return TraceResult(
        query=TraceQuery(
            src=EVIL,
            dst=EVIL,
            port=80,
            protocol="TCP",
            src_resolved=EVIL,
            dst_resolved=EVIL,
            path="pod-to-service",
            notes=(EVIL,),
        ),
        hops=(
            Hop(layer=Layer.DNS, status=Verdict.OK, summary=EVIL),
            Hop(
                layer=Layer.ENDPOINTS,
                status=Verdict.BROKEN,
                summary=EVIL,
                evidence=(Evidence(object=EVIL, field=EVIL, value=EVIL),),
                confirm=(kubectl("get", "pods", "-n", EVIL),),
                fix=Fix(text=EVIL),
                detail=(EVIL,),
            ),
        ),
    )


def test_no_cluster_text_reaches_the_page_unescaped() -> None:
    from netsleuth.render.html.report import TraceRequest

    page = render_report(
        ReportInput(
            findings=[hostile_finding()],
            traces=[TraceRequest(src=EVIL, dst=EVIL, result=hostile_trace())],
            generated="2026-01-01 00:00 UTC",
        )
    )
    # Exactly our two script elements; the hostile text never appears raw.
    assert_inert(page)
    assert "<img" not in page and "<!-- " not in page
    assert "\x1b" not in page and "\u2028" not in page and "\u2029" not in page
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "\\x1b[31m" in page
    # the script's data holds the text as the HTML parts show it (visible, </script> intact)
    assert data_of(page)["findings"] == [
        {
            "id": "SVC201",
            "sev": "error",
            "ns": visible(EVIL),
            "subject": visible(f"Service {EVIL}/svc\"'><img src=x onerror=window.__pwned=2>"),
        }
    ]
    assert visible(EVIL).startswith("</script><script>window.__pwned=1</script><!-- \\u2028")


def test_page_is_self_contained() -> None:
    page = render_report(ReportInput(model=load_offline([str(DEMO)]), generated="x"))
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    policy = html.unescape(csp.group(1))
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    assert "connect-src" not in policy  # falls back to default-src 'none': no fetches
    # No external resource of any kind: nothing loads from a URL.
    assert not re.search(r"""\b(src|href)=["']?(https?:|//)""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_demo_report_holds_every_part() -> None:
    model = load_offline([str(DEMO)])
    result = run_checks(model, load_all().values())
    traces = [
        trace_request(model, "payments/payments-api", "payments/fraud-check:8080"),
        trace_request(model, "legacy/billing-cron", "payments/payments-api:8080"),
        trace_request(model, "shop/storefront", "no-such/thing"),
    ]
    page = render_report(
        ReportInput(model=model, scan=result, traces=traces, problems=model.problems)
    )
    for k in range(len(result.findings)):
        assert f'id="finding-{k}"' in page
    assert page.count('<article class="finding') == len(result.findings)
    for f in result.findings:
        assert f.rule_id in page
    data = data_of(page)
    assert len(data["findings"]) == len(result.findings)  # type: ignore[arg-type]
    mp = data["map"]
    assert isinstance(mp, dict)
    overlays = {o["anchor"]: o for o in mp["overlays"]}
    # the label-drift trace is broken, and drawn from payments-api to the fraud-check workload
    assert overlays["trace-1"]["status"] == "broken"
    names = [n["n"] for n in mp["nodes"]]
    assert [names[i] for i in overlays["trace-1"]["src"]] == ["payments-api"]
    assert [names[i] for i in overlays["trace-1"]["dst"]] == ["fraud-check"]
    assert (
        'id="trace-3"' in page and "Could not trace" in page
    )  # a bad query does not lose the report
    assert 'id="layers"' in page  # faults by layer


def test_report_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = CliRunner().invoke(
        app,
        [
            "report",
            "-f",
            str(DEMO),
            "--trace",
            "legacy/billing-cron",
            "payments/payments-api:8080",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'id="trace-1"' in page
    assert "legacy/billing-cron" in page


def test_report_command_pairs_trace_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["netsleuth", "report", "-f", str(DEMO), "--trace", "legacy/billing-cron"]
    monkeypatch.setattr(sys, "argv", argv)
    assert run_app(app) == EXIT_USAGE
    assert "two values" in capsys.readouterr().err


@pytest.mark.parametrize("aggregate_above", [0, 300])
def test_hostile_cluster_report_escapes(aggregate_above: int) -> None:
    model = load_offline([str(HOSTILE)])
    result = run_checks(model, load_all().values())
    assert [f.rule_id for f in result.findings] == ["SVC201"]
    page = render_report(
        ReportInput(model=model, scan=result, aggregate_above=aggregate_above, generated="x")
    )
    assert_inert(page)
    assert "<svg" not in page and "<iframe" not in page and "<img" not in page
    mp = data_of(page)["map"]
    assert isinstance(mp, dict)
    assert [n["n"] for n in mp["nodes"] if n["k"] == "Deployment"] == [
        "web\"'><svg onload=window.__pwned=3>"
    ]
