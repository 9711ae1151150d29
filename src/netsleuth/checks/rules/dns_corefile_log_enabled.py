"""DNS108: the Corefile logs every query."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.kube_dns import corefile
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(id="DNS108", layer=Layer.DNS, severity=Severity.INFO, needs=Needs(kinds=("ConfigMap",)))
def corefile_log_enabled(model: ClusterModel) -> Iterator[Finding]:
    """The Corefile has the `log` plugin on: every query is written to stdout.

    What it checks: a `log` line in the root server block of the Corefile
    (ConfigMap kube-system/coredns). `errors` is fine and is not flagged.

    Why it breaks traffic: `log` is meant to be switched on while debugging.
    Left on, it writes one line per query; at thousands of queries per second
    that costs CoreDNS CPU (adding to throttling, see DNS105) and floods the
    log pipeline. It rarely breaks traffic by itself, hence info.

    Example:
      .:53 {
          errors
          log
          cache 30
      }

    Fix: remove `log` (keep `errors`), or restrict it to classes of
    interest: `log . { class denial error }`.

    Confirm live:
      kubectl get configmap coredns -n kube-system -o jsonpath='{.data.Corefile}'
      kubectl logs -n kube-system -l k8s-app=kube-dns --tail=20

    References:
      https://coredns.io/plugins/log/
    """
    cf = corefile(model)
    if cf is None:
        return
    d = cf.get("log")
    if d is None or "class" in d.args:
        return
    cm = cf.config_map
    yield finding(
        "DNS108",
        model,
        kind="ConfigMap",
        meta=cm.meta,
        message="CoreDNS logs every query (`log` in the root block): CPU and log volume grow with query rate.",
        evidence=[
            Evidence(
                ref("ConfigMap", cm.meta),
                f"data.Corefile line {d.line}",
                " ".join(("log", *d.args)),
            )
        ],
        confirm=(kubectl("logs", "-n", "kube-system", "-l", "k8s-app=kube-dns", "--tail=20"),),
        fix=Fix(
            text="Remove `log` from the Corefile (keep `errors`), or log only `class denial error`."
        ),
    )
