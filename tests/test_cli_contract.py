"""The command-line contract every command keeps (issue 9): formats, ports, names, exits, pipes.

- ``-o`` lists and accepts exactly the formats registered for the command, and
  every registered renderer produces its format;
- one ``--port`` syntax (``80``, ``tcp/80``, ``80/tcp``, names) on every command with a port;
- bare names under ``-n``;
- unknown check IDs, unknown namespaces: exit 2 naming them; empty input: a warning,
  and ``--fail-on`` fails on it;
- a closed pipe is a quiet exit 141; the program name follows how it was called.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from netsleuth.cli import app
from netsleuth.cli.errors import run_app
from netsleuth.cli.exit_codes import ExitCode
from netsleuth.render.formats import FORMATS

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
BIN = Path(sys.executable).parent


def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
    code = run_app(app)
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------- -o formats

# One invocation per command, on the demo (a broken path for trace: exit 5).
INVOCATIONS: dict[str, tuple[list[str], int]] = {
    "inventory": (["inventory", "-f", str(DEMO)], 0),
    "scan": (["scan", "-f", str(DEMO)], 0),
    "trace": (
        ["trace", "payments/payments-api", "payments/fraud-check", "-p", "8080", "-f", str(DEMO)],
        5,
    ),
    "explain": (
        ["explain", "shop/storefront", "legacy/report-api", "-p", "tcp/8080", "-f", str(DEMO)],
        0,
    ),
    "connectivity": (["connectivity", "-f", str(DEMO)], 0),
    "diff": (["diff", str(DEMO), str(DEMO)], 0),
    "exposure": (["exposure", "-f", str(DEMO)], 0),
    "checks": (["checks"], 0),
    "demo": (["demo", "--no-traces"], 0),
}


def _parse(fmt: str, text: str) -> object:
    """The document parses as its format says (and is not empty)."""
    assert text.strip(), fmt
    if fmt in ("json", "sarif"):
        doc = json.loads(text)
        if fmt == "sarif":
            assert doc["version"] == "2.1.0"
        return doc
    if fmt == "yaml":
        return yaml.safe_load(text)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["src", "dst", "conn"] and len(rows) > 1
        return rows
    if fmt == "md":
        assert text.lstrip().startswith("|") or "|---" in text
        return text
    if fmt == "dot":
        assert text.startswith("digraph ") and text.rstrip().endswith("}")
        return text
    if fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
        return text
    return text


CASES = [
    (cmd, fmt)
    for cmd, (_, _) in INVOCATIONS.items()
    for fmt in FORMATS.names(cmd)
    if fmt in ("table", "json", "yaml", "sarif", "csv", "md", "dot", "html")
]


@pytest.mark.parametrize(("command", "fmt"), CASES, ids=[f"{c}-{f}" for c, f in CASES])
def test_every_registered_format_renders(
    command: str, fmt: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args, want = INVOCATIONS[command]
    code, out, err = cli(monkeypatch, capsys, *args, "-o", fmt)
    assert code == want, err
    _parse(fmt, out)


def test_every_command_with_output_is_in_the_registry() -> None:
    from typer.main import get_command

    group = get_command(app)
    with_output = {
        name
        for name, cmd in group.commands.items()  # type: ignore[attr-defined]
        if any("--output" in p.opts for p in cmd.params)
    }
    # `report` writes a file named by -o; `alerts` -o picks which rules document
    # (both YAML, an Enum of its own); every other -o is a format of the registry.
    assert with_output - {"report", "alerts"} <= set(FORMATS.commands())


@pytest.mark.parametrize("command", sorted(INVOCATIONS))
def test_an_unregistered_format_is_a_usage_error(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args, _ = INVOCATIONS[command]
    bogus = "html" if "html" not in FORMATS.names(command) else "docx"
    code, out, err = cli(monkeypatch, capsys, *args, "-o", bogus)
    assert code == ExitCode.USAGE and not out
    for name in FORMATS.names(command):
        assert f"'{name}'" in err


def test_demo_json_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(monkeypatch, capsys, "demo", "-o", "json")
    assert code == ExitCode.USAGE and not out and "'table'" in err


def test_help_lists_exactly_the_formats(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(monkeypatch, capsys, "explain", "--help")
    assert code == 0
    text = " ".join(out.replace("│", " ").split())
    assert "table: verdict and rules" in text and "json:" in text and "csv" not in text


def test_register_a_format_without_touching_the_parser() -> None:
    """A format registered before the command module is built appears in -o."""
    from netsleuth.cli.common import output_choices
    from netsleuth.render.formats import FormatRegistry

    reg = FormatRegistry()
    reg.register("scan", "table", "netsleuth.render.findings_table:scan_table", "t", machine=False)
    reg.register("scan", "html", "netsleuth.render.findings_json:scan_json", "h")
    assert reg.names("scan") == ("table", "html")
    assert reg.get("scan", "html").load().__name__ == "scan_json"
    assert [m.value for m in output_choices("scan")] == list(FORMATS.names("scan"))
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("scan", "html", "x.y:z", "h")


# --------------------------------------------------------------------------- --port, -n


@pytest.mark.parametrize("spelling", ["8080", "tcp/8080", "8080/tcp", "TCP/8080"])
def test_port_spellings_agree_on_explain(
    spelling: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["explain", "shop/storefront", "legacy/report-api", "-f", str(DEMO), "-o", "json"]
    _, ref, _ = cli(monkeypatch, capsys, *args, "--port", "tcp/8080")
    code, out, err = cli(monkeypatch, capsys, *args, "-p", spelling)
    assert code == 0, err
    assert json.loads(out) == json.loads(ref)


@pytest.mark.parametrize("spelling", ["8080", "tcp/8080", "8080/TCP", "http"])
def test_port_spellings_agree_on_trace(
    spelling: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """fraud-check's Service port 8080 is named http: the name resolves to the same path."""
    args = ["trace", "payments/payments-api", "payments/fraud-check", "-f", str(DEMO), "-o", "json"]
    _, ref, _ = cli(monkeypatch, capsys, *args, "--port", "tcp/8080")
    code, out, err = cli(monkeypatch, capsys, *args, "-p", spelling)
    assert code == ExitCode.TRACE_BROKEN, err
    doc, want = json.loads(out), json.loads(ref)
    assert doc["query"]["protocol"] == "TCP" and doc["verdict"] == "broken"
    assert doc["hops"] == want["hops"]


