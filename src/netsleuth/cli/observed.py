"""``--prometheus URL`` (with ``--prometheus-window``, ``--prometheus-timeout``) for scan and trace.

The options and the one call that asks Prometheus; a server that cannot be
asked is a warning on stderr (and a problem in JSON output), never the end of
the command: the rest of the analysis goes on.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from netsleuth.model.cluster import ClusterModel
    from netsleuth.model.metrics import MetricsSnapshot
    from netsleuth.trace import TraceResult

FlowFilesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--flows",
        metavar="FILE",
        help="Hubble flows (`hubble observe -o json|compact`, repeatable, '-' for stdin): "
        "the last verdict seen for the traced pair is shown beside the predicted hops.",
    ),
]

PrometheusOpt = Annotated[
    str | None,
    typer.Option(
        "--prometheus",
        metavar="URL",
        help="Ask this Prometheus (base URL) for conntrack, CoreDNS, kube-proxy, node NIC and "
        "Hubble drop signals; breaches become findings, absent series are not checked.",
    ),
]
PrometheusWindowOpt = Annotated[
    str,
    typer.Option("--prometheus-window", help="rate()/quantile window of the queries (5m, 30s…)."),
]
PrometheusTimeoutOpt = Annotated[
    float,
    typer.Option("--prometheus-timeout", min=0.1, help="Seconds to wait for each answer."),
]

_DURATION = re.compile(r"[1-9][0-9]*(ms|s|m|h|d|w)")


def ask_prometheus(url: str | None, window: str, timeout: float) -> MetricsSnapshot | None:
    """The snapshot for ``--prometheus URL`` (``None`` without it); one warning line on
    stderr when the server could not be asked or a query failed, naming the signals not
    checked."""
    if url is None:
        return None
    if not _DURATION.fullmatch(window):
        raise typer.BadParameter(
            f"not a Prometheus duration: {window!r} (e.g. 5m, 30s, 1h)",
            param_hint="--prometheus-window",
        )
    from netsleuth.model.metrics import DEFAULTS
    from netsleuth.sources.prometheus import query_prometheus

    snap = query_prometheus(url, replace(DEFAULTS, window=window), timeout=timeout)
    failure = snap.failure()
    if failure is not None:
        from netsleuth.model.untrusted import visible

        sys.stderr.write(f"warning: {visible(failure)}; the rest of the analysis goes on\n")
    return snap


def add_observed(
    model: ClusterModel,
    result: TraceResult,
    flow_files: list[str] | None,
    metrics: MetricsSnapshot | None,
    *,
    quiet: bool,
    namespace: str | None = None,
) -> TraceResult:
    """The trace with its observed hops: ``--flows`` files, then the Prometheus snapshot."""
    from netsleuth.trace.observed import with_flows, with_metrics

    if flow_files:
        from netsleuth.cli.commands.flows import summarize_files
        from netsleuth.cli.common import progress_enabled
        from netsleuth.flows import DEFAULT_WINDOW

        summary = summarize_files(
            model, flow_files, window=DEFAULT_WINDOW, progress=progress_enabled(quiet)
        )
        result = with_flows(model, result, summary, namespace=namespace)
    if metrics is not None:
        result = with_metrics(model, result, metrics, namespace=namespace)
    return result
