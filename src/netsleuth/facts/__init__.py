"""Derived cluster facts: the one home of everything computed from the model that
more than one analysis needs (cluster DNS and pod resolvers, CNI and policy
enforcement, overlay and MTU arithmetic, kube-proxy mode and rules, CIDRs and
IPAM, Service backends, mesh membership, Ingress references, workload
ownership).

``checks`` and ``trace`` both read these facts and never each other, so a scan
and a trace of the same cluster cannot disagree. This layer sits between
``policy`` and its users; it never imports ``checks``, ``trace`` or anything
above them (import-linter enforces it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netsleuth.facts.cluster_facts import Facts

__all__ = ["Facts"]


def __getattr__(name: str) -> Any:
    # Lazy: importing one fact module (inventory needs only CNI detection) must not
    # load the policy engine that other facts use.
    if name == "Facts":
        from netsleuth.facts.cluster_facts import Facts

        return Facts
    raise AttributeError(name)
