"""Name the object to change on every broken or degraded hop.

Hops that know their culprit set :attr:`Hop.change` themselves (the
Service whose selector drifted, the policy whose ``policyTypes`` isolates,
the CNI DaemonSet). For the others the first object of the evidence is the
culprit, and a pod there stands for its top-level owner
(:func:`netsleuth.facts.attribution.workload_of`): a person changes the
Deployment, not the pod. A symptom hop followed by root-cause hops names the
root cause's object: DNS times out, but the NetworkPolicy is what to change.
"""

from __future__ import annotations

from dataclasses import replace

from netsleuth.facts.attribution import Culprit, workload_of
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Subject, Verdict
from netsleuth.model.immutable import guard_fix
from netsleuth.trace.result import Hop

_NAMED = (Verdict.BROKEN, Verdict.WARNING)


def parse_ref(text: str) -> Subject | None:
    """``Kind/ns/name`` or ``Kind/name`` as a :class:`Subject`; ``None`` for other evidence labels."""
    parts = text.split("/")
    if len(parts) == 3 and all(parts):
        return Subject(parts[0], parts[1], parts[2])
    if len(parts) == 2 and all(parts) and parts[0][:1].isupper():
        return Subject(parts[0], None, parts[1])
    return None


def culprit_from_evidence(model: ClusterModel, hop: Hop) -> tuple[Subject, str] | None:
    """The first object in the hop's evidence, a pod replaced by its managing object."""
    for e in hop.evidence:
        s = parse_ref(e.object)
        if s is None:
            continue
        if s.kind == "Pod" and s.namespace is not None:
            pod = model.pod(s.namespace, s.name)
            if pod is not None:
                c = workload_of(model, pod)
                return c.subject(), ""
        return s, e.field
    return None


def with_change(hop: Hop, culprit: Culprit | Subject | None, field: str = "") -> Hop:
    """``hop`` naming ``culprit`` as the object to change."""
    if culprit is None:
        return hop
    if isinstance(culprit, Culprit):
        return replace(hop, change=culprit.subject(), change_field=field or culprit.field)
    return replace(hop, change=culprit, change_field=field)


def attribute_hops(model: ClusterModel, hops: list[Hop]) -> tuple[Hop, ...]:
    """Every broken or warning hop with :attr:`Hop.change` set (when any object names it)."""
    out: list[Hop] = []
    for h in hops:
        if h.status in _NAMED and h.change is None:
            found = culprit_from_evidence(model, h)
            if found is not None:
                h = replace(h, change=found[0], change_field=found[1])
        out.append(h)
    # A symptom hop is fixed where its root cause is: name the cause's object on it.
    for i, h in enumerate(out):
        if h.status is not Verdict.BROKEN or h.root_cause:
            continue
        cause = next((c for c in out[i + 1 :] if c.root_cause and c.status is Verdict.BROKEN), None)
        if cause is not None and cause.change is not None:
            out[i] = replace(h, change=cause.change, change_field=cause.change_field)
    # A patch the API server would reject (an immutable field) becomes "recreate".
    for i, h in enumerate(out):
        if h.fix is not None:
            kind, ref = (h.change.kind, h.change.ref()) if h.change is not None else ("", "it")
            guarded = guard_fix(h.fix, kind, ref)
            if guarded is not h.fix:
                out[i] = replace(h, fix=guarded)
    return tuple(out)


__all__ = ["attribute_hops", "culprit_from_evidence", "parse_ref", "with_change"]
