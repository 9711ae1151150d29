"""The one quoting path for printed commands: what bash receives is exactly the argv."""

from __future__ import annotations

import doctest
import shlex
import shutil
import subprocess

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from netsleuth.model import commands
from netsleuth.model.commands import (
    Command,
    Snippet,
    cmd,
    exec_in,
    json_arg,
    json_patch,
    kubectl,
    merge_patch,
    quote_arg,
    sh_c,
    visible,
)
from netsleuth.model.untrusted import (
    is_visible_char,
)

BASH = shutil.which("bash")
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}

# Arguments an attacker would choose: quotes, substitutions, separators, newlines, ESC.
HOSTILE = [
    "shop$(touch x)",
    "api`touch x`",
    "web'; touch x; echo '",
    'a"b$HOME\\c',
    "line\nnext",
    "esc\x1b]8;;http://evil\x07link",
    "tab\there",
    "rtl\u202eoverride",
    "-n",
    "",
    "*",
    "~root",
    "a b",
    "#comment",
    "!!",
    "{a,b}",
    "ü ß",
]


def bash_argv(rendered: str) -> list[str]:
    """Run ``printf '%s\\0' <rendered args>`` in bash and return what it received."""
    assert BASH is not None
    out = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", rendered],
        capture_output=True,
        env=ENV,
        check=True,
    ).stdout
    return out.decode("utf-8").split("\0")[:-1]


def test_doctests() -> None:
    failures, tried = doctest.testmod(commands, verbose=False)
    assert tried > 0 and failures == 0


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_hostile_arguments_reach_the_program_verbatim() -> None:
    rendered = cmd("printf", "%s\\0", *HOSTILE).render()
    assert bash_argv(rendered) == HOSTILE


def test_visible_arguments_use_posix_quotes() -> None:
    assert quote_arg("shop$(touch x)") == "'shop$(touch x)'"
    assert quote_arg("plain-name.1") == "plain-name.1"
    assert shlex.split(kubectl("get", "ns", "a'b").render()) == ["kubectl", "get", "ns", "a'b"]


def test_invisible_characters_are_shown_escaped() -> None:
    line = cmd("echo", "esc\x1b[31mred", "nl\nx", "\u202e").render()
    assert "\x1b" not in line and "\n" not in line and "\u202e" not in line
    assert line == "echo $'esc\\x1b[31mred' $'nl\\nx' $'\\u202e'"


def test_comment_cannot_start_a_command() -> None:
    line = cmd("ip", "route").note("on n1\ntouch x").render()
    assert "\n" not in line
    assert line == "ip route   # on n1\\ntouch x"


def test_pipe_stages_are_quoted_each() -> None:
    c = kubectl("get", "pods", "-A").pipe("grep", "x; touch y")
    assert c.render() == "kubectl get pods -A | grep 'x; touch y'"
    assert c.programs == ("kubectl", "grep")


def test_json_patch_is_serialized_then_quoted() -> None:
    labels = {"app": "web'; touch x; echo '"}
    c = merge_patch("svc", "shop", "api", {"spec": {"selector": labels}})
    argv = shlex.split(c.render())
    assert argv[:8] == ["kubectl", "-n", "shop", "patch", "svc", "api", "--type", "merge"]
    assert argv[8] == "-p"
    assert yaml.safe_load(argv[9]) == {"spec": {"selector": labels}}
    ops = [{"op": "replace", "path": "/spec/ingress/0/ports/0/port", "value": 8080}]
    j = json_patch("networkpolicy", "shop", "p", ops)
    assert shlex.split(j.render())[-1] == json_arg(ops)


def test_json_arg_is_ascii() -> None:
    assert json_arg({"k": "é\x1b"}) == '{"k":"\\u00e9\\u001b"}'


def test_exec_and_sh_c_quote_twice() -> None:
    inner = sh_c(cmd("ss", "-ltn"), cmd("netstat", "-ltn"))
    c = exec_in("shop$(x)", "pod`y`", *inner)
    argv = shlex.split(c.render())
    assert argv == ["kubectl", "exec", "-n", "shop$(x)", "pod/pod`y`", "--", *inner]
    assert inner[2] == "ss -ltn || netstat -ltn"


def test_command_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        cmd("kubectl", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Command(())


def test_snippet_is_serialized_yaml() -> None:
    s = Snippet({"metadata": {"labels": {"app": "x\n  evil: true"}}})
    assert yaml.safe_load(s.render()) == {"metadata": {"labels": {"app": "x\n  evil: true"}}}
    assert "\n  evil: true" not in s.render()


def test_visible_leaves_printable_text_alone() -> None:
    assert visible("checkout/web-1 café") == "checkout/web-1 café"
    assert visible("a\x00b\x7fc\x9bd") == "a\\x00b\\x7fc\\u009bd"


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
# Lone surrogates (category Cs) are excluded: no argv holds one (they have no
# UTF-8 encoding; bash would receive CESU bytes), and API-server JSON never yields one.
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))),
        max_size=4,
    )
)
def test_any_argv_round_trips_through_bash(argv: list[str]) -> None:
    rendered = cmd("printf", "%s\\0", *argv).render()
    if not argv:
        return
    assert bash_argv(rendered) == argv
    assert "\n" not in rendered and "\x1b" not in rendered


@given(st.lists(st.text(), min_size=1, max_size=4), st.text())
def test_rendered_line_is_one_visible_line(argv: list[str], comment: str) -> None:
    line = Command(tuple(argv)).note(comment).render()
    assert all(is_visible_char(ch) for ch in line)


def test_bash_env_is_sane() -> None:
    # the round-trip test depends on a UTF-8 locale existing in bash
    if BASH is None:
        pytest.skip("bash is not installed")
    assert bash_argv("printf '%s\\0' $'\\u00e9'") == ["é"]


def test_glob_is_printed_unquoted_and_only_from_plain_characters() -> None:
    from netsleuth.model.commands import Glob

    assert cmd("cat", Glob("/etc/cni/net.d/*.conflist")).render() == "cat /etc/cni/net.d/*.conflist"
    for bad in ("*;touch x", "$(x)*", "a b*", "", "`x`"):
        with pytest.raises(ValueError):
            Glob(bad)
