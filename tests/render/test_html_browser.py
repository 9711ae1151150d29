"""The HTML report in a real browser: Debian's Chromium, headless, driven by Playwright.

One browser for the test session (a fresh profile, no network features).
Screenshots go to ``tests/artifacts/`` (gitignored) for a person to look at.
Locally the tests skip when Playwright or ``/usr/bin/chromium`` is missing;
in CI (``CI`` set) a missing browser is a failure, since .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from netsleuth.checks.base import load_all, run_checks
from netsleuth.model.untrusted import visible
from netsleuth.render.html.compose import trace_request
from netsleuth.render.html.report import ReportInput, TraceRequest, render_report
from netsleuth.sources import load_offline

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
HOSTILE = ROOT / "tests" / "data" / "html" / "hostile.yaml"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs it: see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright)")
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        # Nothing may leave the page: any request but the file itself fails the test.
        requests: list[str] = []
        ctx.on("request", lambda r: requests.append(r.url))
        ctx.requests = requests
        yield ctx
        ctx.close()


def open_report(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """Open ``path``; returns the page, its JS errors and the dialogs it tried to open."""
    page = browser.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def on_dialog(d: Any) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    browser.requests.clear()
    page.goto(path.as_uri())
    page.wait_for_selector("#map[data-state=drawn]", timeout=60_000)
    assert browser.requests == [path.as_uri()]
    return page, errors, dialogs


def wait_until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll ``expression`` with evaluate(): the page's CSP forbids eval, so Playwright's
    wait_for_function (which evals its predicate in the page) is refused — by design."""
    import time

    end = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)


def visible_findings(page: Any) -> int:
    return int(
        page.evaluate(
            "Array.from(document.querySelectorAll('article.finding'))"
            ".filter(e => e.getClientRects().length > 0).length"
        )
    )


def check_report(page: Any, findings: list[Any], nodes: int, groups: int) -> None:
    # the summary: counts by severity as the scan has them
    for sev in ("error", "warning", "info"):
        want = sum(1 for f in findings if str(f.severity) == sev)
        assert page.inner_text(f"#sum-{sev}") == str(want)
    # the map: drawn, with every group and node of the data
    st = page.evaluate("window.netsleuthMap.state()")
    assert (st["groups"], st["nodes"]) == (groups, nodes)
    assert int(page.get_attribute("#map", "data-edges")) > 0
    # every finding is shown
    assert visible_findings(page) == len(findings)
    # (textContent: content-visibility skips rendering findings far below the fold,
    # which innerText leaves out until they are scrolled to)
    text = page.text_content("#findings")
    for f in findings:
        assert f.rule_id in text


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any], Any]:
    model = load_offline([str(DEMO)])
    result = run_checks(model, load_all().values())
    traces = [
        trace_request(model, "payments/payments-api", "payments/fraud-check:8080"),
        trace_request(model, "legacy/billing-cron", "payments/payments-api:8080"),
    ]
    path = tmp_path_factory.mktemp("html") / "demo.html"
    path.write_text(
        render_report(ReportInput(model=model, scan=result, traces=traces, problems=model.problems))
    )
    return path, list(result.findings), model


def test_demo_report(browser: Any, demo_report: tuple[Path, list[Any], Any]) -> None:
    path, findings, _model = demo_report
    page, errors, _ = open_report(browser, path)
    groups = page.evaluate(
        "JSON.parse(document.getElementById('netsleuth-data').textContent).map.groups.length"
    )
    nodes = page.evaluate(
        "JSON.parse(document.getElementById('netsleuth-data').textContent).map.nodes.length"
    )
    check_report(page, findings, nodes, groups)
    assert page.get_attribute("#map", "data-aggregated") == "false"
    # the traces are hop lists, the broken one first open on its broken hop
    assert page.locator("#trace-1 ol.hops > li").count() >= 2
    assert page.locator("#trace-1 .badge.st-broken").first.is_visible()
    shot(page, "demo-report.png")
    # filter: only errors; then one namespace
    page.uncheck("#f-sev-warning")
    page.uncheck("#f-sev-info")
    errors_only = sum(1 for f in findings if str(f.severity) == "error")
    assert visible_findings(page) == errors_only
    assert page.inner_text("#f-count").startswith(f"{errors_only} of {len(findings)}")
    page.check("#f-sev-warning")
    page.check("#f-sev-info")
    page.select_option("#f-ns", "legacy")
    in_legacy = sum(1 for f in findings if f.subject.namespace == "legacy")
    assert 0 < in_legacy < len(findings)
    assert visible_findings(page) == in_legacy
    # search narrows the findings and marks the map
    page.select_option("#f-ns", "")
    page.fill("#f-q", "billing-cron")
    wait_until(page, "document.getElementById('f-count').textContent.includes('on the map')")
    assert "1 on the map" in page.inner_text("#f-count")
    # a copy button copies the command next to it
    button = page.locator("article.finding:not(.is-hidden) .copy").first
    button.click()
    wait_until(
        page,
        "!!document.querySelector('article.finding:not(.is-hidden) .copy[data-copied]')",
    )
    assert not errors, errors
    page.close()


