"""``Facts(model)`` memoises per model; nothing outlives the model (no module-global caches)."""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace
from pathlib import Path

from netsleuth.checks.base import load_all, run_checks
from netsleuth.facts import Facts
from netsleuth.facts.cni_detect import detect_cni
from netsleuth.policy.anp import admin_policies
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


class _Marker:
    pass


def test_facts_share_one_memo_per_model() -> None:
    model = load_offline([str(SCENARIOS / "healthy-cross-node")])
    a, b = Facts(model), Facts(model)
    assert a.cnis == b.cnis and a.cnis  # calico
    assert a.node_mtus == b.node_mtus
    assert "facts.cni" in model.memo
    # What a check asks (detect_cni) is what the trace reads (Facts.cnis): computed once.
    cached = model.memo["facts.cni"]
    assert tuple(detect_cni(model)) == cached
    assert model.memo["facts.cni"] is cached
    assert admin_policies(model) is admin_policies(model)
    # A replaced model is a different input: its memo starts empty.
    assert replace(model).memo == {}


def test_nothing_keeps_a_model_alive_after_scan_and_trace() -> None:
    """Module-global caches keyed by model identity kept up to 8 models (of 150k pods)
    alive. The memo lives on the model: once the caller drops it, it is freed."""
    model = load_offline([str(SCENARIOS / "healthy-cross-node")])
    marker = _Marker()
    model.memo["test.marker"] = marker
    ref = weakref.ref(marker)
    del marker
    run_checks(model, list(load_all().values()))
    trace(model, "checkout/checkout-web", "payments/payments-api", port=8080)
    del model
    gc.collect()
    assert ref() is None, [type(r).__name__ for r in gc.get_referrers(ref())]
