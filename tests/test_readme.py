"""The README's tables and samples are generated from the code, so they cannot drift.

Each block between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``
is what :data:`GENERATORS` ``[NAME]`` produces now. When one differs, rerun with
``pytest tests/test_readme.py --update-goldens`` and read the diff.

Every ``netsleuth …`` example whose files are in the repository is also run:
it must exit with a documented code other than 1 (a bug) and 2 (a usage error).
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from netsleuth.cli.exit_codes import markdown_table

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
BLOCK = re.compile(r"(<!-- generated:([\w-]+) -->\n)(.*?)(<!-- /generated:\2 -->)", re.S)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def checks_table() -> str:
    from netsleuth.checks.base import load_all

    rows = ["| ID | Layer | Severity | What it finds |", "|---|---|---|---|"]
    rows += [
        f"| {c.id} | {c.layer} | {c.severity} | {_cell(c.summary)} |" for c in load_all().values()
    ]
    return "\n".join(rows) + "\n"


def formats_table() -> str:
    from netsleuth.render.formats import FORMATS

    rows = ["| command | `-o` | what it writes |", "|---|---|---|"]
    for command in FORMATS.commands():
        for n, name in enumerate(FORMATS.names(command)):
            fmt = FORMATS.get(command, name)
            first = f"`{command}`" if n == 0 else ""
            rows.append(
                f"| {first} | `{name}`{' (default)' if n == 0 else ''} | {_cell(fmt.help)} |"
            )
    return "\n".join(rows) + "\n"


TRACE_ARGS = (
    "checkout/checkout-web",
    "payments/payments-api",
    "--port",
    "8080",
    "-f",
    "tests/scenarios/egress-deny-no-dns",
)


def trace_sample() -> str:
    """The command and the first screen of its output (hops and verdict), 100 columns wide."""
    from netsleuth.render.console import capture_console
    from netsleuth.render.trace_table import render_trace
    from netsleuth.sources.load import load_offline
    from netsleuth.trace import trace

    model = load_offline([str(ROOT / TRACE_ARGS[-1])])
    result = trace(model, TRACE_ARGS[0], TRACE_ARGS[1], port=int(TRACE_ARGS[3]))
    console, buf = capture_console(100)
    render_trace(result, console)
    lines = [line.rstrip() for line in buf.getvalue().split("\n")]
    first_screen = lines[
        : next(i for i, line in enumerate(lines) if line.startswith("Verdict:")) + 1
    ]
    return (
        "```\nnetsleuth trace "
        + " ".join(TRACE_ARGS)
        + "\n```\n\n```\n"
        + "\n".join(first_screen)
        + "\n```\n"
    )


def demo_summary() -> str:
    from netsleuth.inventory import build_inventory
    from netsleuth.sources.load import load_offline

    model = load_offline([str(DEMO)])
    inv = build_inventory(model)
    faults = yaml.safe_load((DEMO / "faults.yaml").read_text())
    pods = len([p for p in model.pods if not p.meta.derived])
    namespaces = sorted({p.namespace for p in model.pods})
    cni = ", ".join(inv.cni) or "no CNI"
    return (
        f"`make demo` (or `netsleuth demo`) loads the bundled cluster in\n"
        f"`src/netsleuth/data/demo/` ({len(model.nodes)} nodes running {cni}, {pods} pods in\n"
        f"{len(namespaces)} namespaces, {len(model.network_policies)} NetworkPolicies, "
        f"{len(model.ingresses)} Ingresses, node files) with {len(faults)} planted\nfaults listed in "
        f"its `faults.yaml`. It opens with the faults found, by layer and the worst first,\n"
        f"prints the inventory, the scan and a trace of each fault that has a path, and ends\n"
        f"with what to run next.\n"
    )


SCAN_ARGS = ("scan", "-f", "tests/scenarios/egress-deny-no-dns")


def scan_sample() -> str:
    """``scan``'s first screen (the overview) and its last lines (summary, what next)."""
    import shlex

    from netsleuth.checks.scan import scan
    from netsleuth.render.findings_table import scan_table
    from netsleuth.render.output import Output, RenderContext
    from netsleuth.sources.load import load_offline

    model = load_offline([SCAN_ARGS[-1]])
    command = shlex.join(["netsleuth", *SCAN_ARGS])
    out, buf = Output.buffer(width=100, context=RenderContext(command=command))
    scan_table(scan(model), out)
    lines = [line.rstrip() for line in buf.getvalue().split("\n")]
    head = lines[: lines.index("") + 1]
    tail = lines[
        next(i for i, ln in enumerate(lines) if " finding" in ln and ":" in ln and i > len(head)) :
    ]
    return (
        "```\n" + command + "\n```\n\n```\n" + "\n".join([*head, "...", *tail]).rstrip() + "\n```\n"
    )


GENERATORS: dict[str, Callable[[], str]] = {
    "exit-codes": markdown_table,
    "checks": checks_table,
    "formats": formats_table,
    "trace-sample": trace_sample,
    "demo-summary": demo_summary,
    "scan-sample": scan_sample,
}


def test_generated_blocks_match(update_goldens: bool) -> None:
    text = README.read_text()
    found = {m.group(2) for m in BLOCK.finditer(text)}
    assert found == set(GENERATORS), f"README blocks {sorted(found)} != {sorted(GENERATORS)}"
    new = BLOCK.sub(lambda m: m.group(1) + GENERATORS[m.group(2)]() + m.group(4), text)
    if update_goldens:
        README.write_text(new)
        return
    for m in BLOCK.finditer(text):
        want = GENERATORS[m.group(2)]()
        assert m.group(3) == want, (
            f"README block {m.group(2)!r} is stale (pytest tests/test_readme.py --update-goldens)"
        )


def test_readme_starts_with_make_demo_and_make_test() -> None:
    lines = README.read_text().split("\n")
    block = lines[lines.index("```") + 1 : lines.index("```", lines.index("```") + 1)]
    assert block[0].startswith("make demo") and block[1].startswith("make test")


def _examples() -> list[list[str]]:
    """``netsleuth …`` lines of the README's code blocks whose input files are here."""
    out = []
    in_code = False
    for line in README.read_text().split("\n"):
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not in_code or not line.startswith("netsleuth "):
            continue
        try:
            argv = shlex.split(line.split(" > ")[0].split(" | ")[0], comments=True)
        except ValueError:  # a continued line: not a whole command
            continue
        files = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-f"]
        if not files or any(not (ROOT / f).exists() for f in files):
            continue  # live cluster, or an illustrative path
        if any("[" in a for a in argv):
            continue  # a synopsis with optional parts
        out.append(argv[1:])
    return out


EXAMPLES = _examples()


@pytest.mark.parametrize("argv", EXAMPLES, ids=[" ".join(a[:3]) for a in EXAMPLES])
def test_readme_examples_run(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from netsleuth.cli import app
    from netsleuth.cli.errors import run_app
    from netsleuth.cli.exit_codes import ExitCode

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["netsleuth", *argv])
    code = run_app(app)
    err = capsys.readouterr().err
    assert code in set(ExitCode) - {ExitCode.INTERNAL, ExitCode.USAGE}, err


def test_there_are_examples_to_run() -> None:
    assert len(EXAMPLES) >= 5
