"""DNS107: the Corefile's root server block has no cache."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.coredns_health import corefile_no_cache_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="DNS107", layer=Layer.DNS, severity=Severity.WARNING, needs=Needs(kinds=("ConfigMap",))
)
def corefile_no_cache(model: ClusterModel) -> Iterator[Finding]:
    """The Corefile has no `cache` plugin: every query goes upstream or to the API view.

    What it checks: the root server block (`.:53`) of the Corefile in
    ConfigMap kube-system/coredns has no `cache` line.

    Why it breaks traffic: without `cache`, every external lookup is
    forwarded upstream (and every negative answer of the ndots:5 search list
    too). Latency rises from well under a millisecond to the upstream's round
    trip, CoreDNS CPU rises, and upstream rate limits (the AWS VPC resolver
    allows 1024 packets per second per ENI) start dropping queries.

    Example:
      .:53 {
          errors
          kubernetes cluster.local in-addr.arpa ip6.arpa
          forward . /etc/resolv.conf
      }

    Fix: add `cache 30` to the root block (the kubeadm default).

    Confirm live:
      kubectl get configmap coredns -n kube-system -o jsonpath='{.data.Corefile}'

    References:
      https://coredns.io/plugins/cache/
    """

    yield from findings_from("DNS107", model, corefile_no_cache_faults(model))
