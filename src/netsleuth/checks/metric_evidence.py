"""What the metric checks (DNS141–DNS144, CT731, CT732, KPX631, KPX632, CNI431, CNI432) share.

Every finding carries the PromQL that found it and the series it returned
(labels and value) as evidence, and the command that asks the same
Prometheus again. Label values are untrusted text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from netsleuth.facts.metric_breaches import Breach
from netsleuth.model.commands import Command, cmd
from netsleuth.model.findings import Confidence, Evidence
from netsleuth.model.metrics import MetricsSnapshot

MAX_SERIES_EVIDENCE = 10


def at_text(snapshot: MetricsSnapshot) -> str:
    return datetime.fromtimestamp(snapshot.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def confidence(snapshot: MetricsSnapshot) -> Confidence:
    """Measured by a live Prometheus: observed; a recorded answer replayed: an artifact."""
    return Confidence.ARTIFACTS if snapshot.recorded else Confidence.OBSERVED


def metric_evidence(snapshot: MetricsSnapshot, found: Sequence[Breach]) -> list[Evidence]:
    """The query once, then each returned series (``{labels} value``), bounded."""
    if not found:
        return []
    src = f"prometheus {snapshot.url}"
    ev = [Evidence(src, f"query at {at_text(snapshot)}", found[0].query)]
    for b in found[:MAX_SERIES_EVIDENCE]:
        ev.append(Evidence(src, "series", b.sample.text()))
    if len(found) > MAX_SERIES_EVIDENCE:
        ev.append(Evidence(src, "series", f"… and {len(found) - MAX_SERIES_EVIDENCE} more"))
    res = snapshot.signals.get(found[0].signal.name)
    if res is not None and res.truncated:
        ev.append(Evidence(src, "series not kept", str(res.truncated)))
    return ev


def query_cmd(snapshot: MetricsSnapshot, query: str) -> Command:
    """Ask the same Prometheus the same question (``curl -sG … --data-urlencode query=…``)."""
    return cmd(
        "curl",
        "-sG",
        f"{snapshot.url}/api/v1/query",
        "--data-urlencode",
        f"query={query}",
    )


def pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def rate(x: float) -> str:
    return f"{x:.3g}/s"


def seconds(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.3g} s"


def places(found: Iterable[Breach]) -> str:
    """``worker-1, worker-2`` (nodes, else the scrape targets), sorted, without repeats."""
    return ", ".join(sorted({b.where for b in found}))
