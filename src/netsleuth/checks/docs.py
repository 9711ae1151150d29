"""Documentation pages generated from the check registry.

Each check's docstring is its page: the summary line becomes the title,
the fixed sections (What it checks · Why it breaks traffic · Example · Fix ·
Confirm live · References) become headings. ``netsleuth checks --write-docs
DIR`` writes ``DIR/<ID>.md`` for every check plus ``DIR/README.md`` (the
index); a test regenerates them in memory and fails when the committed
pages in ``docs/checks/`` are stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from netsleuth.checks.base import DOC_SECTIONS, Check

INDEX_NAME = "README.md"

# Sections whose body is shell commands, rendered as a code block.
_CODE_SECTIONS = {"Confirm live"}


def _section_markdown(name: str, body: str) -> str:
    if name == "References":
        return "\n".join(
            f"- <{ln.strip()}>" if ln.strip().startswith("http") else ln for ln in body.splitlines()
        )
    if name in _CODE_SECTIONS and body and "```" not in body:
        return f"```sh\n{body}\n```"
    if name == "Example" and body and "```" not in body and "``" not in body:
        # examples are manifests (YAML) or terminal sessions; both keep their line breaks
        first = body.splitlines()[0].lstrip()
        yamlish = first.startswith(("-", "#", "kind:", "apiVersion:")) or re.match(
            r"^[\w.-]+:(\s|$)", first
        )
        return f"```{'yaml' if yamlish else 'text'}\n{body}\n```"
    body = body.replace("``", "`")  # reST literals in docstrings -> Markdown code spans
    return body[:1].upper() + body[1:]


def check_markdown(check: Check) -> str:
    """The Markdown page of one check."""
    lines = [
        f"# {check.id}: {check.summary}",
        "",
        f"- Layer: `{check.layer}`",
        f"- Severity: `{check.severity}`",
        f"- Check: `{check.name}` (`{check.module}`)",
    ]
    needs = check.needs
    if needs.kinds or needs.any_kinds or needs.node_artifacts:
        parts = []
        if needs.kinds:
            parts.append("kinds " + ", ".join(needs.kinds))
        if needs.any_kinds:
            parts.append("any of " + ", ".join(needs.any_kinds))
        if needs.node_artifacts:
            parts.append("node files " + ", ".join(needs.node_artifacts))
        lines.append("- Needs: " + "; ".join(parts))
    if needs.observed == "flows":
        lines.append("- Reads: Hubble flows (`netsleuth flows FILE`); left out without them")
    elif needs.observed == "metrics":
        lines.append(
            "- Reads: Prometheus (`scan --prometheus URL`), signals "
            + ", ".join(f"`{s}`" for s in needs.signals)
            + "; not checked when Prometheus has no series for them"
        )
    elif check.takes_config:
        lines.append("- Takes scan options (`--extra-cidrs`, service CIDR, cluster domain)")
    for name in DOC_SECTIONS:
        body = check.section(name)
        lines += ["", f"## {name}", "", _section_markdown(name, body) if body else "(none)"]
    return "\n".join(lines).rstrip() + "\n"


def index_markdown(checks: Iterable[Check]) -> str:
    lines = [
        "# Checks",
        "",
        "Generated from the check registry by `netsleuth checks --write-docs docs/checks`; do not edit.",
        "",
        "| ID | Layer | Severity | Summary |",
        "| --- | --- | --- | --- |",
    ]
    for c in sorted(checks, key=lambda c: c.id):
        summary = c.summary.replace("|", "\\|")
        lines.append(f"| [{c.id}]({c.id}.md) | {c.layer} | {c.severity} | {summary} |")
    return "\n".join(lines) + "\n"


def docs_pages(checks: Iterable[Check]) -> dict[str, str]:
    """File name -> content for every page and the index."""
    cs = sorted(checks, key=lambda c: c.id)
    pages = {f"{c.id}.md": check_markdown(c) for c in cs}
    pages[INDEX_NAME] = index_markdown(cs)
    return pages


def write_docs(directory: Path, checks: Iterable[Check]) -> list[Path]:
    """Write the pages, removing pages of checks that no longer exist. Returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    pages = docs_pages(checks)
    for old in directory.glob("*.md"):
        if old.name not in pages:
            old.unlink()
    written = []
    for name, text in pages.items():
        path = directory / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written
