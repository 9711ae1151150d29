"""Label selectors with exact Kubernetes semantics.

A ``metav1.LabelSelector`` is the AND of its ``matchLabels`` pairs and its
``matchExpressions`` requirements
(https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements).

Empty versus absent matters and is kept distinct by the callers: a
NetworkPolicy ``podSelector: {}`` selects every pod of the namespace, while a
peer *without* ``podSelector`` means "no constraint on pods" only when a
``namespaceSelector`` is present. A selector object is therefore either
``None`` (absent) or a :class:`LabelSelector` (possibly empty).

Worked examples::

    >>> sel = LabelSelector.from_match_labels({"app": "web"})
    >>> sel.matches({"app": "web", "tier": "fe"})
    True
    >>> LabelSelector().matches({})            # empty selector matches everything
    True
    >>> ne = LabelSelector(expressions=(Requirement("env", Operator.NOT_IN, frozenset({"prod"})),))
    >>> ne.matches({})                          # NotIn matches when the key is absent
    True
    >>> ne.matches({"env": "prod"})
    False
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Operator(enum.StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``matchExpressions`` entry."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator is Operator.IN:
            return self.key in labels and labels[self.key] in self.values
        if self.operator is Operator.NOT_IN:
            # Kubernetes: NotIn also matches objects that lack the key.
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator is Operator.EXISTS:
            return self.key in labels
        return self.key not in labels

    def describe(self) -> str:
        if self.operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
            return (
                f"{self.key} {self.operator}"
                if self.operator is Operator.EXISTS
                else f"!{self.key}"
            )
        vals = ",".join(sorted(self.values))
        op = "in" if self.operator is Operator.IN else "notin"
        return f"{self.key} {op} ({vals})"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A label selector. ``labels`` are the ``matchLabels`` pairs, sorted.

    ``invalid`` holds the reason when the selector could not be parsed as
    the API server would (e.g. ``In`` with no values); an invalid selector
    matches nothing, which is what the API server's validation would have
    prevented from existing at all.
    """

    labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[Requirement, ...] = ()
    invalid: str | None = None

    @staticmethod
    def from_match_labels(labels: Mapping[str, str]) -> LabelSelector:
        return LabelSelector(labels=tuple(sorted(labels.items())))

    @property
    def is_empty(self) -> bool:
        """True for ``{}``: it selects every object."""
        return not self.labels and not self.expressions and self.invalid is None

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.invalid is not None:
            return False
        for k, v in self.labels:
            if labels.get(k) != v:
                return False
        return all(r.matches(labels) for r in self.expressions)

    def requirements(self) -> tuple[Requirement, ...]:
        """matchLabels folded into ``In`` requirements, then the expressions."""
        return (
            tuple(Requirement(k, Operator.IN, frozenset({v})) for k, v in self.labels)
            + self.expressions
        )

    def describe(self) -> str:
        if self.invalid is not None:
            return f"<invalid: {self.invalid}>"
        if self.is_empty:
            return "{} (all)"
        parts = [f"{k}={v}" for k, v in self.labels]
        parts += [r.describe() for r in self.expressions]
        return ",".join(parts)
