"""Shared fixtures: repository paths, the reference corpora (tests/data/corpus), golden files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from corpus.paths import CORPUS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "scenarios"
GOLDEN = ROOT / "tests" / "golden"

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Rewrite golden files from the current output instead of comparing.",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture
def corpus_dir() -> Path:
    """The reference corpora copied into ``tests/data/corpus/`` (never ``../shared``)."""
    return CORPUS


@pytest.fixture
def golden(update_goldens: bool):  # type: ignore[no-untyped-def]
    """``golden(relpath, text)``: compare ``text`` to ``tests/golden/<relpath>`` (or rewrite it)."""

    def check(relpath: str, text: str) -> None:
        path = GOLDEN / relpath
        if update_goldens or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            if not update_goldens:
                pytest.fail(f"golden {relpath} did not exist; written now, review and commit it")
            return
        expected = path.read_text()
        assert text == expected, (
            f"output differs from golden {relpath} (run pytest --update-goldens to accept)"
        )

    return check


def scenario_path(name: str) -> Path:
    return SCENARIOS / name


# Modules whose costly module/session fixtures (a wheel built into a fresh venv, a
# Prometheus server, Chromium) must be set up once: `make test` (--dist loadgroup)
# sends each of them whole to one worker. xdist's own `xdist_group` mark does not
# reach the scheduler under pytest 9 (it renames item._nodeid, which pytest 9 no
# longer reads), so the scheduler below groups by module path as well as by mark.
ONE_WORKER_MODULES = (
    "tests/test_packaging.py",
    "tests/prometheus/test_prometheus_live.py",
    "tests/render/test_html_browser.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ModuleGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if module in ONE_WORKER_MODULES:
                return module
            return super()._split_scope(nodeid)

    return ModuleGroups(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root and network namespaces (runs in CI as root)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sarif_validator():  # type: ignore[no-untyped-def]
    """The official SARIF 2.1.0 schema (see tests/checks/data/README.md) as a validator."""
    import json

    import jsonschema

    schema = json.loads(
        (ROOT / "tests" / "checks" / "data" / "sarif-2.1.0.schema.json").read_text()
    )
    return jsonschema.Draft202012Validator(schema)
