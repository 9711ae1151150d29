"""Ask a running Prometheus for the observed signals (``scan``/``trace --prometheus URL``).

Instant queries (``GET /api/v1/query``), all at one evaluation time, through
one HTTP client with a timeout per request:

- for every series selector a signal needs, ``count(SELECTOR)``: an empty
  answer means Prometheus has no such series, so the signal is *not checked*
  (never ok);
- for every signal whose series exist, its PromQL with the threshold in it
  (:func:`netsleuth.model.metrics.signal_queries`): what comes back are the
  breaches, with their labels and values.

Nothing here raises for the server's faults: an unreachable server (refused,
no answer within the timeout, a 5xx or a proxy's 404, a body that is not the
API's JSON) is the snapshot's ``error`` and the first such answer ends the
asking; a PromQL error status (400/422, or ``"status": "error"``) is that
signal's ``error``. Either way the snapshot carries one
:class:`~netsleuth.model.problems.LoadProblem` whose message
(:meth:`MetricsSnapshot.failure`) names the URL, what went wrong and the
signals not checked, and the rest of the analysis goes on (``scan --fail-on``
exits 6). Only a URL that cannot be a Prometheus address is a usage error
(:class:`~netsleuth.errors.QueryError`).
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from netsleuth.errors import QueryError
from netsleuth.model.metrics import (
    DEFAULTS,
    SIGNALS,
    MetricsSnapshot,
    Sample,
    SignalResult,
    Thresholds,
    presence_query,
    signal_queries,
)
from netsleuth.model.problems import Level, LoadProblem, Origin

DEFAULT_TIMEOUT = 10.0
MAX_SAMPLES = 500
"""Breaching series kept per signal (the rest are counted)."""
MAX_BODY = 32 * 1024 * 1024
"""Answers larger than this are refused (a query that matched far too much)."""


class _Unavailable(Exception):
    """The server as a whole cannot answer (stop asking)."""


class _QueryFailed(Exception):
    """One query failed (the server answered; the others may still work)."""


def check_url(url: str) -> str:
    """The base URL without a trailing slash; raises :class:`QueryError` when it is not one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise QueryError(
            f"not a Prometheus URL: {url!r}",
            tip="give the server's base URL, e.g. --prometheus http://localhost:9090 "
            "(kubectl -n monitoring port-forward svc/prometheus-k8s 9090)",
        )
    if parts.query or parts.fragment:
        raise QueryError(
            f"not a Prometheus base URL (it has a query or fragment): {url!r}",
            tip="give the base URL only, e.g. http://localhost:9090 or https://host/prometheus",
        )
    return url.strip().rstrip("/")


