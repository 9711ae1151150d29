"""Every command netsleuth prints is inert when pasted: run them all under bash with stubs.

For every scenario, the demo cluster and the hostile dump (``tests/data/hostile``:
names built to break out of quoting), the ``confirm`` and fix commands of a full
scan and of the scenario's trace are rendered exactly as printed and run by
``bash`` with a ``PATH`` holding only stub programs. Each stub records the
argv it received. The test asserts that

- every line ran exactly the programs of its command, each with exactly the
  argv of the :class:`Command` value (so quoting is lossless and nothing was
  split, globbed or substituted);
- nothing else ran: no unknown program (``command_not_found_handle`` records
  it) and no ``canary`` file was written by a redirection or a builtin.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netsleuth.checks.base import load_all, run_checks
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "scenarios"
HOSTILE = ROOT / "tests" / "data" / "hostile"
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
BASH = shutil.which("bash")

HOSTILE_TRACES = [
    {"src": "checkout/checkout-web", "dst": "pay$(echo >canary)/api`touch canary`", "port": 8080},
    {"src": "checkout/checkout-web", "dst": "api`touch canary`.pay$(echo >canary)", "port": 8080},
]

STUB = """#!{bash}
printf '%s\\0' "${{0##*/}}" "$@" $'\\036' >> "$NETSLEUTH_STUB_LOG"
"""

PRELUDE = """command_not_found_handle() {
  printf 'NOT-FOUND:%s\\0' "$1" $'\\036' >> "$NETSLEUTH_STUB_LOG"
  return 127
}
"""


def _trace_queries(folder: Path) -> list[dict[str, Any]]:
    spec_file = folder / "scenario.yaml"
    if not spec_file.exists():
        return []
    t = (yaml.safe_load(spec_file.read_text()) or {}).get("trace")
    if isinstance(t, dict):
        return [t]
    return [q for q in t or [] if isinstance(q, dict)]


def printed_commands(model: ClusterModel, queries: Iterable[dict[str, Any]]) -> Iterator[Command]:
    """Every command a scan and the given traces print (confirm and fix)."""
    result = run_checks(model, load_all().values())
    for f in result.findings:
        yield from f.confirm
        if f.fix is not None and f.fix.command is not None:
            yield f.fix.command
    for q in queries:
        tr = trace(
            model,
            str(q["src"]),
            str(q["dst"]),
            port=q.get("port"),
            protocol=str(q.get("protocol", "TCP")),
        )
        for hop in tr.hops:
            yield from hop.confirm
            if hop.fix is not None and hop.fix.command is not None:
                yield hop.fix.command


def _cases() -> list[Any]:
    out = [
        pytest.param(p, _trace_queries(p), id=p.name)
        for p in sorted(SCENARIOS.iterdir())
        if (p / "scenario.yaml").exists()
    ]
    out.append(pytest.param(DEMO, [], id="demo"))
    out.append(pytest.param(HOSTILE, HOSTILE_TRACES, id="hostile"))
    return out


def run_under_stubs(commands: list[Command], workdir: Path) -> list[list[list[str]]]:
    """Run each rendered command line in one bash; the argv records of each line, in line order."""
    assert BASH is not None
    stubs = workdir / "bin"
    stubs.mkdir()
    for prog in {p for c in commands for p in c.programs}:
        assert "/" not in prog, prog
        stub = stubs / prog
        stub.write_text(STUB.format(bash=BASH))
        stub.chmod(0o755)
    log = workdir / "log"
    log.write_bytes(b"")
    script = PRELUDE + "".join(
        f"{c.render()}\nprintf '\\035' >> \"$NETSLEUTH_STUB_LOG\"\n" for c in commands
    )
    proc = subprocess.run(
        [BASH, "--norc", "--noprofile", "-s"],
        input=script.encode(),
        cwd=workdir,
        env={"PATH": str(stubs), "NETSLEUTH_STUB_LOG": str(log), "LC_ALL": "C.UTF-8"},
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    lines = log.read_bytes().decode("utf-8").split("\x1d")
    assert lines[-1] == "", "output after the last command"
    out = []
    for line in lines[:-1]:
        records = [r for r in line.split("\x1e\0") if r]
        out.append([r.split("\0")[:-1] for r in records])
    return out


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize(("folder", "queries"), _cases())
def test_printed_commands_run_only_their_stubs(
    folder: Path, queries: list[dict[str, Any]], tmp_path: Path
) -> None:
    model = load_offline([str(folder)])
    commands = list(dict.fromkeys(printed_commands(model, queries)))
    if not commands:
        pytest.skip(f"{folder.name} prints no command")
    got = run_under_stubs(commands, tmp_path)
    assert not (tmp_path / "canary").exists(), "a printed command wrote the canary file"
    assert len(got) == len(commands)
    for c, records in zip(commands, got, strict=True):
        want = sorted([list(c.argv), *(list(s) for s in c.stages)])
        assert sorted(records) == want, f"{c.render()!r} ran {records}"


def test_hostile_dump_puts_payloads_into_commands() -> None:
    """The hostile test above is not vacuous: the payloads do reach printed arguments."""
    model = load_offline([str(HOSTILE)])
    args = [a for c in printed_commands(model, HOSTILE_TRACES) for a in c.argv]
    joined = "\n".join(args)
    for payload in (
        "pay$(echo >canary)",
        "api`touch canary`",
        "echo >canary; echo '",
        "worker-2;echo >canary",
        "reviews$(touch canary)",
        "shop&&echo >canary",
    ):
        assert payload in joined, payload


def test_hostile_names_are_flagged_as_suspicious() -> None:
    model = load_offline([str(HOSTILE)])
    flagged = [p for p in model.problems if "suspicious input" in p.message]
    text = "\n".join(p.message for p in flagged)
    for what in (
        "metadata.namespace 'pay$(echo >canary)' is not a valid DNS-1123 label",
        "metadata.name 'api`touch canary`' is not a valid DNS-1035 label",
        "metadata.name 'worker-2;echo >canary' is not a valid DNS-1123 subdomain",
        "metadata.labels['app'] \"web'; echo >canary; echo '\" value is not a valid label value",
        "metadata.name 'ops\\x1b]8;;http://evil.example\\x07click",
    ):
        assert what in text, what
    # the objects are kept: only flagged
    assert model.service("pay$(echo >canary)", "api`touch canary`") is not None


def test_stub_harness_detects_an_injection(tmp_path: Path) -> None:
    """The harness itself: an unquoted line is caught (canary, unknown program, argv)."""
    if BASH is None:
        pytest.skip("bash is not installed")

    class Raw(Command):
        def render(self) -> str:
            return " ".join(self.argv)

    bad = Raw(("kubectl", "get", "ns", "x;echo", ">canary"))
    got = run_under_stubs([bad], tmp_path)
    assert (tmp_path / "canary").exists()
    assert sorted(got[0]) != [list(bad.argv)]
    env = os.environ.get("PATH")
    assert env is not None  # the test's own PATH is untouched
