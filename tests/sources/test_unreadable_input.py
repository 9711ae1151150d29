"""Input that could not be read is never a clean cluster.

Before: a non-UTF-8 file, an unreadable file or a truncated
``{"kind":"List","items":[`` gave an empty model, ``scan --fail-on error``
passed with exit 0, and a truncated stream was reported as "object has no kind".
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from netsleuth.cli import app
from netsleuth.cli.errors import EXIT_OK, EXIT_USAGE, run_app
from netsleuth.model.problems import Level
from netsleuth.sources.load import load_offline
from netsleuth.sources.manifests import iter_json_documents

Cli = Callable[..., tuple[int, str, str]]

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    "status": {"phase": "Running", "podIP": "10.244.1.5"},
}


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
        code = run_app(app)
        got = capsys.readouterr()
        return code, got.out, got.err

    return run


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("utf16.yaml", "kind: Namespace\n".encode("utf-16"), "not UTF-8"),
        ("trunc.json", b'{"kind":"List","items":[', "truncated"),
        (
            "trunc.yaml",
            b'kind: List\nitems:\n- kind: Namespace\n  metadata:\n    name: "a',
            "truncated",
        ),
        ("empty.yaml", b"", "no Kubernetes object"),
        ("notk8s.yaml", b"replicaCount: 3\nimage: nginx\n", "object has no kind"),
    ],
)
def test_nothing_loaded_is_an_input_error(
    name: str, content: bytes, says: str, tmp_path: Path, cli: Cli
) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    for args in (["scan", "-f", str(f)], ["scan", "-f", str(f), "--fail-on", "error"]):
        code, out, err = cli(*args)
        assert code == EXIT_USAGE, (args, out, err)
        assert "nothing could be loaded" in err and says in err
    code, _, err = cli("inventory", "-f", str(tmp_path))
    assert code == EXIT_USAGE and "nothing could be loaded" in err


def test_unreadable_file_among_good_ones_fails_the_gate(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "good.json").write_text(json.dumps({"kind": "List", "items": [NS, POD]}))
    (tmp_path / "bad.yaml").write_bytes(b"\xff\xfe\x00k\x00i")
    code, out, _ = cli("scan", "-f", str(tmp_path))
    assert code == EXIT_OK and "input problem" in out  # reported, the rest analysed
    code, _, err = cli("scan", "-f", str(tmp_path), "--fail-on", "error")
    assert code == EXIT_USAGE
    assert "could not be read" in err and "not UTF-8" in err


def test_truncated_list_keeps_the_complete_items_and_says_truncated(tmp_path: Path) -> None:
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [NS, POD, POD]})
    cut = text[: text.rindex('"spec"')]  # inside the third item
    f = tmp_path / "cut.json"
    f.write_text(cut)
    model = load_offline([str(f)])
    assert list(model.namespaces) == ["shop"] and [p.name for p in model.pods] == ["web"]
    [problem] = model.problems
    assert problem.level == Level.FATAL and problem.message.startswith("truncated")
    assert "no kind" not in problem.message


def test_truncated_stream_is_reported_as_truncated_not_as_objects_without_kind() -> None:
    # `kubectl cluster-info dump` prints JSON documents one after another
    docs = [json.dumps({"kind": "NamespaceList", "apiVersion": "v1", "items": [NS]}, indent=4)]
    docs.append(json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [POD]}, indent=4))
    stream = "\n".join(docs)
    cut = stream[: stream.index('"containers"')]
    out = list(iter_json_documents(cut, "dump.txt"))
    problems = [x for x in out if not hasattr(x, "data")]
    assert len(problems) == 1
    assert problems[0].message.startswith("truncated")  # type: ignore[union-attr]
    assert problems[0].origin.line == docs[0].count("\n") + 2  # type: ignore[union-attr]


def test_stream_line_numbers_are_exact() -> None:
    """Line numbers are counted incrementally (was quadratic: 20k documents took 121 s)."""
    docs = [
        json.dumps(
            {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": f"n{i}"}}, indent=2
        )
        for i in range(50)
    ]
    stream = "==== log line\n".join(d + "\n" for d in docs)
    lines = [x.origin.line for x in iter_json_documents(stream, "s")]  # type: ignore[union-attr]
    expected = []
    line = 1
    for d in docs:
        expected.append(line)
        line += d.count("\n") + 2
    assert lines == expected
