"""`trace --flows`: Hubble's last verdict for the traced pair beside the predicted hops.

The cluster (tests/data/flows/cluster) allows checkout/checkout-web -> payments/payments-api on
TCP 8080 (netpol payments/allow-from-checkout) and denies reports/report-job (default-deny,
no rule for the reports namespace). hubble-observe.json holds, for those pairs, a forwarded
connection from checkout-web (line 3) and POLICY_DENIED drops from report-job (line 15).
The disagreement cases append one flow to a copy of the file, written from those lines with
only the verdict, the time and the source port changed.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from netsleuth.cli import app

DATA = Path(__file__).resolve().parents[1] / "data" / "flows"
CLUSTER = DATA / "cluster"
FLOWS = DATA / "hubble-observe.json"
LINES = FLOWS.read_text().splitlines()


def _trace(*args: str) -> tuple[int, dict[str, object]]:
    res = CliRunner().invoke(app, ["trace", *args, "-f", str(CLUSTER), "-o", "json"])
    assert res.exit_code == 0, res.output
    return res.exit_code, json.loads(res.stdout)


def _hops(doc: dict[str, object]) -> list[dict[str, str]]:
    return doc["hops"]  # type: ignore[return-value]


def _notes(doc: dict[str, object]) -> list[str]:
    return doc["query"]["notes"]  # type: ignore[index, no-any-return]


def _observed(doc: dict[str, object]) -> list[dict[str, str]]:
    return [h for h in _hops(doc) if h["summary"].startswith("observed (Hubble)")]


def _later(line: int, *, verdict: str, reason: str | None, point: str | None) -> str:
    """Line ``line`` of the fixture, one minute later from another source port."""
    rec = json.loads(LINES[line - 1])
    flow = rec["flow"]
    flow["time"] = rec["time"] = "2026-11-20T09:20:00.000000417Z"
    flow["uuid"] = "5b1f0c2e-9a7d-4e61-8c3b-0000000000ff"
    flow["l4"]["TCP"]["source_port"] = 52000
    flow["verdict"] = verdict
    for key in ("drop_reason", "drop_reason_desc", "trace_observation_point"):
        flow.pop(key, None)
    if reason is not None:
        flow["drop_reason_desc"] = reason
        flow["drop_reason"] = 133
        flow["event_type"] = {"type": 1, "sub_type": 133}
    else:
        flow["event_type"] = {"type": 4}
    if point is not None:
        flow["trace_observation_point"] = point
    return json.dumps(rec)


def _with_line(tmp_path: Path, extra: str) -> Path:
    out = tmp_path / "flows.json"
    out.write_text(FLOWS.read_text() + extra + "\n")
    return out


def test_allowed_and_forwarded_agree() -> None:
    _, doc = _trace(
        "checkout/checkout-web", "payments/payments-api", "--port", "8080", "--flows", str(FLOWS)
    )
    (hop,) = _observed(doc)
    assert hop["status"] == "ok"
    assert "deployment/payments/payments-api TCP/8080 last FORWARDED" in hop["summary"]
    assert not any("disagree" in n for n in _notes(doc))
    assert all(h["status"] != "broken" for h in _hops(doc))


def test_denied_and_dropped_agree() -> None:
    _, doc = _trace(
        "reports/report-job", "payments/payments-api", "--port", "8080", "--flows", str(FLOWS)
    )
    assert doc["verdict"] == "broken"
    (hop,) = _observed(doc)
    # the drop was judged at the destination's ingress, where the prediction breaks too
    assert hop["layer"] == "policy-ingress" and hop["status"] == "broken"
    assert "last DROPPED (POLICY_DENIED" in hop["summary"]
    predicted = [h for h in _hops(doc) if h not in _observed(doc) and h["status"] == "broken"]
    assert [h["layer"] for h in predicted] == ["policy-ingress"]
    assert not any("disagree" in n for n in _notes(doc))


def test_dropped_although_allowed_is_a_disagreement(tmp_path: Path) -> None:
    # checkout-web -> payments-api is allowed; Hubble dropped it for policy later on
    flows = _with_line(tmp_path, _later(3, verdict="DROPPED", reason="POLICY_DENIED", point=None))
    _, doc = _trace(
        "checkout/checkout-web", "payments/payments-api", "--port", "8080", "--flows", str(flows)
    )
    assert doc["verdict"] == "broken"  # what was observed broken makes the verdict broken
    (hop,) = _observed(doc)
    assert hop["status"] == "broken" and hop["layer"] == "policy-ingress"
    assert "09:20:00" in hop["summary"]
    (note,) = [n for n in _notes(doc) if "disagree" in n]
    assert "Hubble's last verdict for deployment/checkout/checkout-web -> " in note
    assert "DROPPED (POLICY_DENIED)" in note


def test_forwarded_although_denied_is_a_disagreement(tmp_path: Path) -> None:
    # report-job -> payments-api is denied by the input's policies; Hubble delivered it later
    flows = _with_line(tmp_path, _later(15, verdict="FORWARDED", reason=None, point="TO_ENDPOINT"))
    _, doc = _trace(
        "reports/report-job", "payments/payments-api", "--port", "8080", "--flows", str(flows)
    )
    # the predicted broken hop stays; the contradiction is shown, not hidden
    assert doc["verdict"] == "broken"
    (hop,) = _observed(doc)
    assert hop["status"] == "unknown" and hop["layer"] == "policy-ingress"
    assert "last FORWARDED" in hop["summary"]
    (note,) = [n for n in _notes(doc) if "disagree" in n]
    assert "predicted broken at policy-ingress" in note and "FORWARDED" in note


def test_no_flow_of_the_pair_is_not_checked() -> None:
    _, plain = _trace("checkout/checkout-web", "payments/payments-api", "--port", "9090")
    _, doc = _trace(
        "checkout/checkout-web", "payments/payments-api", "--port", "9090", "--flows", str(FLOWS)
    )
    (hop,) = _observed(doc)
    assert hop["status"] == "not-checked"
    assert "no flow from deployment/checkout/checkout-web" in hop["summary"]
    assert "TCP 9090" in hop["summary"]
    assert hop["confirm"] and hop["confirm"][0].startswith("hubble observe ")
    # the predicted hops and the verdict are what they are without --flows
    assert _hops(doc)[:-1] == _hops(plain) and doc["verdict"] == plain["verdict"]
