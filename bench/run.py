"""Run the benchmarks: ``python bench/run.py [NAME ...] [--list] [-- args]``.

Every ``bench/bench_<name>.py`` with a ``main(argv)`` is a benchmark; extra
arguments after the names go to each one (``--size envelope``, ``--preset large``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benches() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def main(argv: list[str]) -> int:
    all_ = benches()
    if "--list" in argv:
        print("\n".join(all_))
        return 0
    names = [a for a in argv if a in all_]
    rest = [a for a in argv if a not in all_]
    for name in names or list(all_):
        spec = importlib.util.spec_from_file_location(f"bench_{name}", all_[name])
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        print(f"== {name}")
        mod.main(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
