"""The API server's syntax rules for names and labels, to tell real objects from forged ones.

An object the API server would have rejected cannot exist in a cluster: in
a dump it is hand-edited, corrupted or planted (a Service named
``api`touch x```, a label value ``web'; touch x; echo '``). Such text is
still shown (escaped) and quoted in commands, and flagged as suspicious.

Rules (k8s.io/apimachinery/pkg/util/validation):

- DNS-1123 label: at most 63 characters, lowercase alphanumerics and
  ``-``, starting and ending alphanumeric (Namespace names).
- DNS-1035 label: the same, starting with a letter (Service names).
- DNS-1123 subdomain: at most 253 characters, DNS-1123 labels joined by
  ``.`` (most object names: Pod, Deployment, Node, NetworkPolicy…).
- Qualified name (label keys): an optional DNS-1123 subdomain prefix and
  ``/``, then a name of at most 63 characters of alphanumerics, ``-``,
  ``_``, ``.``, starting and ending alphanumeric.
- Label value: empty, or at most 63 characters like the name part.

>>> is_dns1123_label("shop"), is_dns1123_label("shop$(touch x)")
(True, False)
>>> is_dns1035_label("1api"), is_dns1123_subdomain("web-7d9f.abc")
(False, True)
>>> is_label_key("app.kubernetes.io/name"), is_label_key("/name"), is_label_value("")
(True, False, True)
>>> name_problem("Service", "api`touch x`")
'is not a valid DNS-1035 label (lowercase letters, digits and -, starting with a letter, at most 63 characters)'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", re.ASCII)
_DNS1035_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?", re.ASCII)
_SUBDOMAIN_RE = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", re.ASCII
)
_QUALIFIED_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", re.ASCII)


def is_dns1123_label(text: str) -> bool:
    return len(text) <= 63 and _LABEL_RE.fullmatch(text) is not None


def is_dns1035_label(text: str) -> bool:
    return len(text) <= 63 and _DNS1035_RE.fullmatch(text) is not None


def is_dns1123_subdomain(text: str) -> bool:
    return len(text) <= 253 and _SUBDOMAIN_RE.fullmatch(text) is not None


def is_label_key(text: str) -> bool:
    """A qualified name: ``[prefix/]name`` (label and annotation keys, selector keys)."""
    prefix, slash, name = text.rpartition("/")
    if slash and not (prefix and is_dns1123_subdomain(prefix)):
        return False
    return len(name) <= 63 and _QUALIFIED_NAME_RE.fullmatch(name) is not None


def is_label_value(text: str) -> bool:
    return text == "" or (len(text) <= 63 and _QUALIFIED_NAME_RE.fullmatch(text) is not None)


def is_path_segment_name(text: str) -> bool:
    """The rule for names of kinds we do not know: not ``.``/``..``, no ``/`` or ``%``, printable."""
    return (
        bool(text)
        and text not in (".", "..")
        and "/" not in text
        and "%" not in text
        and text.isprintable()
    )


_LABEL_KINDS = frozenset({"Namespace"})
_DNS1035_KINDS = frozenset({"Service"})
_SUBDOMAIN_KINDS = frozenset(
    {
        "Node",
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "EndpointSlice",
        "Endpoints",
        "NetworkPolicy",
        "Ingress",
        "IngressClass",
        "ConfigMap",
        "Secret",
        "Event",
        "Gateway",
        "GatewayClass",
        "HTTPRoute",
        "GRPCRoute",
        "TLSRoute",
        "TCPRoute",
        "UDPRoute",
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
        "VirtualService",
        "DestinationRule",
        "ServiceEntry",
        "PeerAuthentication",
        "AuthorizationPolicy",
        "Sidecar",
    }
)

_RULES = {
    "label": "is not a valid DNS-1123 label (lowercase letters, digits and -, at most 63 characters)",
    "1035": "is not a valid DNS-1035 label (lowercase letters, digits and -, starting with a letter, "
    "at most 63 characters)",
    "subdomain": "is not a valid DNS-1123 subdomain (lowercase letters, digits, - and ., "
    "at most 253 characters)",
    "segment": "is not a valid object name (empty, '.', '..', or holding '/', '%' or control characters)",
}


def name_problem(kind: str, name: str) -> str | None:
    """Why ``name`` is not a valid ``metadata.name`` for ``kind`` (``None`` when it is)."""
    if kind in _LABEL_KINDS:
        return None if is_dns1123_label(name) else _RULES["label"]
    if kind in _DNS1035_KINDS:
        return None if is_dns1035_label(name) else _RULES["1035"]
    if kind in _SUBDOMAIN_KINDS:
        return None if is_dns1123_subdomain(name) else _RULES["subdomain"]
    return None if is_path_segment_name(name) else _RULES["segment"]


def namespace_problem(namespace: str) -> str | None:
    """Why ``namespace`` is not a valid namespace name (``None`` when it is)."""
    return None if is_dns1123_label(namespace) else _RULES["label"]


def label_problems(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(key, why)`` for every label whose key or value breaks the label syntax."""
    out = []
    for k, v in labels.items():
        if not is_label_key(k):
            out.append(
                (k, "key is not a valid label key ([prefix/]name, name at most 63 characters)")
            )
        elif not is_label_value(v):
            out.append(
                (k, "value is not a valid label value (at most 63 letters, digits, -, _, .)")
            )
    return out


def labels_valid(labels: Mapping[str, str]) -> bool:
    return all(is_label_key(k) and is_label_value(v) for k, v in labels.items())
