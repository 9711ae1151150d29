"""docs/checks is generated from the registry; this fails when it is stale.

Regenerate with ``netsleuth checks --write-docs docs/checks``.
"""

from __future__ import annotations

from pathlib import Path

from netsleuth.checks.base import load_all
from netsleuth.checks.docs import docs_pages

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks"


def test_docs_are_up_to_date() -> None:
    pages = docs_pages(load_all().values())
    on_disk = {p.name: p.read_text() for p in DOCS.glob("*.md")} if DOCS.is_dir() else {}
    stale = sorted(name for name, text in pages.items() if on_disk.get(name) != text)
    extra = sorted(set(on_disk) - set(pages))
    assert not stale and not extra, (
        f"docs/checks is stale (changed: {stale[:10]}, removed checks: {extra}); "
        "run `netsleuth checks --write-docs docs/checks`"
    )