def test_trace_port_and_protocol_must_agree(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["trace", "shop/storefront", "shop/recommendations", "-f", str(DEMO)]
    code, _, err = cli(monkeypatch, capsys, *args, "-p", "tcp/80", "--protocol", "udp")
    assert code == ExitCode.USAGE and "disagree" in err


@pytest.mark.parametrize("bad", ["tcp/0", "²", "icmp/1", "70000"])
def test_bad_ports_are_usage_errors_on_every_command(
    bad: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (
        ["trace", "shop/storefront", "shop/recommendations"],
        ["explain", "shop/storefront", "shop/recommendations"],
        ["connectivity"],
    ):
        code, out, err = cli(monkeypatch, capsys, *args, "-f", str(DEMO), "--port", bad)
        assert code == ExitCode.USAGE and not out and "Tip:" in err, (args, err)


def test_connectivity_port_forms_and_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["connectivity", "-f", str(DEMO), "-o", "json"]
    _, all_out, _ = cli(monkeypatch, capsys, *base)
    every = json.loads(all_out)["connections"]
    by_number = [
        json.loads(cli(monkeypatch, capsys, *base, "-p", p)[1])["connections"]
        for p in ("8080", "tcp/8080", "8080/tcp")
    ]
    assert by_number[0] == by_number[1] == by_number[2]
    assert by_number[0] and len(by_number[0]) < len(every)
    for c in by_number[0]:  # every kept connection allows TCP 8080
        assert c["conn"].get("all") or any(
            int(r.split("-")[0]) <= 8080 <= int(r.split("-")[-1]) for r in c["conn"]["TCP"]
        )
    # A name keeps a connection when the destination's pods name a port so and it is allowed.
    named = json.loads(cli(monkeypatch, capsys, *base, "-p", "http")[1])["connections"]
    assert named and all("namespace" in c["dst"] for c in named)
    assert {(c["dst"]["namespace"], c["dst"]["name"]) for c in named} <= {
        (c["dst"].get("namespace"), c["dst"].get("name")) for c in every
    }


def test_bare_names_under_namespace(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["-f", str(DEMO), "-o", "json"]
    pairs = {
        "trace": ("payments", "payments-api", "fraud-check", "8080"),
        "explain": ("shop", "storefront", "catalog", "80"),
    }
    for cmd, (ns, src, dst, port) in pairs.items():
        c1, o1, e1 = cli(
            monkeypatch, capsys, cmd, f"{ns}/{src}", f"{ns}/{dst}", "-p", port, *common
        )
        c2, o2, e2 = cli(monkeypatch, capsys, cmd, src, dst, "-p", port, "-n", ns, *common)
        assert c1 == c2, (e1, e2)
        d1, d2 = json.loads(o1), json.loads(o2)
        if cmd == "trace":  # the query echoes what was typed
            for d in (d1, d2):
                d["query"].pop("src"), d["query"].pop("dst")
        assert d1 == d2, cmd
    # kind/name under -n, too
    code, _, err = cli(
        monkeypatch,
        capsys,
        "explain",
        "deploy/storefront",
        "svc/recommendations",
        "-n",
        "shop",
        *common,
    )
    assert code == 0, err


def test_bare_source_without_namespace_says_how(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(
        monkeypatch, capsys, "trace", "payments-api", "payments/fraud-check", "-f", str(DEMO)
    )
    assert code == ExitCode.USAGE and "-n NAMESPACE payments-api" in err


def test_unknown_namespace_is_a_usage_error_naming_the_namespaces(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(monkeypatch, capsys, "inventory", "-f", str(DEMO), "-n", "paymnets")
    assert code == ExitCode.USAGE and not out
    assert "namespace 'paymnets' is not in the input" in err and "Did you mean: payments" in err


# --------------------------------------------------------------------------- scan selection, empty input


def test_unknown_check_ids_are_usage_errors_naming_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(monkeypatch, capsys, "scan", "-f", str(DEMO), "--select", "FOO,DNS")
    assert code == ExitCode.USAGE and not out and "unknown check ID: FOO" in err
    code, _, err = cli(
        monkeypatch,
        capsys,
        "scan",
        "-f",
        str(DEMO),
        "--ignore",
        "XYZ",
        "--ignore",
        "QQ1",
        "--fail-on",
        "error",
    )
    assert code == ExitCode.USAGE and "unknown check IDs: XYZ, QQ1" in err
    code, out, _ = cli(
        monkeypatch, capsys, "scan", "-f", str(DEMO), "--select", "dns1", "-o", "json"
    )
    assert code == 0 and {f["rule_id"][:4] for f in json.loads(out)["findings"]} == {"DNS1"}


def test_empty_input_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 10: nothing loaded is exit 2 offline (6 live), with or without --fail-on
    code, out, err = cli(monkeypatch, capsys, "scan", "-f", str(tmp_path))
    assert code == ExitCode.USAGE and "nothing could be loaded" in err and out == ""
    code, out, err = cli(
        monkeypatch, capsys, "scan", "-f", str(tmp_path), "--fail-on", "error", "-o", "json"
    )
    assert code == ExitCode.USAGE and "nothing could be loaded" in err


# --------------------------------------------------------------------------- processes


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env.update(extra)
    return env


def test_broken_pipe_is_a_quiet_exit(tmp_path: Path) -> None:
    # 150 pods and no policy: 22,350 connections, far more than a pipe buffer holds.
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"p{i}", "namespace": "a", "labels": {"app": f"p{i}"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]},
            "status": {"phase": "Running", "podIP": f"10.1.{i // 250}.{i % 250 + 1}"},
        }
        for i in range(150)
    ]
    big = tmp_path / "pods.json"
    big.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
    for args in (
        ["scan", "-f", str(DEMO)],
        ["demo"],
        ["connectivity", "-f", str(big), "-o", "json"],
        ["connectivity", "-f", str(big)],
        ["connectivity", "-f", str(big), "-o", "csv"],
    ):
        proc = subprocess.Popen(
            [str(BIN / "netsleuth"), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # the reader goes away, as `| head -1` does
        err = proc.stderr.read()
        # 141 as coreutils; 0 when the kernel took the last write whole before the reader left
        assert proc.wait(timeout=120) in (ExitCode.PIPE_CLOSED, ExitCode.OK), (args, err)
        assert err == b"", (args, err)


def test_python_dash_m_and_program_names(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "netsleuth", "--version"], capture_output=True, text=True
    )
    assert r.returncode == 0 and r.stdout.startswith("netsleuth ")
    r = subprocess.run(
        [sys.executable, "-m", "netsleuth", "scan", "--help"], capture_output=True, text=True
    )
    assert "python -m netsleuth scan" in r.stdout
    plugin = tmp_path / "kubectl-netsleuth"
    plugin.symlink_to(BIN / "kubectl-netsleuth")
    r = subprocess.run(
        [str(plugin), "trace", "--help"], capture_output=True, text=True, env=_env(COLUMNS="200")
    )
    assert (
        r.returncode == 0
        and "kubectl netsleuth trace" in r.stdout
        and "kubectl-netsleuth" not in r.stdout
    )
    r = subprocess.run(
        [str(plugin), "trace"], capture_output=True, text=True, env=_env(COLUMNS="200")
    )
    assert r.returncode == ExitCode.USAGE and "kubectl netsleuth trace" in r.stderr


def test_completion_scripts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for shell, marker in (
        ("bash", "complete -o"),
        ("zsh", "compdef"),
        ("fish", "complete --command"),
    ):
        code, out, _ = cli(monkeypatch, capsys, "completion", shell)
        assert code == 0 and "_NETSLEUTH_COMPLETE" in out and marker in out, shell
    # the script's protocol: the shell calls netsleuth back with the words typed so far
    r = subprocess.run(
        [str(BIN / "netsleuth")],
        capture_output=True,
        text=True,
        env=_env(
            _NETSLEUTH_COMPLETE="complete_bash", COMP_WORDS="netsleuth scan -o ", COMP_CWORD="3"
        ),
    )
    assert r.returncode == 0 and set(r.stdout.split()) >= {"table", "json", "sarif"}


@pytest.mark.parametrize(
    "content",
    [
        "apiVersion: v1\nkind: Config\nclusters: [\n  - bad",  # not YAML
        "just a string\n",  # YAML, not a kubeconfig
        "apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts: []\n",  # no such context
    ],
)
def test_malformed_kubeconfig_is_one_line_exit_6(
    content: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kc = tmp_path / "config"
    kc.write_text(content)
    code, out, err = cli(monkeypatch, capsys, "inventory", "--kubeconfig", str(kc))
    assert code == ExitCode.SOURCE and not out
    lines = err.strip().split("\n")
    assert lines[0].startswith("Error: cannot load the kubeconfig: ") and len(lines) == 2, err
    assert lines[1].startswith("Tip: ") and "Traceback" not in err


# --------------------------------------------------------------------------- no truncation


@pytest.mark.parametrize(
    "args",
    [
        ["connectivity", "-f", str(DEMO)],
        ["exposure", "-f", str(DEMO)],
        ["inventory", "-f", str(DEMO)],
        ["scan", "-f", str(DEMO)],
        ["diff", str(DEMO), "AFTER"],
        ["trace", "shop/storefront", "shop/recommendations", "-p", "80", "-f", str(DEMO)],
    ],
    ids=lambda a: a[0],
)
def test_narrow_piped_output_never_cuts_identifiers(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """At COLUMNS=60, every workload and pod name is printed whole on one line, none with '…'."""
    import shutil

    from netsleuth.sources.load import load_offline

    if "AFTER" in args:  # the demo with monitoring locked down: lost connections to list
        after = tmp_path / "after"
        shutil.copytree(DEMO, after)
        (after / "zz-lockdown.yaml").write_text(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: lockdown, namespace: monitoring}\n"
            "spec: {podSelector: {}, policyTypes: [Ingress]}\n"
        )
        args = [str(after) if a == "AFTER" else a for a in args]

    model = load_offline([str(DEMO)])
    names = {w.name for w in model.workloads if len(w.name) > 12 and w.kind != "ReplicaSet"}
    names |= {p.name for p in model.pods} | set(model.namespaces) | set(model.nodes)
    monkeypatch.setenv("COLUMNS", "400")
    _, wide, _ = cli(monkeypatch, capsys, *args)
    monkeypatch.setenv("COLUMNS", "60")
    _, out, err = cli(monkeypatch, capsys, *args)
    assert out, err
    assert "…" not in out
    # Every name printed whole with room to spare is printed whole at 60 columns too.
    shown = {n for n in names if n in wide}
    assert shown, "the output names nothing"
    assert {n for n in shown if n not in out} == set()
    for line in out.split("\n"):
        if "$ " in line:  # a printed command: whole, on one line
            assert not line.rstrip().endswith(("\\", "-")), line
