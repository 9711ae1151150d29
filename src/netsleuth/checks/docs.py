"""Documentation pages generated from the check registry.

Each check's docstring is its page: the summary line becomes the title,
the fixed sections (What it checks · Why it breaks traffic · Example · Fix ·
Confirm live · References) become headings. ``netsleuth checks --write-docs
DIR`` writes ``DIR/<ID>.md`` for every check plus ``DIR/README.md`` (the
index); a test regenerates them in memory and fails when the committed
pages in ``docs/checks/`` are stale.
"""

from __future__ import annotations

import os
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


_PAGE_NAME = re.compile(r"^([A-Z]{2,6}\d{3})\.md$")
GENERATED_MARK = "Generated from the check registry by `netsleuth checks --write-docs"


def _generated(path: Path) -> bool:
    """Whether ``path`` is a regular file this command wrote (a check page or the index)."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return False
    if path.name == INDEX_NAME:
        return GENERATED_MARK in head
    m = _PAGE_NAME.match(path.name)
    return m is not None and head.startswith(f"# {m.group(1)}: ")


def write_docs(directory: Path, checks: Iterable[Check], *, force: bool = False) -> list[Path]:
    """Write the pages, removing pages of checks that no longer exist. Returns the paths written.

    Only files this command generates are written or removed: a non-empty folder
    that is not a ``--write-docs`` folder (no generated index) is refused unless
    ``force`` (it deleted every other ``*.md`` and overwrote README.md), other
    files there are never removed, and pages are written to a temporary file
    then renamed over the name, so a symlink planted in the folder is replaced,
    never written through.
    """
    from netsleuth.errors import QueryError

    if directory.exists() and not directory.is_dir():
        raise QueryError(f"--write-docs {directory}: not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    entries = sorted(directory.iterdir())
    ours = _generated(directory / INDEX_NAME)
    if entries and not ours and not force:
        raise QueryError(
            f"--write-docs {directory}: the folder holds {len(entries)} entries and is not a "
            "folder of check pages (no generated README.md): nothing written",
            tip="Give an empty or new folder, or add --force to write the pages there "
            "(README.md and <CHECK ID>.md pages are replaced; other files are left alone).",
        )
    pages = docs_pages(checks)
    for old in entries:
        if old.name not in pages and _PAGE_NAME.match(old.name) and _generated(old):
            old.unlink()
    written = []
    for name, text in pages.items():
        path = directory / name
        if path.is_dir() and not path.is_symlink():
            raise QueryError(f"--write-docs: {path} is a directory: not replaced")
        if _generated(path) and path.read_text(encoding="utf-8") == text:
            written.append(path)
            continue
        tmp = directory / f".{name}.tmp"
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)  # replaces a symlink itself, never its target
        written.append(path)
    return written