def test_map_click_selects_and_collapses(
    browser: Any, demo_report: tuple[Path, list[Any], Any]
) -> None:
    path, _, _ = demo_report
    page, errors, _ = open_report(browser, path)
    before = page.evaluate("window.netsleuthMap.state().open")
    # click the header of the "payments" box: it collapses, the panel names it
    x, y = page.evaluate("window.netsleuthMap.screenPos('payments')")
    box = page.locator("#map-canvas").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    assert page.evaluate("window.netsleuthMap.state().open") == before - 1
    assert page.locator("#map-panel").is_visible()
    assert "namespace payments" in page.inner_text("#map-panel")
    assert not errors, errors
    page.close()


@pytest.fixture(scope="module")
def large_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any], Any]:
    """A generated 3,000-pod cluster (bench/gen_cluster.py, preset medium): over the
    aggregation threshold, so the map starts with its namespaces collapsed."""
    tmp = tmp_path_factory.mktemp("large")
    cluster = tmp / "cluster.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "gen_cluster.py"),
            "--preset",
            "medium",
            "-o",
            str(cluster),
        ],
        check=True,
        capture_output=True,
    )
    model = load_offline([str(cluster)])
    result = run_checks(model, load_all().values())
    path = tmp / "large.html"
    path.write_text(render_report(ReportInput(model=model, scan=result, problems=model.problems)))
    return path, list(result.findings), model


def test_large_report(browser: Any, large_report: tuple[Path, list[Any], Any]) -> None:
    path, findings, _model = large_report
    page, errors, _ = open_report(browser, path)
    data = page.evaluate("JSON.parse(document.getElementById('netsleuth-data').textContent).map")
    assert data["aggregated"] is True
    check_report(page, findings, len(data["nodes"]), len(data["groups"]))
    assert page.evaluate("window.netsleuthMap.state().open") == 0
    # expand on click: every workload gets laid out
    page.click("#m-expand")
    st = page.evaluate("window.netsleuthMap.state()")
    assert st["open"] == sum(1 for g in data["groups"] if g["end"] > g["start"])
    shot(page, "large-report-expanded.png")
    page.click("#m-collapse")
    ns = sorted({f.subject.namespace for f in findings if f.subject.namespace})[0]
    page.select_option("#f-ns", ns)
    assert page.evaluate("window.netsleuthMap.state().open") == 1
    assert visible_findings(page) == sum(1 for f in findings if f.subject.namespace == ns)
    shot(page, "large-report-namespace.png")
    assert not errors, errors
    page.close()


def _runs(row: list[int]) -> dict[int, int]:
    """A run-length row ``[label, count, …]`` as {column: label} of its non-zero labels."""
    out, pos = {}, 0
    for k in range(0, len(row), 2):
        if row[k]:
            out.update(dict.fromkeys(range(pos, pos + row[k + 1]), row[k]))
        pos += row[k + 1]
    return out


