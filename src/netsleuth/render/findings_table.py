"""Scan results for the terminal, grouped by severity, then layer.

Each finding is a heading line (check ID, subject, confidence) and an
indented body (what is wrong, the evidence, the fix and a command to
confirm it), so long messages wrap under their finding instead of inside a
narrow table cell. A summary line and the skipped checks follow: what was
not looked at is shown as clearly as what was found.
"""

from __future__ import annotations

import shlex
import textwrap
from collections.abc import Sequence
from itertools import groupby

from rich.console import Console
from rich.text import Text

from netsleuth.checks.base import ScanResult
from netsleuth.checks.scan import ScanReport
from netsleuth.model.findings import Finding, Severity
from netsleuth.model.untrusted import visible
from netsleuth.render.console import plain, status_style
from netsleuth.render.output import Output

_HEADINGS = {Severity.ERROR: "ERRORS", Severity.WARNING: "WARNINGS", Severity.INFO: "INFO"}


def _body_lines(f: Finding) -> list[tuple[str, str, str]]:
    """(label, label style, text) lines of a finding's body."""
    lines: list[tuple[str, str, str]] = [("", "", f.message)]
    lines += [("evidence: ", "dim", f"{e.object} {e.field} = {e.value}") for e in f.evidence]
    if f.fix is not None:
        lines.append(("fix: ", "bold", f.fix.text))
    lines += [("confirm: ", "dim", f"$ {cmd}") for cmd in f.confirm[:2]]
    return lines


def _print_wrapped(console: Console, indent: int, label: str, style: str, text: str) -> None:
    """Wrap by hand so continuation lines keep the indent and no line carries trailing spaces.

    ``text`` is untrusted (names from the input): shown escaped, never parsed as markup.
    Commands (``confirm:``) are never wrapped: a line break in one would break the paste.
    Words are never split: a long identifier runs past the width rather than being cut.
    """
    text = visible(text)
    if label == "confirm: ":
        line = Text(" " * indent)
        line.append(label, style=style)
        line.append(text)
        console.print(line, soft_wrap=True)
        return
    width = max(20, console.width - indent)
    chunks = textwrap.wrap(
        label + text, width=width, break_long_words=False, break_on_hyphens=False
    ) or [""]
    for i, chunk in enumerate(chunks):
        line = Text(" " * indent)
        if i == 0 and label and chunk.startswith(label):
            line.append(label, style=style)
            line.append(chunk[len(label) :])
        else:
            line.append(chunk)
        console.print(line, soft_wrap=True)


def render_overview(findings: Sequence[Finding], console: Console) -> None:
    """The first screen: how many faults, by layer, the worst layer first."""
    if not findings:
        console.print(plain("No faults found."))
        return
    by_layer: dict[str, list[Finding]] = {}
    for f in findings:
        by_layer.setdefault(str(f.layer), []).append(f)

    def worst(item: tuple[str, list[Finding]]) -> tuple[int, ...]:
        fs = item[1]
        return tuple(-sum(1 for f in fs if f.severity is s) for s in _WORST_FIRST)

    layers = sorted(by_layer.items(), key=lambda item: (worst(item), item[0]))
    console.print(plain(f"{_counts(findings)}. By layer, the worst first:"))
    width = max(len(layer) for layer in by_layer)
    tallies = [_tally(fs) for _, fs in layers]
    twidth = max(len(t) for t in tallies)
    for (layer, fs), tally in zip(layers, tallies, strict=True):
        ids = " ".join(dict.fromkeys(f.rule_id for f in _ordered(fs)))
        line = Text(f"  {layer:<{width}}  ")
        line.append(f"{tally:<{twidth}}", style=status_style(str(_ordered(fs)[0].severity)))
        line.append(f"  {ids}", style="dim")
        console.print(line, soft_wrap=True)
    console.print()


