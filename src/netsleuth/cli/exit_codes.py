"""Exit codes: the one table the code returns and the README prints (a test compares them)."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Every exit code ``netsleuth`` returns, with its meaning in :data:`MEANINGS`."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    DIFF_LOST = 3
    FINDINGS = 4
    TRACE_BROKEN = 5
    SOURCE = 6
    INTERRUPTED = 130
    PIPE_CLOSED = 141


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.INTERNAL: "internal error (a bug: please report it with the command you ran)",
    ExitCode.USAGE: "usage or input error: a bad flag or value, an unknown check ID, an object "
    "a query names that is not in the input; nothing could be loaded from the files "
    "(unreadable, not UTF-8, truncated, no Kubernetes object); `scan --fail-on`: part of the "
    "files could not be read; `diff`: a side holds a policy the API server would reject",
    ExitCode.DIFF_LOST: "`diff`: at least one connection is lost",
    ExitCode.FINDINGS: "`scan --fail-on`: a finding at or above the threshold",
    ExitCode.TRACE_BROKEN: "`trace`: the verdict is broken",
    ExitCode.SOURCE: "the live source is unreachable or forbidden as a whole, or the kubeconfig "
    "cannot be used; nothing could be listed, or discovery is not Kubernetes API (a proxy's "
    "login page); `scan --fail-on`: a list failed or is incomplete, or the `--prometheus` "
    "server (unreachable, an error answer, a page that is not its API) did not answer every "
    "query; `collect`: a node's "
    "collector pod did not run",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    ExitCode.PIPE_CLOSED: "the reader of stdout went away (`netsleuth … | head`), "
    "as coreutils report it: nothing is printed",
}


def markdown_table() -> str:
    """The README's exit-code table."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {int(code)} | {MEANINGS[code]} |" for code in ExitCode]
    return "\n".join(rows) + "\n"
