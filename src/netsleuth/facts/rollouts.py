"""Rollouts by selector switch (blue/green): a Service moved to pods that are not Ready yet.

A blue/green release keeps two Deployments (``version: blue``, ``version:
green``) and moves traffic by changing one key of the Service's selector. If
the switch happens before the new pods are Ready, the Service selects only
not-Ready pods while Ready pods that differ in that one key sit unselected:
the fix is to switch back (roll back the selector), not to debug the Service.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsleuth.facts.service_backends import selected_pods
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Pod, Service


@dataclass(frozen=True, slots=True)
class SelectorSwitch:
    key: str
    """The selector key the switch changed (``version``, ``color``, ``track``…)."""
    selected_value: str
    ready_value: str
    """The value the Ready, unselected pods carry: what to switch back to."""
    selected: tuple[Pod, ...]
    ready: tuple[Pod, ...]


def premature_switch(model: ClusterModel, svc: Service) -> SelectorSwitch | None:
    """The switch when every selected pod is not Ready while Ready pods of the same app
    differ from the selector in exactly one key (all with the same value)."""
    selector = svc.selector or {}
    if len(selector) < 2:
        return None  # one key is the app itself: no "other colour" to compare with
    selected = [p for p in selected_pods(model, svc) if not p.meta.derived]
    if not selected or any(p.ready for p in selected):
        return None
    pods = [p for p in model.pods_by_namespace.get(svc.namespace, ()) if not p.meta.derived]
    for key, value in sorted(selector.items()):
        rest = {k: v for k, v in selector.items() if k != key}
        ready = [
            p
            for p in pods
            if p.ready
            and key in p.labels
            and p.labels[key] != value
            and all(p.labels.get(k) == v for k, v in rest.items())
        ]
        values = {p.labels[key] for p in ready}
        if ready and len(values) == 1:
            return SelectorSwitch(key, value, values.pop(), tuple(selected), tuple(ready))
    return None


__all__ = ["SelectorSwitch", "premature_switch"]