_WORST_FIRST = (Severity.ERROR, Severity.WARNING, Severity.INFO)
_NOUNS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def _ordered(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(
        findings, key=lambda f: (-f.severity.rank, str(f.layer), f.rule_id, f.subject.ref())
    )


def _tally(findings: Sequence[Finding]) -> str:
    parts = []
    for s in _WORST_FIRST:
        n = sum(1 for f in findings if f.severity is s)
        if n:
            noun = _NOUNS[s]
            parts.append(f"{n} {noun}{'s' if n != 1 and s is not Severity.INFO else ''}")
    return ", ".join(parts)


def _counts(findings: Sequence[Finding]) -> str:
    n = len(findings)
    return f"{n} finding{'s' if n != 1 else ''}: {_tally(findings)}"


def render_next(
    result: ScanResult,
    findings: Sequence[Finding],
    console: Console,
    *,
    again: str,
    verbose: bool,
    trace: str = "",
    more: Sequence[tuple[str, str]] = (),
) -> None:
    """What to run next: the worst finding's check, a trace, the skipped checks.

    ``again``: the command that produced this screen, shell-quoted (``-v`` is added to it).
    ``trace``: a ``netsleuth trace`` command line to show (else its usage).
    """
    lines: list[tuple[str, str]] = []
    if findings:
        worst = _ordered(findings)[0]
        lines.append(
            (
                shlex.join(["netsleuth", "checks", worst.rule_id]),
                "the worst finding's check: what it reads, why it breaks traffic",
            )
        )
    lines.append(
        (
            trace or "netsleuth trace NAMESPACE/FROM NAMESPACE/TO --port PORT",
            "follow one connection hop by hop to the object to change",
        )
    )
    if result.skipped and not verbose and again:
        lines.append((f"{again} -v", "every check the input could not run, and why"))
    lines += more
    console.print(plain("What to run next:"))
    for cmd, why in lines:
        console.print(Text(f"  {why}", style="dim"), soft_wrap=True)
        console.print(plain(f"    $ {visible(cmd)}"), soft_wrap=True)


def render_findings(
    result: ScanResult,
    findings: Sequence[Finding],
    console: Console,
    *,
    show_skipped: bool = True,
    verbose: bool = True,
) -> None:
    """Print ``findings`` (already filtered) grouped by severity and layer, then the run summary.

    ``verbose``: list every kind of data the skipped checks lacked (else one line).
    """
    if not findings:
        console.print(plain("No findings."))
    for sev, by_sev in groupby(_ordered(findings), key=lambda f: f.severity):
        items = list(by_sev)
        console.print(Text(f"{_HEADINGS[sev]} ({len(items)})", style=status_style(str(sev))))
        for layer, by_layer in groupby(items, key=lambda f: f.layer):
            group = list(by_layer)
            console.print(Text(f"  {layer} ({len(group)})", style="bold"))
            for f in group:
                head = Text("    ")
                head.append(f.rule_id, style=status_style(str(f.severity)))
                head.append(f"  {visible(f.subject.ref())}")
                head.append(f"  [{f.confidence}]", style="dim")
                if f.origin_file:
                    where = f.origin_file + (f":{f.origin_line}" if f.origin_line else "")
                    head.append(f"  {visible(where)}", style="dim")
                console.print(head, soft_wrap=True)
                for label, style, text in _body_lines(f):
                    _print_wrapped(console, 6, label, style, text)
        console.print()
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    summary = (
        f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: {counts[Severity.ERROR]} error, "
        f"{counts[Severity.WARNING]} warning, {counts[Severity.INFO]} info"
    )
    # No count of checks (run or skipped): it grows with every check added to netsleuth and
    # says nothing about this cluster. What this input lacks is listed once per missing
    # data, not per check (-o json lists every skipped check with its reason).
    if result.errors:
        summary += f"; {len(result.errors)} checks failed"
    if result.inconclusive:
        summary += f"; {len(result.inconclusive)} inconclusive"
    console.print(plain(summary))
    if result.inconclusive:
        console.print(plain("Inconclusive (the input cannot tell):"))
        for i in result.inconclusive:
            console.print(
                plain(f"  {i.rule_id} {visible(i.subject.ref())}: {visible(i.reason)}"),
                overflow="fold",
            )
            for c in i.confirm[:1]:
                console.print(plain(f"    $ {c}"), soft_wrap=True)
    if show_skipped and result.skipped:
        reasons = list(dict.fromkeys(s.reason for s in result.skipped))
        if verbose:
            console.print(plain("Not checked (data absent from the input):"))
            for reason in reasons:
                console.print(plain(f"  {reason}"), overflow="fold")
        else:
            n = len(reasons)
            console.print(
                plain(
                    f"Not checked: {n} kind{'s' if n != 1 else ''} of data absent from the "
                    "input (-v lists them)"
                )
            )
    if show_skipped and result.errors:
        console.print(plain("Failed checks:"))
        for s in result.errors:
            console.print(plain(f"  {s.check_id}: {s.reason}"), overflow="fold")


def render_scan(result: ScanResult, model: object, console: Console) -> None:
    """Print every finding of ``result`` (no filtering) and the summary.

    ``model`` is accepted for callers that render a whole scan (``demo``);
    the findings carry everything the table prints.
    """
    render_findings(result, result.findings, console)


def scan_table(report: ScanReport, out: Output) -> None:
    """``scan -o table``: the overview, the findings, the summary, what to run next."""
    console = out.console()
    render_overview(report.findings, console)
    render_findings(report.result, report.findings, console, verbose=out.verbose)
    if report.problems:
        console.print(
            plain(
                f"{len(report.problems)} input problem(s); see `netsleuth inventory` for details."
            )
        )
    console.print()
    render_next(
        report.result, report.findings, console, again=out.context.command, verbose=out.verbose
    )
