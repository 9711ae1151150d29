"""Untrusted files are read within bounds: size, file type, nesting, YAML aliases.

Before: a 621-byte YAML alias tree took 2.4 GB (SIGSEGV under a 4 GB limit),
a ``*.yaml`` symlink to ``/dev/zero`` read until MemoryError, a FIFO in a folder
hung the load, nothing capped the size of a file, lists nested 1,000 deep
raised ``RecursionError`` (a traceback, exit 1) and an unreadable folder was
dropped without a word.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netsleuth.cli import app
from netsleuth.cli.errors import EXIT_OK, EXIT_USAGE, run_app
from netsleuth.model.problems import Level, LoadProblem
from netsleuth.sources import bounded
from netsleuth.sources.base import RawObject
from netsleuth.sources.load import load_offline
from netsleuth.sources.manifests import iter_json_documents, iter_yaml_documents

Cli = Callable[..., tuple[int, str, str]]

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"


def billion_laughs(levels: int = 9) -> str:
    """A ConfigMap whose aliases expand to 9**levels strings (387 million for 9)."""
    lines = ['  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghijk"[: levels - 1]:
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\n  namespace: shop\n"
        "  labels: {app: lol}\ndata:\n" + "\n".join(lines) + "\n"
    )


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
        code = run_app(app)
        got = capsys.readouterr()
        return code, got.out, got.err

    return run


def test_alias_bomb_is_refused_and_the_other_documents_kept() -> None:
    text = billion_laughs() + "---\n" + NS
    out = list(iter_yaml_documents(text, "bomb.yaml"))
    problems = [x for x in out if isinstance(x, LoadProblem)]
    objects = [x for x in out if isinstance(x, RawObject)]
    assert [o.data["kind"] for o in objects] == ["Namespace"]
    [problem] = problems
    assert "alias" in problem.message and problem.origin.document == 0
    assert problem.origin.file == "bomb.yaml" and problem.skipped == "document"


def test_yaml_anchors_of_ordinary_size_still_load() -> None:
    """Merge keys and shared anchors (Helm output has them) are not bombs."""
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\n"
        "  labels: &l {app: web, tier: front}\n  annotations:\n    <<: *l\n    x: y\n"
        "data:\n  a: &v some-value\n  b: *v\n"
    )
    [obj] = list(iter_yaml_documents(text, "anchors.yaml"))
    assert isinstance(obj, RawObject)
    assert obj.data["metadata"]["annotations"] == {"app": "web", "tier": "front", "x": "y"}


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_nesting_is_a_problem_not_a_traceback(depth: int) -> None:
    nested = "[" * depth + "]" * depth
    doc = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    out = list(iter_json_documents(nested + "\n" + doc + "\n", "deep.json"))
    kinds = [x.data["kind"] for x in out if isinstance(x, RawObject)]
    problems = [x for x in out if isinstance(x, LoadProblem)]
    assert kinds == ["Namespace"]
    assert problems and "nested too deeply" in problems[0].message
    out = list(iter_yaml_documents(nested + "\n---\n" + NS, "deep.yaml"))
    assert [x.data["kind"] for x in out if isinstance(x, RawObject)] == ["Namespace"]
    assert any(isinstance(x, LoadProblem) and x.origin.document == 0 for x in out)


def test_fifo_and_device_links_in_a_folder_are_skipped_with_a_problem(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text(NS)
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "null.json").symlink_to("/dev/null")
    model = load_offline([str(tmp_path)])
    assert list(model.namespaces) == ["shop"]
    said = {Path(p.origin.file).name: p.message for p in model.problems}
    assert set(said) == {"pipe.yaml", "zero.yaml", "null.json"}
    assert "FIFO" in said["pipe.yaml"]
    assert "character device" in said["zero.yaml"] and "symlink" in said["zero.yaml"]
    assert all(p.skipped == "file" for p in model.problems)


def test_a_device_given_with_f_is_refused(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "ns.yaml").write_text(NS)
    code, out, _ = cli("inventory", "-f", str(tmp_path / "ns.yaml"), "-f", "/dev/zero")
    assert code == EXIT_OK and "/dev/zero: a character device" in out


def test_a_file_over_the_cap_is_reported_and_the_rest_read(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "ns.yaml").write_text(NS)
    big = "".join(
        f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: n{i}\n" for i in range(100)
    )
    (tmp_path / "big.yaml").write_text(big)
    model = load_offline([str(tmp_path)], max_file_bytes=1024)
    assert list(model.namespaces) == ["shop"]
    [problem] = model.problems
    assert problem.origin.file.endswith("big.yaml") and problem.level == Level.FATAL
    assert "--max-file-size" in problem.message and "1 KiB" in problem.message

    code, out, _ = cli("inventory", "-f", str(tmp_path), "--max-file-size", "1K", "-o", "json")
    [said] = json.loads(out)["problems"]
    assert code == EXIT_OK and said["file"].endswith("big.yaml")
    assert "--max-file-size" in said["message"]
    code, out, _ = cli("inventory", "-f", str(tmp_path), "--max-file-size", "1M", "-o", "json")
    assert code == EXIT_OK and json.loads(out)["problems"] == []
    code, _, err = cli("inventory", "-f", str(tmp_path), "--max-file-size", "lots")
    assert code == EXIT_USAGE and "--max-file-size" in err


def test_standard_input_over_the_cap(tmp_path: Path) -> None:
    big = "".join(
        f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: n{i}\n" for i in range(100)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "netsleuth", "inventory", "-f", "-", "--max-file-size", "1K"],
        input=big,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == EXIT_USAGE  # nothing else was given: nothing loaded
    assert "standard input" in proc.stderr and "--max-file-size" in proc.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [("256M", 256 << 20), ("1G", 1 << 30), ("2GiB", 2 << 30), ("1k", 1024), ("5000", 5000)],
)
def test_parse_size(text: str, expected: int) -> None:
    assert bounded.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "M", "1.5G", "-1", "0", "²M", "1X", "9" * 5000])
def test_parse_size_rejects(text: str) -> None:
    from netsleuth.model.numbers import NumberError

    with pytest.raises(NumberError):
        bounded.parse_size(text)


def test_an_unreadable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(The tests run as root, where chmod cannot make a folder unreadable: os.scandir fails.)"""
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "ns.yaml").write_text(NS)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "hidden.yaml").write_text(NS.replace("shop", "hidden"))
    real = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        if Path(path).name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    model = load_offline([str(tmp_path)])
    assert list(model.namespaces) == ["shop"]
    [problem] = model.problems
    assert problem.origin.file.endswith("locked") and "Permission denied" in problem.message


def test_a_number_thousands_of_digits_long_is_a_problem_not_a_traceback() -> None:
    """int() refuses more than 4,300 digits: the JSON loader raised ValueError (exit 1)."""
    svc = (
        '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"shop"},'
        '"spec":{"ports":[{"port":' + "9" * 5000 + "}]}}"
    )
    ns = '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}'
    for text in (svc, svc + "\n" + ns, ns + "\n" + svc + "\n" + ns):
        out = list(iter_json_documents(text, "big.json"))
        problems = [x for x in out if isinstance(x, LoadProblem)]
        assert [x.data["kind"] for x in out if isinstance(x, RawObject)] == ["Namespace"] * (
            text.count("Namespace")
        )
        [problem] = problems
        assert "5,000 digits" in problem.message and problem.skipped == "document"
        assert problem.origin.document == text.split("\n").index(svc)
    cut = '{"kind":"List","apiVersion":"v1","items":[' + ns + "," + svc + "," + ns
    out = list(iter_json_documents(cut, "cut.json"))  # truncated: the items before it are kept
    assert [x.data["kind"] for x in out if isinstance(x, RawObject)] == ["Namespace"]
    [problem] = [x for x in out if isinstance(x, LoadProblem)]
    assert problem.message.startswith("truncated")
