"""Observed traffic analysis: Hubble flows put on the model and held against the policy engine.

Public API::

    summarize(model, records, window=10.0) -> FlowSummary    one streaming pass
    FlowSummary(counts, drops, forwarded_denied, pairs, problems, lost_events, notes)
    DropGroup / ForwardedGroup / PairObservation / FlowCounts
    Resolver(model).side(flow_endpoint) -> Side              pod name, labels, IP
    drop_layer(reason) -> Layer ; drop_meaning(reason) -> str
"""

from netsleuth.flows.reasons import drop_layer, drop_meaning
from netsleuth.flows.resolve import Resolver, Side
from netsleuth.flows.summary import (
    DEFAULT_WINDOW,
    DropGroup,
    FlowCounts,
    FlowSummary,
    ForwardedGroup,
    PairObservation,
    summarize,
)

__all__ = [
    "DEFAULT_WINDOW",
    "DropGroup",
    "FlowCounts",
    "FlowSummary",
    "ForwardedGroup",
    "PairObservation",
    "Resolver",
    "Side",
    "drop_layer",
    "drop_meaning",
    "summarize",
]
