"""Event messages that mean a pod could not get an IP address, or a sandbox.

Shared by CNI403 (sandbox creation failed) and CNI407 (IP allocation
failed), so an IPAM failure is reported once, by CNI407.
"""

from __future__ import annotations

import re

from netsleuth.model.objects import Event

# host-local: "failed to allocate for range 0: no IP addresses available in range set"
# Calico: "failed to request IPv4 addresses: ... no more free affine blocks"
# AWS VPC CNI: "failed to assign an IP address to container",
#   EC2 "InsufficientFreeAddressesInSubnet"
# Cilium: "unable to allocate IP via local cilium agent: ... range is full"
IP_ALLOCATION_FAILURE = re.compile(
    r"failed to allocate for range|no IP addresses available|InsufficientFreeAddressesInSubnet|"
    r"failed to assign an IP address to container|no more free affine blocks|"
    r"unable to allocate IP|IP pool (?:is )?exhausted|range is full",
    re.IGNORECASE,
)


def is_ip_allocation_failure(event: Event) -> bool:
    return bool(IP_ALLOCATION_FAILURE.search(event.message))


def is_sandbox_failure(event: Event) -> bool:
    return event.reason == "FailedCreatePodSandBox" or (
        "failed to setup network for sandbox" in event.message
        or "NetworkPlugin cni failed" in event.message
    )
