"""CNI407: events show the CNI could not allocate an IP address."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.ipam import ipam_allocation_failed_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="CNI407",
    layer=Layer.IPAM,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Event",), require_present=True),
)
def ipam_allocation_failed(model: ClusterModel) -> Iterator[Finding]:
    """Events show the CNI could not allocate an IP address.

    What it checks:
        Events whose message is an IPAM failure: host-local "failed to
        allocate for range" / "no IP addresses available in range set",
        Calico "no more free affine blocks", Cilium "unable to allocate IP",
        and the AWS VPC CNI's "failed to assign an IP address to container"
        and EC2 ``InsufficientFreeAddressesInSubnet``. One finding per
        node (or per object when the node is unknown).

    Why it breaks traffic:
        A pod that gets no IP never starts: deployments cannot scale, rolling
        updates stall with old pods gone, and Services lose endpoints.

    Example:
        Pod ``shop/web-1`` on ``worker-1``: "failed to allocate for range 0:
        no IP addresses available in range set: 10.244.1.1-10.244.1.14"
        (a /28 podCIDR).

    Fix:
        Give the node or subnet more addresses: a larger node podCIDR
        (``--node-cidr-mask-size``), a lower ``maxPods``, more IP pool blocks,
        prefix delegation or larger subnets on AWS; clean leaked
        allocations (host-local keeps them in /var/lib/cni/networks).

    Confirm live:
        ``kubectl get events -A | grep -Ei "no IP addresses|failed to allocate|InsufficientFreeAddresses"``;
        ``ls /var/lib/cni/networks/*/ | wc -l`` on the node (host-local);
        ``kubectl get node <node> -o jsonpath='{.spec.podCIDR}'``.

    References:
        https://www.cni.dev/plugins/current/ipam/host-local/ ;
        https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/troubleshooting.md
    """

    yield from findings_from("CNI407", model, ipam_allocation_failed_faults(model))
