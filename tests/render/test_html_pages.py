"""``-o html`` on scan, trace, connectivity and diff: the report page holding the command's result.

Expected values follow Kubernetes semantics, checked by hand:

- demo, ``trace payments/payments-api payments/fraud-check -p 8080``: the
  fraud-check Service selects ``app: fraud-check`` while its pods carry
  ``app: fraudcheck`` (label drift), so the trace is broken, drawn on the map
  from the payments-api Deployment to the fraud-check Deployment;
- tests/policy/data/diff: AFTER adds ``db-from-web`` (db admits only web on
  5432/TCP), so outside addresses lose db and web -> db narrows to TCP 5432
  (see tests/policy/test_diff_cli.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from netsleuth.checks.scan import scan
from netsleuth.cli import app
from netsleuth.cli.errors import run_app
from netsleuth.render.formats import FORMATS
from netsleuth.render.html.pages import render_scan
from netsleuth.render.output import Output, RenderContext
from netsleuth.sources import load_offline
from render.test_html_report import assert_inert, data_of

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
HOSTILE = ROOT / "tests" / "data" / "html" / "hostile.yaml"
DIFF = ROOT / "tests" / "policy" / "data" / "diff"


def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
    code = run_app(app)
    out = capsys.readouterr()
    return code, out.out, out.err


def nodes(page: str) -> list[str]:
    mp = data_of(page)["map"]
    assert isinstance(mp, dict)
    return [n["n"] for n in mp["nodes"]]


def sections(page: str) -> list[str]:
    return re.findall(r'<section id="([\w-]+)"', page)


@pytest.mark.parametrize("command", ["scan", "trace", "connectivity", "diff"])
def test_html_is_a_registered_format(command: str) -> None:
    assert "html" in FORMATS.names(command)
    assert FORMATS.get(command, "html").machine  # a document: nothing else on stdout


def test_scan_html(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, page, err = cli(monkeypatch, capsys, "scan", "-f", str(DEMO), "-o", "html")
    assert code == 0, err
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert_inert(page)
    assert sections(page) == ["summary", "map-section", "findings", "problems"]
    assert "<title>netsleuth scan</title>" in page
    assert "netsleuth scan -f" in page  # the command line in the header
    # every finding the JSON output lists is on the page, worst first
    model = load_offline([str(DEMO)])
    report = scan(model)
    assert page.count('<article class="finding') == len(report.findings)
    assert len(data_of(page)["findings"]) == len(report.findings)  # type: ignore[arg-type]
    assert "fraud-check" in nodes(page)


def test_scan_html_follows_select_and_min_severity(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, page, err = cli(
        monkeypatch, capsys, "scan", "-f", str(DEMO), "--select", "SVC", "-o", "html"
    )
    assert code == 0, err
    ids = re.findall(r'<code class="rule">(\w+)</code>', page)
    assert ids and all(i.startswith("SVC") for i in ids)
    code, page, err = cli(
        monkeypatch, capsys, "scan", "-f", str(DEMO), "--min-severity", "error", "-o", "html"
    )
    assert code == 0, err
    sevs = set(re.findall(r'<article class="finding sev-(\w+)"', page))
    assert sevs == {"error"}


def test_trace_html(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["trace", "payments/payments-api", "payments/fraud-check", "-p", "8080"]
    code, page, err = cli(monkeypatch, capsys, *args, "-f", str(DEMO), "-o", "html")
    assert code == 5, err  # broken, as with every other format
    assert_inert(page)
    assert sections(page) == ["summary", "map-section", "traces"]
    assert '<article class="trace st-broken" id="trace-1"' in page
    mp = data_of(page)["map"]
    assert isinstance(mp, dict)
    (ov,) = mp["overlays"]
    names = nodes(page)
    assert ov["status"] == "broken"
    assert [names[i] for i in ov["src"]] == ["payments-api"]
    assert [names[i] for i in ov["dst"]] == ["fraud-check"]


def test_trace_html_reads_bare_names_in_the_namespace(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["trace", "payments-api", "fraud-check", "-p", "8080", "-n", "payments"]
    code, page, err = cli(monkeypatch, capsys, *args, "-f", str(DEMO), "-o", "html")
    assert code == 5, err
    mp = data_of(page)["map"]
    assert isinstance(mp, dict)
    names = nodes(page)
    assert [names[i] for i in mp["overlays"][0]["dst"]] == ["fraud-check"]


def test_connectivity_html(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, page, err = cli(
        monkeypatch, capsys, "connectivity", "-f", str(DEMO), "--focus", "shop/cart", "-o", "html"
    )
    assert code == 0, err
    assert_inert(page)
    assert sections(page) == ["summary", "map-section", "connections"]
    code, csv, _ = cli(
        monkeypatch, capsys, "connectivity", "-f", str(DEMO), "--focus", "shop/cart", "-o", "csv"
    )
    rows = csv.strip().splitlines()[1:]
    assert rows  # cart talks to something
    # the same rows as the CSV output, one table row each
    body = page.split('<section id="connections">', 1)[1].split("</section>", 1)[0]
    assert body.count("<tr data-ns=") == len(rows)
    assert f"Allowed connections ({len(rows)})" in page
    # the map draws exactly those rows: cart and its neighbours, one edge per row
    mp = data_of(page)["map"]
    assert isinstance(mp, dict)
    assert mp["selection"] == "--focus shop/cart" and mp["edgeCount"] == len(rows)
    groups = [g["name"] for g in mp["groups"]]
    drawn = {f"{groups[n['g']]}/{n['n']}" for n in mp["nodes"]}
    listed = {end.split("[", 1)[0] for row in rows for end in row.split(",")[:2]}
    assert drawn == listed and "shop/cart" in drawn
    assert len(drawn) < len(
        nodes(cli(monkeypatch, capsys, "connectivity", "-f", str(DEMO), "-o", "html")[1])
    )
    assert 'id="map-selection"' in page and "<code>--focus shop/cart</code>" in page
    # ww: cart's row reaches every neighbour; a neighbour's row reaches only cart
    cart = [f"{groups[n['g']]}/{n['n']}" for n in mp["nodes"]].index("shop/cart")
    assert [runs(r) for r in mp["ww"]][cart].keys() == set(range(len(drawn))) - {cart}
    others = {k for i, r in enumerate(mp["ww"]) if i != cart for k in runs(r)}
    assert others == {cart}


def runs(row: list[int]) -> dict[int, int]:
    """A run-length row ``[label, count, …]`` as {column: label} of its non-zero labels."""
    out, pos = {}, 0
    for k in range(0, len(row), 2):
        if row[k]:
            out.update(dict.fromkeys(range(pos, pos + row[k + 1]), row[k]))
        pos += row[k + 1]
    return out


def test_connectivity_html_without_focus_draws_the_whole_cluster(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, page, err = cli(monkeypatch, capsys, "connectivity", "-f", str(DEMO), "-o", "html")
    assert code == 0, err
    mp = data_of(page)["map"]
    assert isinstance(mp, dict) and mp["selection"] is None
    assert 'id="map-selection"' not in page
    model = load_offline([str(DEMO)])
    assert {g["name"] for g in mp["groups"]} >= set(model.namespaces)


def test_connectivity_html_focus_on_nothing_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, page, err = cli(
        monkeypatch, capsys, "connectivity", "-f", str(DEMO), "--focus", "no-such", "-o", "html"
    )
    assert code == 0, err
    assert "Nothing matches <code>--focus no-such</code>" in page
    assert data_of(page)["map"]["nodes"] == []  # type: ignore[index]


def test_diff_html(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    before, after = str(DIFF / "before"), str(DIFF / "after")
    code, page, err = cli(monkeypatch, capsys, "diff", before, after, "-o", "html")
    assert code == 3, err  # a connection is lost, as with every other format
    assert_inert(page)
    assert sections(page) == ["summary", "map-section", "diff"]
    assert '<b id="sum-lost">1</b>' in page and '<b id="sum-gained">0</b>' in page
    lost = re.findall(r'<tr class="diff-lost" id="lost-\d+"[^>]*><td>([^<]*)</td><td>([^<]*)', page)
    assert lost == [("0.0.0.0-255.255.255.255[External]", "a/db[Pod]")]
    changed = page.split('<table class="diff changed">', 1)[1].split("</table>", 1)[0]
    assert "a/web[Pod]" in changed and "a/db[Pod]" in changed and "5432" in changed
    assert f"Diff: {before} → {after}" in page
    # the map is the AFTER side, with the lost connection drawn on it
    mp = data_of(page)["map"]
    assert isinstance(mp, dict)
    assert [o["kind"] for o in mp["overlays"]] == ["lost"]


def test_html_without_a_model_has_the_text_parts() -> None:
    """A renderer called with the result only (no cluster) still writes a page, without a map."""
    model = load_offline([str(DEMO)])
    out, buf = Output.buffer(context=RenderContext())
    render_scan(scan(model), out)
    page = buf.getvalue()
    assert "findings" in sections(page) and "map-section" not in sections(page)
    assert data_of(page)["map"] is None


@pytest.mark.parametrize(
    "args",
    [
        ["scan"],
        ["connectivity"],
        ["trace", "10.244.1.20", "10.96.0.30"],  # the hostile pod to its Service
    ],
    ids=["scan", "connectivity", "trace"],
)
def test_hostile_names_stay_inert(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, page, err = cli(monkeypatch, capsys, *args, "-f", str(HOSTILE), "-o", "html")
    assert page.startswith("<!DOCTYPE html>"), err
    assert_inert(page)
    assert "<svg" not in page and "<img" not in page and "\x1b" not in page


@pytest.mark.parametrize(
    "options",
    [
        ["--select", "SVC,DNS"],
        ["--ignore", "POL", "--min-severity", "warning"],
        ["-n", "payments", "--min-severity", "error"],
    ],
    ids=["select", "ignore-min-severity", "namespace"],
)
def test_report_shows_what_scan_shows_with_the_same_options(
    options: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    code, doc, err = cli(monkeypatch, capsys, "scan", "-f", str(DEMO), *options, "-o", "json")
    assert code == 0, err
    want = [f["rule_id"] for f in json.loads(doc)["findings"]]
    assert want  # the demo has findings in each case
    out = tmp_path / "r.html"
    code, _, err = cli(monkeypatch, capsys, "report", "-f", str(DEMO), *options, "-o", str(out))
    assert code == 0, err
    page = out.read_text()
    got = re.findall(r'<code class="rule">(\w+)</code>', page)
    assert sorted(got) == sorted(want)
