"""The corpora copy in tests/data/corpus is complete for what the tests use, and attributed."""

from __future__ import annotations

import re
from pathlib import Path

from corpus.paths import CORPUS

TESTS = Path(__file__).resolve().parents[1]


def test_every_corpus_carries_its_license_source_and_readme() -> None:
    folders = sorted(p for p in CORPUS.iterdir() if p.is_dir())
    assert [p.name for p in folders] == [
        "anp-conformance",
        "cyclonus",
        "k8s-e2e-netpol",
        "network-config-analyzer",
        "np-recipes",
        "popeye-lint",
        "real-manifests",
    ]
    for folder in folders:
        assert (folder / "README.md").is_file(), folder.name
        if folder.name == "real-manifests":
            # Three upstream projects: one LICENSE each; the README holds the source table.
            text = (folder / "README.md").read_text()
            for sub in (p for p in folder.iterdir() if p.is_dir()):
                assert (sub / "LICENSE").is_file(), sub
                assert f"`{sub.name}/`" in text and "commit" in text, sub
        else:
            assert (folder / "LICENSE").is_file(), folder.name
            assert "Repository:" in (folder / "SOURCE.md").read_text(), folder.name


def test_the_nca_subset_holds_every_listed_file() -> None:
    nca = CORPUS / "network-config-analyzer"
    listed = (nca / "COPIED.txt").read_text().split()
    missing = [rel for rel in listed if not (nca / rel).is_file()]
    assert listed and not missing, missing


def test_no_test_reads_the_shared_checkout() -> None:
    """A user's clone has no ../shared: tests read tests/data only."""
    pattern = re.compile(r"""["'/]shared["'/]""")
    offenders = [
        str(p.relative_to(TESTS))
        for p in TESTS.rglob("*.py")
        if p.name != "copy_from_shared.py" and pattern.search(p.read_text())
    ]
    assert not offenders, offenders
