"""A fault: a problem the input shows about one object, described once.

A check turns a fault into a :class:`~netsleuth.model.findings.Finding` (adding
its rule ID, confidence and source line); the tracer turns the same fault into
a hop when the object is on the traced path. Both read the same fact function,
so ``scan`` and ``trace`` cannot disagree about it, and a better message,
fix or command written here shows in both.

The fault functions live with the facts they are about (``conntrack``,
``overlay_mtu``, ``kube_proxy_rules``, ``cni_health``, ``ipam``,
``coredns_health``); the check modules keep the documentation page and the
registration.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from netsleuth.facts.attribution import Culprit
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.objects import Meta


def culprit_subject(culprit: Culprit) -> tuple[str, Meta]:
    """``(kind, meta)`` of the object to change from an attribution: the object's metadata
    when the input holds it, else a bare one with its name (no manifest location)."""
    meta = culprit.meta or Meta(name=culprit.name, namespace=culprit.namespace)
    return culprit.kind, meta


def ref(kind: str, meta: Meta) -> str:
    """``Kind/namespace/name`` (or ``Kind/name``) for evidence."""
    return f"{kind}/{meta.namespace}/{meta.name}" if meta.namespace else f"{kind}/{meta.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """One verified problem about one object (``kind``/``meta``), with its evidence,
    the commands that confirm it live and the fix."""

    layer: Layer
    severity: Severity
    kind: str
    meta: Meta
    message: str
    evidence: tuple[Evidence, ...] | list[Evidence] = ()
    confirm: tuple[Command, ...] = ()
    fix: Fix | None = None
    artifacts: bool = False
    """Read from node artifacts (the finding's confidence says so)."""
    also: tuple[Meta, ...] = ()
    """Other objects the fault rests on (their ``derived`` flag lowers the confidence)."""

    @property
    def subject(self) -> str:
        return ref(self.kind, self.meta)

    def objects(self) -> set[str]:
        """Every object the fault names: its subject and its evidence objects."""
        return {self.subject, *(e.object for e in self.evidence)}

    def about(self, refs: Iterable[str]) -> bool:
        """The fault names one of ``refs`` (``Node/worker-1``, ``Service/ns/name``…)."""
        wanted = set(refs)
        return self.subject in wanted or any(e.object in wanted for e in self.evidence)


def faults_of(
    model: ClusterModel, fn: Callable[..., Iterable[Fault]], *args: Hashable
) -> tuple[Fault, ...]:
    """``fn(model, *args)`` once per model (the trace asks for the same faults on every hop)."""
    key = f"faults:{fn.__module__}.{fn.__qualname__}:{args!r}"
    return model.memoised(key, lambda: tuple(fn(model, *args)))