def _shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _instant(client: httpx.Client, base: str, query: str, at: float) -> list[Sample]:
    """One instant query; the vector it returns."""
    try:
        resp = client.get(f"{base}/api/v1/query", params={"query": query, "time": f"{at:.3f}"})
    except httpx.TimeoutException as exc:
        raise _Unavailable(f"no answer within the timeout ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise _Unavailable(f"cannot connect: {_shorten(str(exc)) or type(exc).__name__}") from exc
    body = resp.content
    if len(body) > MAX_BODY:
        raise _QueryFailed(f"answer larger than {MAX_BODY // (1024 * 1024)} MiB")
    payload: Any
    try:
        payload = resp.json()
    except ValueError:
        payload = None
    if resp.status_code != 200:
        detail = ""
        if isinstance(payload, dict) and isinstance(payload.get("error"), str):
            detail = ": " + _shorten(payload["error"])
        elif body:
            detail = ": " + _shorten(body.decode("utf-8", "replace"))
        msg = f"HTTP {resp.status_code} {resp.reason_phrase}{detail}"
        # 400/422: Prometheus refused this expression; anything else: the server or the URL
        if resp.status_code in (400, 422) and isinstance(payload, dict):
            raise _QueryFailed(msg)
        raise _Unavailable(msg)
    if not isinstance(payload, dict) or "status" not in payload:
        ctype = resp.headers.get("content-type", "?")
        raise _Unavailable(f"the answer is not the Prometheus API's JSON (content-type {ctype})")
    if payload.get("status") != "success":
        raise _QueryFailed(_shorten(str(payload.get("error") or payload.get("status"))))
    data = payload.get("data")
    if not isinstance(data, dict) or data.get("resultType") not in ("vector", "scalar"):
        raise _QueryFailed(
            f"unexpected result type {data.get('resultType') if isinstance(data, dict) else data!r}"
        )
    result = data.get("result")
    if data.get("resultType") == "scalar":
        result = [{"metric": {}, "value": result}]
    if not isinstance(result, list):
        raise _QueryFailed("malformed result (not a list)")
    out: list[Sample] = []
    for item in result:
        if not isinstance(item, dict):
            continue
        metric = item.get("metric")
        value = item.get("value")
        if not isinstance(metric, dict) or not isinstance(value, list) or len(value) != 2:
            continue
        try:
            v = float(value[1])
        except (TypeError, ValueError):
            continue
        if math.isnan(v):
            continue
        labels = tuple(sorted((str(k), str(lv)) for k, lv in metric.items()))
        out.append(Sample(labels, v))
    return out


def _problem(base: str, message: str) -> LoadProblem:
    """The one problem of a server that did not answer every query (``message`` names them)."""
    return LoadProblem(
        level=Level.DEGRADED,
        message=message,
        origin=Origin(file=f"{base}/api/v1/query", live=True),
        skipped="the checks of the queries it names",
        affects=("scan --prometheus", "trace --prometheus"),
    )


def query_prometheus(
    url: str,
    thresholds: Thresholds = DEFAULTS,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    at: float | None = None,
    transport: httpx.BaseTransport | None = None,
) -> MetricsSnapshot:
    """Ask the Prometheus at ``url`` for every signal at time ``at`` (now by default)."""
    base = check_url(url)
    when = _time.time() if at is None else at
    queries = signal_queries(thresholds)
    signals: dict[str, SignalResult] = {}
    counts: dict[str, int] = {}
    failed: dict[str, str] = {}
    with httpx.Client(
        timeout=timeout,
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": "netsleuth"},
        follow_redirects=True,
    ) as client:
        try:
            for sig in SIGNALS:
                for sel in sig.presence:
                    if sel in counts or sel in failed:
                        continue
                    try:
                        found = _instant(client, base, presence_query(sel), when)
                    except _QueryFailed as exc:
                        failed[sel] = str(exc)
                        continue
                    counts[sel] = int(sum(s.value for s in found))
            for sig in SIGNALS:
                query = queries[sig.name]
                missing = tuple(sel for sel in sig.presence if counts.get(sel, 0) == 0)
                present = tuple((sel, counts[sel]) for sel in sig.presence if counts.get(sel))
                bad = [failed[sel] for sel in sig.presence if sel in failed]
                if bad:
                    signals[sig.name] = SignalResult(name=sig.name, query=query, error=bad[0])
                    continue
                if missing:
                    signals[sig.name] = SignalResult(
                        name=sig.name, query=query, missing=missing, present=present
                    )
                    continue
                try:
                    found = _instant(client, base, query, when)
                except _QueryFailed as exc:
                    signals[sig.name] = SignalResult(name=sig.name, query=query, error=str(exc))
                    continue
                found.sort(key=lambda s: (-s.value, s.labels))
                signals[sig.name] = SignalResult(
                    name=sig.name,
                    query=query,
                    samples=tuple(found[:MAX_SAMPLES]),
                    present=present,
                    truncated=max(0, len(found) - MAX_SAMPLES),
                )
        except _Unavailable as exc:
            snap = MetricsSnapshot(
                url=base, time=when, thresholds=thresholds, error=f"Prometheus at {base}: {exc}"
            )
        else:
            snap = MetricsSnapshot(url=base, time=when, thresholds=thresholds, signals=signals)
    failure = snap.failure()
    if failure is None:
        return snap
    return replace(snap, problems=(_problem(base, failure),))
