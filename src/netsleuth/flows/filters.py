"""``hubble observe`` filters that select exactly one side of a flow summary.

Hubble's ``--from-pod``/``--to-pod`` and ``--from-service``/``--to-service``
match a *name prefix* in the namespace (Cilium ``pkg/hubble/filters/k8s.go``):
``--to-pod shop/api`` also selects the pods of ``api-gateway`` and
``api-canary``. So a side is never printed as a bare name prefix:

- a workload (``deployment/shop/api``, the model's owner through
  ownerReferences, or the workload Hubble reported for a pod missing from the
  model): ``--to-namespace shop --to-workload api`` — Hubble compares the
  workload name exactly (the ``workloads`` field of the flow's endpoint,
  which Cilium derives from the same ownerReferences);
- a bare pod: ``--to-pod shop/NAME`` narrowed by ``--to-ip`` with the pod's
  addresses (the filters of one direction are ANDed); the prefix alone only
  when the model knows no address;
- a Service: ``--to-ip`` with its ClusterIP(s) (a flow seen before load
  balancing has it as its destination); ``--to-service`` only for a Service
  without one;
- a node, ``world``, a reserved identity or an address: nothing here (the
  callers filter by the addresses the flows showed).
"""

from __future__ import annotations

from typing import Literal

from netsleuth.model.cluster import ClusterModel

Direction = Literal["from", "to"]


def side_filters(model: ClusterModel, key: str, direction: Direction) -> list[str]:
    """The ``hubble observe`` arguments that select the side ``key`` and nothing else."""
    kind, _, rest = key.partition("/")
    ns, _, name = rest.partition("/")
    if not ns or not name or "/" in name:
        return []
    if kind == "node":
        return []
    if kind == "service":
        svc = model.service(ns, name)
        ips = _service_ips(svc.cluster_ips, svc.cluster_ip) if svc is not None else []
        if ips:
            return [arg for ip in ips for arg in (f"--{direction}-ip", ip)]
        return [f"--{direction}-service", f"{ns}/{name}"]
    if kind == "pod":
        out = [f"--{direction}-pod", f"{ns}/{name}"]
        pod = model.pod(ns, name)
        if pod is not None:
            out += [arg for ip in pod.pod_ips for arg in (f"--{direction}-ip", ip)]
        return out
    return [f"--{direction}-namespace", ns, f"--{direction}-workload", name]


def _service_ips(ips: tuple[str, ...], ip: str | None) -> list[str]:
    return [a for a in (ips or ((ip,) if ip else ())) if a and a != "None"]
