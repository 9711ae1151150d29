"""Fixture folders may carry observed data beside the cluster, added to the scan config as the
commands do:

- ``flows.jsonl``: `hubble observe -o json` lines (``netsleuth flows``);
- ``metrics.json``: a Prometheus's answers (``scan --prometheus``), replayed over HTTP
  by :func:`replay_transport` through ``netsleuth.sources.prometheus`` — see
  ``make_metric_fixtures.py`` for the format.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from netsleuth.checks.base import ScanConfig
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.metrics import SIGNALS, presence_query, signal_queries

REPLAY_TIME = 1_763_630_000.0  # 2025-11-20T09:13:20Z


def replay_transport(doc: dict[str, Any]) -> httpx.MockTransport:
    """Answers ``/api/v1/query`` as Prometheus would, from ``absent`` and ``breaches``."""
    absent = set(doc.get("absent", ()))
    queries = signal_queries()
    by_query: dict[str, list[dict[str, Any]]] = {}
    for name, series in doc.get("breaches", {}).items():
        by_query[queries[name]] = series
    selectors = {presence_query(sel): sel for sig in SIGNALS for sel in sig.presence}

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params.get("query", "")
        at = float(request.url.params.get("time", REPLAY_TIME))
        result: list[dict[str, Any]] = []
        if q in selectors:
            if selectors[q] not in absent:
                result = [{"metric": {}, "value": [at, "2"]}]
        else:
            for s in by_query.get(q, ()):
                result.append({"metric": s["labels"], "value": [at, str(s["value"])]})
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


def replayed_metrics(path: Path) -> Any:
    from netsleuth.sources.prometheus import query_prometheus

    doc = json.loads(path.read_text())
    snap = query_prometheus(
        "http://prometheus.monitoring.svc:9090", at=REPLAY_TIME, transport=replay_transport(doc)
    )
    return replace(snap, recorded=True)


def with_observed(
    folder: Path, model: ClusterModel, config: ScanConfig | None
) -> ScanConfig | None:
    metrics_file = folder / "metrics.json"
    if metrics_file.exists():
        config = replace(config or ScanConfig(), metrics=replayed_metrics(metrics_file))
    flows_file = folder / "flows.jsonl"
    if not flows_file.exists():
        return config
    from netsleuth.flows import summarize
    from netsleuth.sources.hubble import read_flows

    summary = summarize(model, read_flows([str(flows_file)]))
    return replace(config or ScanConfig(), flows=summary)
