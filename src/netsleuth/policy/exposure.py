"""Exposure: what can reach each workload from outside its namespace and from outside the cluster.

"Outside its namespace" is asked of the reference engine with every other
workload's representative pod as a client; "outside the cluster" with a
public documentation address (203.0.113.10, RFC 5737) as the client.
A workload that no policy selects for a direction is unprotected in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.policy.connlist import _representatives
from netsleuth.policy.decision import IPEndpoint, PodEndpoint
from netsleuth.policy.reference import allowed_ports, policies_selecting
from netsleuth.policy.semantics import PROTOCOLS, Direction

OUTSIDE = "203.0.113.10"


@dataclass(frozen=True, slots=True)
class Exposure:
    kind: str
    namespace: str
    name: str
    from_namespaces: str
    from_outside: str
    ingress_isolated: bool
    egress_isolated: bool

    def json(self) -> dict[str, object]:
        return {
            "workload": {"kind": self.kind, "namespace": self.namespace, "name": self.name},
            "from_other_namespaces": self.from_namespaces,
            "from_outside_cluster": self.from_outside,
            "ingress_protected": self.ingress_isolated,
            "egress_protected": self.egress_isolated,
        }


def _ports_text(sets: dict[str, object]) -> str:
    parts = []
    for proto in PROTOCOLS:
        s = sets.get(proto)
        if s:
            ranges = s.describe()  # type: ignore[attr-defined]
            parts.append(f"{proto} all" if ranges == ["1-65535"] else f"{proto} {','.join(ranges)}")
    return "; ".join(parts) or "nothing"


def exposure(model: ClusterModel) -> list[Exposure]:
    reps = _representatives(model)
    out = []
    for peer, pod in sorted(reps.items(), key=lambda kv: kv[0].key()):
        others = sorted({q.namespace for q in reps.values() if q.namespace != pod.namespace})
        sources = [
            f"{p.namespace}/{p.name}"
            for p, q in reps.items()
            if q.namespace != pod.namespace
            and any(allowed_ports(model, PodEndpoint(q), PodEndpoint(pod))["combined"].values())
        ]
        outside = allowed_ports(model, IPEndpoint(OUTSIDE), PodEndpoint(pod))["combined"]
        from_ns = (
            (
                f"{len(sources)} of {sum(1 for q in reps.values() if q.namespace != pod.namespace)} workloads "
                f"in {len(others)} other namespace(s)"
            )
            if others
            else "no other namespaces"
        )
        out.append(
            Exposure(
                kind=peer.kind,
                namespace=pod.namespace,
                name=peer.name,
                from_namespaces=from_ns,
                from_outside=_ports_text(dict(outside)),
                ingress_isolated=bool(policies_selecting(model, pod, Direction.INGRESS)),
                egress_isolated=bool(policies_selecting(model, pod, Direction.EGRESS)),
            )
        )
    return out