def test_selected_workload_links_to_open_namespaces(
    browser: Any, large_report: tuple[Path, list[Any], Any]
) -> None:
    """Above the threshold, between two open namespaces, a selected workload has arrows to the
    other namespace's header exactly where its workload -> namespace row has ports."""
    path, _, _ = large_report
    page, errors, _ = open_report(browser, path)
    data = page.evaluate("JSON.parse(document.getElementById('netsleuth-data').textContent).map")
    assert data["aggregated"] is True and data["ww"] is None
    groups, nodes = data["groups"], data["nodes"]
    pick = next(
        (i, h)
        for i, row in enumerate(data["w2g"])
        for h in _runs(row)
        if h != nodes[i]["g"] and not groups[h]["ext"] and not groups[nodes[i]["g"]]["ext"]
    )
    i, h = pick
    g = nodes[i]["g"]
    page.evaluate(f"window.netsleuthMap.open({groups[g]['name']!r})")
    page.evaluate(f"window.netsleuthMap.open({groups[h]['name']!r})")
    assert [-(h + 1)] not in [[b] for a, b in page.evaluate(f"window.netsleuthMap.edgesOf({i})")]
    page.evaluate(f"window.netsleuthMap.select({i})")
    ends = page.evaluate(f"window.netsleuthMap.edgesOf({i})")
    opened = {g, h}
    heads = {-(x + 1) for x in opened}
    outgoing = {b for a, b in ends if a == i and b in heads}
    incoming = {a for a, b in ends if b == i and a in heads}
    assert -(h + 1) in outgoing
    # to the open namespaces exactly where the rows have ports
    assert outgoing == {-(x + 1) for x in _runs(data["w2g"][i]) if x in opened and x != g}
    assert incoming == {-(x + 1) for x in _runs(data["g2w"][i]) if x in opened and x != g}
    assert not errors, errors
    page.close()


def test_hostile_names_do_not_execute(browser: Any, tmp_path: Path) -> None:
    """Names, labels and annotations with <script>, quotes, </script> (also inside the script's
    JSON data), <!--, ANSI escapes, U+2028/U+202E and event handlers: the page shows them as
    text, literally, in its HTML, its map panel and its canvas, and runs none of them."""
    model = load_offline([str(HOSTILE)])
    result = run_checks(model, load_all().values())
    assert result.findings
    ns = "evil</script><script>window.__pwned=1</script>"
    req = trace_request(
        model, f"{ns}/web\"'><svg onload=window.__pwned=3>", f"{ns}/svc<script>alert(6)</script>"
    )
    bad = TraceRequest(
        src="<script>alert(8)</script>", dst="\x1b[31m</script>", error="no such <b>thing</b>"
    )
    path = tmp_path / "hostile.html"
    for aggregate_above in (300, 0):
        path.write_text(
            render_report(
                ReportInput(
                    title="<script>window.__pwned=9</script>",
                    model=model,
                    scan=result,
                    traces=[req, bad],
                    problems=model.problems,
                    aggregate_above=aggregate_above,
                )
            )
        )
        page, errors, dialogs = open_report(browser, path)
        # interact with everything that shows cluster text
        page.select_option("#f-ns", ns)
        page.fill("#f-q", "svg")
        wait_until(page, "document.getElementById('f-count').textContent.includes('on the map')")
        page.press("#f-q", "Enter")
        assert "web\"'><svg onload=window.__pwned=3>" in page.inner_text("#map-panel")
        x, y = page.evaluate(f"window.netsleuthMap.screenPos({ns!r})")
        box = page.locator("#map-canvas").bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + y)
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("typeof parent.__pwned") == "undefined"
        assert dialogs == []
        assert page.locator("img, svg, iframe").count() == 0
        # the text is there, literally
        assert ns in page.text_content("#findings")
        assert "\\x1b[31m" in page.text_content("#traces")
        assert page.title() == "<script>window.__pwned=9</script>"
        check_hostile_text_is_literal(page, model, ns)
        assert page.evaluate("window.__pwned") is None
        assert dialogs == []
        shot(page, f"hostile-report-{aggregate_above}.png")
        assert not errors, errors
        page.close()


