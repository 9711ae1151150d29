"""SVC206: EndpointSlices disagree with pod readiness."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.service_backends import selected_pods
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Pod


@register(
    id="SVC206",
    layer=Layer.ENDPOINTS,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Service", "Pod", "EndpointSlice"), require_present=True),
)
def slice_readiness_mismatch(model: ClusterModel) -> Iterator[Finding]:
    """EndpointSlices disagree with pod readiness (stale or wrong endpoints).

    What it checks: for Services with a selector and EndpointSlices in the
    input: a slice endpoint marked ready whose pod is not Ready (or no longer
    exists), and a Ready, selected pod with an IP that is in no slice.
    Services with `publishNotReadyAddresses` are exempt from the first.

    Why it breaks traffic: kube-proxy programs what the slices say, not what
    the pods say. A ready endpoint for a dead or unready pod sends a share of
    connections into a black hole (timeouts for 1 in N requests); a Ready pod
    missing from the slices gets no traffic. Either means the EndpointSlice
    controller is behind or broken (kube-controller-manager down, API
    pressure), or the slices are managed by hand and stale.

    Example:
      # EndpointSlice
      endpoints:
      - addresses: [10.244.1.7]
        conditions: {ready: true}
        targetRef: {kind: Pod, name: web-5f6d-x}   # pod is not Ready

    Fix: check kube-controller-manager health and logs (EndpointSlice
    controller); for hand-managed slices, fix whatever writes them.

    Confirm live:
      kubectl get endpointslices -n <ns> -l kubernetes.io/service-name=<svc> -o wide
      kubectl get pods -n <ns> -l <selector> -o wide
      kubectl -n kube-system logs -l component=kube-controller-manager | grep -i endpointslice

    References:
      https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/#conditions
    """
    for svc in model.services:
        slices = [s for s in model.slices_for(svc) if not s.meta.derived]
        if not slices or not svc.has_selector or svc.type == "ExternalName":
            continue
        pods = [p for p in selected_pods(model, svc) if not p.meta.derived]
        by_name = {p.name: p for p in pods}
        problems: list[tuple[str, Evidence]] = []
        in_slices: set[str] = set()
        for sl in slices:
            for ep in sl.endpoints:
                in_slices.update(ep.addresses)
                pod: Pod | None = None
                if ep.target is not None and ep.target.kind == "Pod":
                    pod = by_name.get(ep.target.name) or model.pod(svc.namespace, ep.target.name)
                else:
                    cands = [
                        p
                        for a in ep.addresses
                        for p in model.pods_by_ip.get(a, ())
                        if not p.host_network
                    ]
                    pod = cands[0] if cands else None
                if svc.publish_not_ready_addresses or not ep.is_ready or ep.terminating:
                    continue
                addr = ",".join(ep.addresses)
                if pod is None and ep.target is not None and ep.target.kind == "Pod":
                    problems.append(
                        (
                            f"ready endpoint {addr} points at pod {ep.target.name}, which does not exist",
                            Evidence(
                                ref("EndpointSlice", sl.meta),
                                f"endpoints[{addr}].targetRef",
                                f"Pod/{ep.target.name} (absent)",
                            ),
                        )
                    )
                elif pod is not None and not pod.ready:
                    problems.append(
                        (
                            f"endpoint {addr} is ready but pod {pod.name} is not Ready",
                            Evidence(
                                ref("EndpointSlice", sl.meta),
                                f"endpoints[{addr}].conditions.ready",
                                "true",
                            ),
                        )
                    )
        for p in pods:
            if (
                p.ready
                and not p.terminating
                and p.pod_ips
                and not any(ip in in_slices for ip in p.pod_ips)
            ):
                problems.append(
                    (
                        f"Ready pod {p.name} ({p.ip}) is in no slice",
                        Evidence(ref("Pod", p.meta), "status.podIP", p.ip or ""),
                    )
                )
        if not problems:
            continue
        yield finding(
            "SVC206",
            model,
            kind="Service",
            meta=svc.meta,
            message=f"EndpointSlices of Service {svc.namespace}/{svc.name} disagree with pod readiness: "
            + "; ".join(t for t, _ in problems[:3])
            + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
            + ".",
            evidence=[e for _, e in problems[:5]],
            confirm=(
                kubectl(
                    "get",
                    "endpointslices",
                    "-n",
                    svc.namespace,
                    "-l",
                    f"kubernetes.io/service-name={svc.name}",
                    "-o",
                    "wide",
                ),
                kubectl(
                    "-n",
                    "kube-system",
                    "logs",
                    "-l",
                    "component=kube-controller-manager",
                    "--tail=100",
                ),
            ),
            fix=Fix(
                text="Check the EndpointSlice controller (kube-controller-manager) or whatever writes these "
                "slices; they should follow pod readiness within seconds."
            ),
        )
