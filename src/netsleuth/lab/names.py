"""Names of everything a lab creates, and the rules that keep labs apart.

Every object a lab creates on the host is named from one prefix,
``netsleuth-<lab>-``: network namespaces, the ``/etc/netns/<netns>/``
folders that ``ip netns exec`` bind-mounts as the pod's ``/etc/resolv.conf``,
and the state folder ``/run/netsleuth/labs/<lab>/`` whose path appears on the
command line of every process the lab starts (dnsmasq, the responder). Links,
bridges, routes and iptables rules live only inside those namespaces, so
deleting the namespaces removes them; the host namespace is never touched.

A lab name is lower-case letters and digits only (no ``-``), so the prefix
of lab ``a`` (``netsleuth-a-``) is never a prefix of lab ``ab``'s
(``netsleuth-ab-``) nor of anything of lab ``a-b`` (which cannot exist):
two labs cannot collide, and ``lab down NAME`` after a crash finds exactly
that lab's objects by prefix.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "netsleuth-"
STATE_ROOT = "/run/netsleuth/labs"
NETNS_ETC = "/etc/netns"
NETNS_RUN = "/run/netns"
MAX_LAB_NAME = 16

_LAB_NAME = re.compile(rf"^[a-z0-9]{{1,{MAX_LAB_NAME}}}$")
_SAFE = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,100}[a-z0-9])?$")


class LabNameError(ValueError):
    """A lab name that is not 1-16 lower-case letters and digits."""


def check_lab_name(name: str) -> str:
    if not _LAB_NAME.match(name):
        raise LabNameError(
            f"lab name {name!r} must be 1-{MAX_LAB_NAME} lower-case letters and digits "
            "(no '-', so that two labs' object names can never share a prefix)"
        )
    return name


def lab_prefix(lab: str) -> str:
    """``netsleuth-<lab>-``: the start of every namespace the lab creates."""
    return f"{PREFIX}{check_lab_name(lab)}-"


def short_hash(*parts: str, n: int = 8) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:n]


def _safe_part(text: str) -> str:
    """A Kubernetes name as it is when it is a plain DNS name, else a hash of it.

    Names come from the cluster and are untrusted: anything outside
    ``[a-z0-9.-]`` (or too long) is replaced by its hash, so a name can never
    reach a command line or a path as anything but an inert token.
    """
    return text if _SAFE.match(text) else "h" + short_hash(text, n=12)


def wan_netns(lab: str) -> str:
    return lab_prefix(lab) + "wan"


def node_netns(lab: str, node: str) -> str:
    return lab_prefix(lab) + "n-" + _safe_part(node)


def pod_netns(lab: str, namespace: str, name: str) -> str:
    return lab_prefix(lab) + "p-" + _safe_part(namespace) + "." + _safe_part(name)


def host_veth(namespace: str, name: str) -> str:
    """The node-side end of a pod's veth (15 characters at most, like a CNI's)."""
    return "veth" + short_hash(namespace, name)


def state_dir(lab: str) -> str:
    return f"{STATE_ROOT}/{check_lab_name(lab)}"


def owns_netns(lab: str, netns: str) -> bool:
    return netns.startswith(lab_prefix(lab))


def lab_of_netns(netns: str) -> str | None:
    """The lab a namespace name belongs to, or ``None`` when it is not a lab's."""
    if not netns.startswith(PREFIX):
        return None
    rest = netns[len(PREFIX) :]
    lab, sep, tail = rest.partition("-")
    if not sep or not tail or not _LAB_NAME.match(lab):
        return None
    if tail != "wan" and not tail.startswith(("n-", "p-")):
        return None
    return lab
