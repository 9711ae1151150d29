"""Where the tests find the reference corpora: the copy in ``tests/data/corpus/``.

Tests never read ``../shared``: a user's clone has none. The copy carries each
corpus's LICENSE, SOURCE.md and README (see ``tests/data/corpus/README.md``).
"""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
