"""POL308: NetworkPolicies exist but the CNI does not enforce them."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.cni_detect import unenforcing_cni
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="POL308",
    layer=Layer.CNI,
    severity=Severity.ERROR,
    needs=Needs(kinds=("NetworkPolicy", "DaemonSet"), require_present=True),
)
def policies_not_enforced(model: ClusterModel) -> Iterator[Finding]:
    """NetworkPolicies exist, but the cluster's CNI (plain Flannel) does not enforce them.

    What it checks: the input has NetworkPolicies and the detected CNI is
    plain Flannel (the `kube-flannel` DaemonSet) with no policy engine beside
    it (Calico/Canal, Cilium, Antrea, Weave, kube-router).

    Why it breaks traffic: the API server accepts NetworkPolicy objects
    whatever the CNI, but only the CNI enforces them. Flannel only provides
    the overlay, so every policy is silently ignored: the isolation you
    reviewed does not exist, and traffic your policies "deny" flows. Moving
    to an enforcing CNI later then breaks everything the policies never
    really allowed.

    Example:
      kubectl get ds -n kube-flannel
      NAME              DESIRED   CURRENT   READY
      kube-flannel-ds   3         3         3
      kubectl get networkpolicy -A   # 12 policies, none enforced

    Fix: run a policy engine: Canal (Flannel + Calico policy), or replace
    Flannel with Calico or Cilium; then test the policies (`netsleuth
    connectivity`) before relying on them.

    Confirm live:
      kubectl get ds -A | grep -Ei 'flannel|calico|cilium|antrea|weave|kube-router'
      kubectl get networkpolicy -A

    References:
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#prerequisites
      https://github.com/flannel-io/flannel#networking-details
    """
    if not model.network_policies:
        return
    flannel = unenforcing_cni(model)
    if flannel is None or flannel.daemonset is None:
        return
    ds = flannel.daemonset
    namespaces = sorted({p.namespace for p in model.network_policies})
    yield finding(
        "POL308",
        model,
        kind="DaemonSet",
        meta=ds.meta,
        message=f"{len(model.network_policies)} NetworkPolicies (in {', '.join(namespaces[:5])}"
        + (f" and {len(namespaces) - 5} more namespaces" if len(namespaces) > 5 else "")
        + ") are not enforced: the CNI is plain Flannel, which does not implement NetworkPolicy.",
        evidence=[
            Evidence(ref("DaemonSet", ds.meta), "detected CNI", f"flannel ({flannel.evidence})"),
            Evidence("NetworkPolicy", "count (cluster-wide)", str(len(model.network_policies))),
        ],
        confirm=(
            kubectl("get", "ds", "-A").pipe(
                "grep", "-Ei", "flannel|calico|cilium|antrea|weave|kube-router"
            ),
        ),
        fix=Fix(
            text="Add a policy engine (Canal, or move to Calico/Cilium) and test the policies before relying on them."
        ),
    )
