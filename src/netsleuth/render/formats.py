"""Output formats per command: a registry from format name to renderer.

A renderer is a function ``render(report, out: Output) -> None`` that writes
the command's result (``report``, a library value: :class:`ScanReport`,
:class:`TraceResult`, …) to ``out``. Each command's ``-o`` option lists and
accepts exactly the formats registered for it here, so adding a format is a
renderer function plus one :func:`register` line below; the CLI's parser is
not edited::

    register("scan", "html", "netsleuth.render.html.scan:render_scan",
             "a self-contained HTML page")

The target is a ``"module:function"`` path imported only when that format is
chosen: ``netsleuth --help`` and the other formats never pay for it.
``machine`` formats (the default) are for programs: progress bars are not
drawn and nothing but the document goes to stdout.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netsleuth.render.output import Output

Renderer = Callable[[Any, Output], None]


class OutputFormat(enum.StrEnum):
    """Every format name some command renders (commands list their own: see :data:`FORMATS`).

    Kept for commands not yet moved to the registry; a command that takes
    ``-o OutputFormat`` accepts names it does not render.
    """

    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    SARIF = "sarif"
    CSV = "csv"
    MD = "md"
    DOT = "dot"
    HTML = "html"


@dataclass(frozen=True, slots=True)
class Format:
    command: str
    name: str
    target: str
    """``"package.module:function"``, imported when the format is used."""
    help: str
    machine: bool = True
    """Read by programs (json, sarif, csv…): no progress, no colour, nothing else on stdout."""

    def load(self) -> Renderer:
        module, _, attr = self.target.partition(":")
        fn: Renderer = getattr(importlib.import_module(module), attr)
        return fn


class FormatRegistry:
    """Formats by command, in registration order (the first is the default)."""

    def __init__(self) -> None:
        self._by_command: dict[str, dict[str, Format]] = {}

    def register(
        self, command: str, name: str, target: str, help: str, *, machine: bool = True
    ) -> None:
        if ":" not in target:
            raise ValueError(f"renderer target {target!r} is not 'module:function'")
        formats = self._by_command.setdefault(command, {})
        if name in formats and formats[name].target != target:
            raise ValueError(f"format {name!r} of {command!r} registered twice")
        formats[name] = Format(command, name, target, help, machine)

    def commands(self) -> tuple[str, ...]:
        return tuple(self._by_command)

    def names(self, command: str) -> tuple[str, ...]:
        return tuple(self._by_command.get(command, {}))

    def get(self, command: str, name: str) -> Format:
        try:
            return self._by_command[command][name]
        except KeyError:
            known = ", ".join(self.names(command)) or "none"
            raise KeyError(f"{command} has no output format {name!r} (it has: {known})") from None

    def help(self, command: str) -> str:
        """``-o`` help text: every format with what it is."""
        return "; ".join(f"{f.name}: {f.help}" for f in self._by_command.get(command, {}).values())


FORMATS = FormatRegistry()
register = FORMATS.register

# --------------------------------------------------------------------------- built-in formats
# The first format of a command is its default. Tables are for people
# (machine=False); every other format is a document for programs.

_R = "netsleuth.render."
_H = _R + "html.pages:"

register("inventory", "table", _R + "inventory_table:inventory_table", "tables", machine=False)
register("inventory", "json", _R + "inventory_json:inventory_json", "one JSON document")
register("inventory", "yaml", _R + "inventory_json:inventory_yaml", "the JSON document as YAML")

register("scan", "table", _R + "findings_table:scan_table", "findings by severity", machine=False)
register("scan", "json", _R + "findings_json:scan_json", "findings, skipped checks, problems")
register("scan", "sarif", _R + "sarif:scan_sarif", "SARIF 2.1.0 for code scanning")
register("scan", "html", _H + "render_scan", "a self-contained page: summary, map, findings")

register("trace", "table", _R + "trace_table:trace_table", "hops, then the cause", machine=False)
register("trace", "json", _R + "trace_json:trace_json", "query, verdict, hops, problems")
register("trace", "html", _H + "render_trace", "a self-contained page: hops on the map")

register("explain", "table", _R + "explain_table:explain_table", "verdict and rules", machine=False)
register("explain", "json", _R + "explain_json:explain_json", "verdict, rules, peers")

register(
    "connectivity", "table", _R + "connectivity_table:conn_table", "aligned rows", machine=False
)
register("connectivity", "json", _R + "connectivity_table:conn_json", "connections and problems")
register("connectivity", "csv", _R + "connectivity_table:conn_csv", "src,dst,conn rows")
register("connectivity", "md", _R + "connectivity_table:conn_md", "a Markdown table")
register("connectivity", "dot", _R + "connectivity_table:conn_dot", "a Graphviz digraph")
register("connectivity", "html", _H + "render_connectivity", "a self-contained page: map, rows")

register("diff", "table", _R + "diff_table:diff_table", "lost, gained, changed", machine=False)
register("diff", "json", _R + "diff_table:diff_json", "the diff and problems")
register("diff", "sarif", _R + "sarif_diff:diff_sarif", "lost connections as SARIF results")
register("diff", "md", _R + "diff_table:diff_md", "a Markdown report for pull requests")
register("diff", "html", _H + "render_diff", "a self-contained page: lost red, gained green")

register("exposure", "table", _R + "exposure_table:exposure_table", "per workload", machine=False)
register("exposure", "json", _R + "exposure_table:exposure_json", "per workload, and problems")

register("checks", "table", _R + "checks_table:checks_table", "ID, layer, severity", machine=False)
register("checks", "json", _R + "checks_table:checks_json", "the registry as JSON")

register("flows", "table", _R + "flows_table:flows_table", "counts, then findings", machine=False)
register("flows", "json", _R + "flows_table:flows_json", "findings, flow counts, problems")
register("flows", "sarif", _R + "flows_table:flows_sarif", "SARIF 2.1.0 for code scanning")

register("probe", "table", _R + "probe_table:probe_table", "hops observed", machine=False)
register("probe", "json", _R + "probe_table:probe_json", "the probe report")

register("conformance", "table", _R + "conformance_out:conf_table", "disagreements", machine=False)
register("conformance", "json", _R + "conformance_out:conf_json", "pairs, agree, disagree")
register("conformance", "sarif", _R + "conformance_out:conf_sarif", "disagreements as SARIF")

register("demo", "table", _R + "demo_table:demo_table", "inventory, scan, traces", machine=False)
