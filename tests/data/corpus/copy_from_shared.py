"""Refresh ``tests/data/corpus/`` from the shared corpus checkout (a maintainer's tool).

The tests read only this copy, never ``../shared``, so that ``make test`` passes
from a user's clone. Each corpus folder is copied whole, with its ``LICENSE``,
``SOURCE.md`` and ``README.md``, except ``network-config-analyzer``: of its
7 MB, the tests read 2.3 MB, so only the files listed in
``network-config-analyzer/COPIED.txt`` are copied (the files the NCA tests open,
the whole of every directory they list, and the corpus's docs). A new NCA test
that reads another file adds it to that list and reruns this script.

Usage: ``python tests/data/corpus/copy_from_shared.py [SHARED_CORPUS_DIR]``
(default ``../shared/corpus`` beside the repository).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHOLE = (
    "anp-conformance",
    "cyclonus",
    "k8s-e2e-netpol",
    "np-recipes",
    "popeye-lint",
    "real-manifests",
)
LISTED = {"network-config-analyzer": "COPIED.txt"}
ALWAYS = ("LICENSE", "SOURCE.md", "README.md")


def copy(shared: Path) -> None:
    for name in WHOLE:
        dst = HERE / name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(shared / name, dst)
    for name, listing in LISTED.items():
        dst = HERE / name
        keep = (dst / listing).read_text()
        if dst.exists():
            shutil.rmtree(dst)
        dst.mkdir()
        (dst / listing).write_text(keep)
        for rel in [*ALWAYS, *keep.split()]:
            if (shared / name / rel).is_file():
                (dst / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(shared / name / rel, dst / rel)


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[3] / ".." / "shared" / "corpus"
    copy(src.resolve())
