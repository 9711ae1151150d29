"""Names from the input are printed as text by every command and format.

The hostile dump (``tests/data/hostile``) has a Deployment named
``[/]web[link=http://evil.example]x`` (rich markup: ``[/]`` crashed inventory,
connectivity and exposure, ``[link=…]`` planted a hyperlink), a namespace
holding an OSC 8 hyperlink and ``ESC[2J`` (clear screen), a Deployment
``=HYPERLINK(…)`` (a spreadsheet formula) and one named ``a|b`` + newline + ``c``
(a Markdown cell and row break).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from netsleuth.cli import app
from netsleuth.model.untrusted import is_visible_char
from netsleuth.render.cells import csv_cell, md_cell, md_row
from netsleuth.render.console import capture_console, plain

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = str(ROOT / "tests" / "data" / "hostile")
LABEL_DRIFT = str(ROOT / "tests" / "scenarios" / "label-drift")
MARKUP = "[/]web[link=http://evil.example]x"
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def assert_inert(out: str) -> None:
    bad = {ch for ch in out if ch not in "\n" and not is_visible_char(ch)}
    # box drawing and marks are visible characters; only controls/format chars are refused
    assert not bad, f"invisible characters reached the output: {sorted(map(hex, map(ord, bad)))}"


@pytest.mark.parametrize(
    "args",
    [
        ["inventory"],
        ["scan"],
        ["connectivity"],
        ["exposure"],
        [
            "trace",
            "checkout/checkout-web",
            "pay$(echo >canary)/api`touch canary`",
            "--port",
            "8080",
        ],
    ],
    ids=["inventory", "scan", "connectivity", "exposure", "trace"],
)
def test_tables_print_hostile_names_as_text(args: list[str]) -> None:
    code, out = run(*args, "-f", HOSTILE)
    assert code in (0, 5), out
    assert_inert(out)
    # the OSC 8 hyperlink and clear-screen are shown, escaped
    if args[0] in ("inventory", "connectivity", "exposure"):
        assert "ops\\x1b]8;;http://evil.example\\x07click" in out
    if args[0] in ("connectivity", "exposure"):
        assert MARKUP in out.replace("\n", "") or "[/]web" in out


def test_problems_name_the_hostile_objects_escaped() -> None:
    code, out = run("inventory", "-f", HOSTILE)
    assert code == 0
    assert "Deployment/checkout/[/]web[link=http://evil.example]x: suspicious input" in out
    assert "a|b\\nc" in out


def test_diff_table_and_markdown() -> None:
    code, out = run("diff", LABEL_DRIFT, HOSTILE)
    assert code == 3
    assert_inert(out)
    code, md = run("diff", LABEL_DRIFT, HOSTILE, "-o", "md")
    assert code == 3
    assert_inert(md)
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    # every row has exactly 5 cells: no name added a cell or a row
    for row in rows:
        unescaped = row.replace("\\|", "")
        assert unescaped.count("|") == 6, row


def test_connectivity_csv_has_no_formula_and_md_no_extra_cells() -> None:
    code, out = run("connectivity", "-f", HOSTILE, "-o", "csv")
    assert code == 0
    assert_inert(out)
    cells = [c for row in csv.reader(io.StringIO(out)) for c in row]
    assert any("HYPERLINK" in c for c in cells)
    for c in cells:
        assert not c.startswith(("=", "+", "@")), c
        assert not (c.startswith("-") and c != "-"), c
    code, md = run("connectivity", "-f", HOSTILE, "-o", "md")
    assert code == 0
    assert_inert(md)
    for row in md.splitlines()[2:]:
        assert row.replace("\\|", "").count("|") == 4, row
    code, dot = run("connectivity", "-f", HOSTILE, "-o", "dot")
    assert code == 0
    assert_inert(dot)


def test_plain_is_not_markup() -> None:
    console, buf = capture_console(80)
    console.print(plain("[bold]x[/bold] [/] :smile: \x1b[31m"))
    assert buf.getvalue() == "[bold]x[/bold] [/] :smile: \\x1b[31m\n"
    # a plain str on the capture console is not parsed either
    console.print("[/] [link=http://x]y[/link]")
    assert "[/] [link=http://x]y[/link]" in buf.getvalue()


@given(st.text())
def test_any_text_prints_as_one_inert_line(text: str) -> None:
    console, buf = capture_console(400)
    console.print(plain(text), soft_wrap=True)
    out = buf.getvalue()
    assert out.endswith("\n") and out.count("\n") == 1
    assert_inert(out)


@given(st.text())
def test_csv_and_md_cells_are_neutral(text: str) -> None:
    c = csv_cell(text)
    assert not c.startswith(("=", "@", "\t", "\r")) and c.count("\n") == 0
    if c.startswith(("+", "-")):
        assert c in ("+", "-")
    m = md_cell(text)
    assert "\n" not in m and m.replace("\\\\", "").replace("\\|", "").count("|") == 0
    assert md_row(text, text).replace("\\\\", "").replace("\\|", "").count("|") == 3