# The bare pod of hostile.yaml: an ANSI escape, U+2028, U+202E and </script> in its name and label.
SOLO = "\x1b[31mred\u2028pod</script><script>window.__pwned=11</script>"
SOLO_NOTE = "a\u2028b\x1b[31m</script><script>window.__pwned=10</script>\u202egnp.exe"
RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def check_hostile_text_is_literal(page: Any, model: Any, ns: str) -> None:
    """The hostile text reaches the page as text: the same characters in the HTML parts, the
    script's data, the map's panel and its canvas; no markup made of it, no raw control."""
    # only our two script elements were parsed: no </script> in the data ended one
    assert page.locator("script").count() == 2
    # the script's data: </script> and quotes intact, controls made visible exactly as the
    # HTML parts show them (one escaping function, netsleuth.model.untrusted.visible)
    data = page.evaluate("JSON.parse(document.getElementById('netsleuth-data').textContent)")
    names = [n["n"] for n in data["map"]["nodes"]]
    assert visible(SOLO) in names and SOLO not in names
    assert "web\"'><svg onload=window.__pwned=3>" in names
    assert ns in [g["name"] for g in data["map"]["groups"]]
    assert not RAW_CONTROL.search(json.dumps(data, ensure_ascii=False))
    # attributes: quotes and </script> survive as values
    options = page.evaluate(
        "Array.from(document.querySelectorAll('#f-ns option')).map(o => o.value)"
    )
    assert ns in options
    assert page.locator("article.finding").first.get_attribute("data-ns") in ("", ns)
    # the HTML parts show the pod as the terminal does
    assert visible(f"{ns}/{SOLO}") in page.text_content("body")
    # the map's panel: the pod's name and label, literally
    i = names.index(visible(SOLO))
    page.evaluate(f"window.netsleuthMap.select({i})")
    panel = page.text_content("#map-panel")
    assert visible(f"{ns}/{SOLO}") in panel
    assert visible(f"note={SOLO_NOTE}") in panel
    assert not RAW_CONTROL.search(panel)
    # the canvas: record what the map draws on its next frame
    page.evaluate(
        "(() => { window.__drawn = []; const f = CanvasRenderingContext2D.prototype.fillText;"
        " CanvasRenderingContext2D.prototype.fillText = function (t, x, y) {"
        " window.__drawn.push(String(t)); return f.call(this, t, x, y); }; })()"
    )
    page.evaluate(f"window.netsleuthMap.open({ns!r})")
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    drawn: list[str] = page.evaluate("window.__drawn")
    assert drawn and not [t for t in drawn if RAW_CONTROL.search(t)]
    assert any(t.startswith("▾ " + ns[:30]) for t in drawn), drawn
    assert any(t.startswith(visible(SOLO)[:15]) for t in drawn), drawn


def test_connectivity_focus_draws_only_the_neighbourhood(browser: Any, tmp_path: Path) -> None:
    """``connectivity --focus shop/cart -o html``: the map holds shop/cart and the peers it
    may connect to or be reached from, one arrow per listed connection, and says so; with
    namespaces collapsed (aggregated) the focused namespace starts open."""
    from netsleuth.policy.reports import connectivity_report
    from netsleuth.render.html.pages import render_connectivity
    from netsleuth.render.output import Output, RenderContext

    model = load_offline([str(DEMO)])
    report = connectivity_report(model, focus="shop/cart")
    rows = report.connections
    peers = {p.describe() for c in rows for p in (c.src, c.dst)}
    assert len(rows) == 12 and len(peers) == 8  # see test_html_pages: cart talks to 7
    out, buf = Output.buffer(context=RenderContext(model=model))
    render_connectivity(report, out)
    pages = {"expanded": buf.getvalue()}
    pages["aggregated"] = render_report(
        ReportInput(
            title="netsleuth connectivity",
            model=model,
            connections=rows,
            selection="--focus shop/cart",
            focus="shop/cart",
            aggregate_above=0,
        )
    )
    for name, html in pages.items():
        path = tmp_path / f"focus-{name}.html"
        path.write_text(html)
        page, errors, _ = open_report(browser, path)
        st = page.evaluate("window.netsleuthMap.state()")
        assert st["nodes"] == len(peers)
        assert st["groups"] == len({p.namespace or "" for c in rows for p in (c.src, c.dst)})
        assert int(page.get_attribute("#map", "data-edges")) == len(rows)
        assert st["open"] == (1 if name == "aggregated" else st["groups"])
        note = page.locator("#map-selection")
        assert note.is_visible() and "--focus shop/cart" in note.inner_text()
        # the focused workload's panel lists exactly its connections
        data = page.evaluate("JSON.parse(document.getElementById('netsleuth-data').textContent)")
        groups = [g["name"] for g in data["map"]["groups"]]
        names = [f"{groups[n['g']]}/{n['n']}" for n in data["map"]["nodes"]]
        page.evaluate(f"window.netsleuthMap.select({names.index('shop/cart')})")
        panel = page.text_content("#map-panel")  # (inner_text has the CSS capitals)
        outgoing = sum(1 for c in rows if c.src.name == "cart")
        incoming = len(rows) - outgoing
        if name == "expanded":
            assert f"May connect to ({outgoing})" in panel
        assert f"May be reached from ({incoming})" in panel
        shot(page, f"connectivity-focus-{name}.png")
        assert not errors, errors
        page.close()
