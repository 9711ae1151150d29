"""Plain-words provenance of a :class:`~netsleuth.policy.decision.Decision`.

One function, :func:`explain_text`, shared by ``explain``, ``trace``,
``diff`` and the HTML map, so every surface prints the same reasons. It
only formats what the engine put in the decision; it decides nothing.
"""

from __future__ import annotations

from netsleuth.model.intervals import IntervalSet
from netsleuth.policy.decision import Decision, DirectionDecision, TierDecision


def _verdict(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


def _tier_lines(t: TierDecision, indent: str, word: str) -> list[str]:
    short = "ANP" if t.tier == "AdminNetworkPolicy" else "BANP"
    names = ", ".join(r.describe() for r in t.subjects)
    if not t.subjects:
        return [f"{indent}{short}: none with {word} rules selects the pod"]
    if t.rule is not None:
        head = f"{indent}{short}: {t.rule.describe()} -> {t.action}"
    else:
        head = f"{indent}{short}: selected by {names}; no rule matched, next tier decides"
    lines = [head]
    for m in t.misses:
        lines.append(f"{indent}  skipped {m.describe()}")
    return lines


def direction_lines(d: DirectionDecision, indent: str = "  ") -> list[str]:
    """The lines for one direction: the verdict first, then why."""
    word = d.direction.lower()
    lines = [f"{word}: {_verdict(d.allowed)} — {d.reason}"]
    if d.admin is not None:
        lines.extend(_tier_lines(d.admin, indent, word))
    if d.selecting:
        lines.append(f"{indent}selected by: " + ", ".join(r.describe() for r in d.selecting))
        for m in d.allowed_by:
            lines.append(f"{indent}allowed by {m.describe()}")
        if not d.allowed:
            if not d.misses:
                lines.append(
                    f"{indent}the selecting policies have no {d.direction.lower()} rules: "
                    "they allow nothing"
                )
            for miss in d.misses:
                lines.append(f"{indent}no match: {miss.describe()}")
    if d.baseline is not None:
        lines.extend(_tier_lines(d.baseline, indent, word))
    return lines


def explain_text(decision: Decision) -> list[str]:
    """Plain-words lines: the overall verdict, then egress and ingress reasons.

    Example (egress allowed, ingress denied)::

        pod x/a -> pod y/b on 80/TCP: denied
        egress: allowed — not isolated for egress: default allow
        ingress: denied — ingress denied: isolated by netpol y/deny-all and no ingress rule admits it
          selected by: netpol y/deny-all
          the selecting policies have no ingress rules: they allow nothing
    """
    head = (
        f"{decision.src.describe()} -> {decision.dst.describe()} on "
        f"{decision.port}/{decision.protocol}: {_verdict(decision.allowed)}"
    )
    return [head, *direction_lines(decision.egress), *direction_lines(decision.ingress)]


def describe_port_sets(sets: dict[str, IntervalSet]) -> str:
    """``TCP 80,443; UDP none`` — compact, every protocol listed."""
    parts = []
    for proto, s in sets.items():
        if s.size() == 65535:
            parts.append(f"{proto} all")
        elif not s:
            parts.append(f"{proto} none")
        else:
            parts.append(f"{proto} {','.join(s.describe())}")
    return "; ".join(parts)
