"""CNI432: Prometheus shows Cilium dropping packets for reasons other than policy."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, register
from netsleuth.checks.metric_evidence import confidence, metric_evidence, query_cmd
from netsleuth.checks.rules.cni_observed_datapath_drops import _FIX, _NODE
from netsleuth.facts.metric_breaches import Breach, breaches, node_meta
from netsleuth.flows import drop_layer, drop_meaning
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Finding, Fix, Layer, Severity, Subject
from netsleuth.model.objects import Meta


def _cilium_object(model: ClusterModel) -> tuple[str, Meta]:
    cm = model.config_map("kube-system", "cilium-config")
    if cm is not None:
        return "ConfigMap", cm.meta
    w = model.workload("DaemonSet", "kube-system", "cilium")
    if w is not None:
        return w.kind, w.meta
    return "DaemonSet", Meta(name="cilium", namespace="kube-system")


@register(
    id="CNI432",
    layer=Layer.CNI,
    severity=Severity.ERROR,
    needs=Needs(observed="metrics", signals=("hubble_datapath_drops",)),
    config=True,
)
def metrics_hubble_datapath_drops(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows Cilium dropping packets for reasons other than policy.

    What it checks:
        Hubble's ``hubble_drop_total`` (the ``drop`` metric) per node and
        drop reason over the window, policy reasons left out, asked of
        Prometheus: 1 drop/s or more (the HubbleDatapathDropsHigh alert).
        Each reason is put on its layer as CNI411 does for flows. Not
        checked when Prometheus has no ``hubble_drop_total`` series (the
        metric off, not scraped, or nothing dropped since the agents
        started).

    Why it breaks traffic:
        Datapath drops are as silent as policy drops, and no policy change
        fixes them: a route missing on the node (``FIB_LOOKUP_FAILED``), a
        full connection-tracking map (``CT_MAP_INSERTION_FAILED``), clients
        still calling a deleted pod's address (``STALE_OR_UNROUTABLE_IP``).

    Example:
        ``sum by (instance, node, reason) (rate(hubble_drop_total{reason!~"POLICY_DENIED|…"}[5m])) > 1``
        returns ``{instance="10.0.0.11:9965", reason="CT_MAP_INSERTION_FAILED"} 12``.

    Fix:
        Per reason, as CNI411: restore the node's route, raise the agent's
        CT map sizes in ``cilium-config``, make clients stop using dead pod
        IPs. ``netsleuth flows`` on ``hubble observe --verdict DROPPED``
        output names the pods involved.

    Confirm live:
        ``hubble observe --verdict DROPPED --not --type policy-verdict`` ;
        ``kubectl -n kube-system exec ds/cilium -- cilium-dbg metrics list | grep drop``.

    References:
        https://docs.cilium.io/en/stable/observability/metrics/#hubble-exported-metrics ;
        https://github.com/cilium/cilium/blob/main/pkg/monitor/api/drop.go
    """
    snap = config.metrics
    if snap is None:
        return
    groups: dict[tuple[str, str], list[Breach]] = {}
    for b in breaches(model, snap, "hubble_datapath_drops"):
        reason = b.sample.get("reason") or "DROP_REASON_UNKNOWN"
        groups.setdefault((reason, b.where), []).append(b)
    for (reason, where), found in sorted(groups.items()):
        node = found[0].node
        if reason in _NODE and node:
            kind, meta = "Node", node_meta(model, node)
        else:
            kind, meta = _cilium_object(model)
        total = sum(b.value for b in found)
        yield Finding(
            rule_id="CNI432",
            layer=drop_layer(reason),
            severity=Severity.ERROR,
            confidence=confidence(snap),
            subject=Subject(kind, meta.namespace, meta.name),
            message=f"Cilium on {where} drops {total:.3g} packets/s for {reason} over the last "
            f"{snap.thresholds.window} (Prometheus): {drop_meaning(reason)}.",
            evidence=tuple(metric_evidence(snap, found)),
            confirm=(
                query_cmd(snap, found[0].query),
                cmd(
                    "hubble", "observe", "--verdict", "DROPPED", "--not", "--type", "policy-verdict"
                ),
                kubectl(
                    "-n",
                    "kube-system",
                    "exec",
                    "ds/cilium",
                    "--",
                    "cilium-dbg",
                    "monitor",
                    "--type",
                    "drop",
                ),
            ),
            origin_file=None if meta.origin.live else meta.origin.file,
            origin_line=None if meta.origin.live else meta.origin.line,
            fix=Fix(
                text=_FIX.get(
                    reason,
                    f"Look up {reason} in the agent's logs on {where} (cilium-dbg monitor "
                    "--type drop shows each drop with its reason); netsleuth flows on "
                    "hubble observe output names the pods.",
                )
            ),
        )
