"""How NetworkPolicy treats ``hostNetwork`` pods: the plugin's choice, made explicit.

Kubernetes leaves NetworkPolicy on ``hostNetwork`` pods to the network
plugin and names two behaviours: the plugin cannot tell their traffic from
the node's (the most common implementation, and netsleuth's default, ``node``),
or it can and treats them like other pods (``pod``; what network-config-analyzer
assumes). The engines implement the first; :func:`policy_view` turns the
second into the first's terms by presenting the hostNetwork pods as ordinary
pods whose address is their node's.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports HostNetworkMode at start: keep this module light
    from netsleuth.model.cluster import ClusterModel
    from netsleuth.model.objects import Pod


class HostNetworkMode(StrEnum):
    NODE = "node"
    """hostNetwork pods are the node: no policy selects them; only ipBlocks on the node IP match."""
    POD = "pod"
    """hostNetwork pods are pods: selected and matched by labels, addressed by the node IP."""


def _as_pod(pod: Pod) -> Pod:
    if not pod.host_network:
        return pod
    ips = pod.pod_ips or ((pod.host_ip,) if pod.host_ip else ())
    return dataclasses.replace(
        pod, spec=dataclasses.replace(pod.spec, host_network=False), pod_ips=ips
    )


def policy_view(model: ClusterModel, mode: HostNetworkMode = HostNetworkMode.NODE) -> ClusterModel:
    """``model`` as the policy engines should see it under ``mode``.

    Only the policy commands use this view; the tracer keeps the real flags
    (a hostNetwork pod's packets still leave from the node).
    """
    from netsleuth.model.cluster import all_objects, build_model
    from netsleuth.model.objects import Pod

    if mode is HostNetworkMode.NODE or not any(p.host_network for p in model.pods):
        return model
    objs = [_as_pod(o) if isinstance(o, Pod) else o for o in all_objects(model)]
    return build_model(objs, model.problems, source=model.source, derive_pods=False)
