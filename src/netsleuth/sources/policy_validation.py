"""NetworkPolicy validation as the API server does it, for the fields the policy engine reads.

A policy the API server would have rejected cannot exist in a cluster, and
reading it tolerantly fails open: ``podSelector: {matchLabels: [app, api]}``
read as "no labels" selects every pod, ``port: 70000`` dropped leaves a rule
for every port, ``endPort`` below ``port`` an empty or inverted range. Such a
policy is dropped whole, with a problem naming the field; the analyses then
treat the policies of its namespace as unknown (``policy.coverage``), never
as allowing.

The rules follow ``ValidateNetworkPolicy`` (pkg/apis/networking/validation)
and ``ValidateLabelSelector`` (apimachinery):

- label selectors: ``matchLabels`` a map of valid label keys to valid label
  values (strings); ``matchExpressions`` entries with a valid key, an
  operator In/NotIn (non-empty ``values``) or Exists/DoesNotExist (no
  ``values``), every value a valid label value;
- ports: ``protocol`` exactly TCP, UDP or SCTP; ``port`` a number 1–65535
  or an IANA service name (a quoted ``"80"`` is a name, and not a valid
  one); ``endPort`` only with a numeric ``port``, at least ``port``, at most
  65535;
- peers: at least one of podSelector/namespaceSelector/ipBlock, ipBlock not
  combined with a selector, ``cidr`` a CIDR, each ``except`` a CIDR strictly
  inside it, of the same family;
- ``policyTypes``: Ingress and/or Egress;
- ``metadata.name`` a DNS-1123 subdomain, ``metadata.namespace`` a label.

>>> network_policy_errors({"metadata": {"name": "p"}, "spec": {"podSelector": {"matchLabels": ["app", "api"]}}})
[('spec.podSelector.matchLabels', 'must be a map of label keys to values')]
>>> network_policy_errors({"metadata": {"name": "p"}, "spec": {"ingress": [{"ports": [{"port": 70000}]}]}})
[('spec.ingress[0].ports[0].port', 'must be between 1 and 65535, inclusive (got 70000)')]
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from netsleuth.model.untrusted import visible
from netsleuth.model.validation import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_label_key,
    is_label_value,
)

Errors = list[tuple[str, str]]

PROTOCOLS = ("TCP", "UDP", "SCTP")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_PORT_NAME_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", re.ASCII)


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else repr(visible(value))
    return text if len(text) <= 40 else text[:37] + "..."


def is_port_name(text: str) -> bool:
    """IANA_SVC_NAME: 1–15 lowercase alphanumerics and ``-``, a letter, no ``--``, no edge ``-``."""
    return (
        0 < len(text) <= 15
        and _PORT_NAME_RE.fullmatch(text) is not None
        and "--" not in text
        and any(c.isalpha() for c in text)
    )


_SPEC_KEYS = frozenset({"podSelector", "policyTypes", "ingress", "egress"})
_RULE_KEYS = {"ingress": frozenset({"from", "ports"}), "egress": frozenset({"to", "ports"})}
_PORT_KEYS = frozenset({"protocol", "port", "endPort"})
_PEER_KEYS = frozenset({"podSelector", "namespaceSelector", "ipBlock"})
_IPBLOCK_KEYS = frozenset({"cidr", "except"})
_SELECTOR_KEYS = frozenset({"matchLabels", "matchExpressions"})
_EXPRESSION_KEYS = frozenset({"key", "operator", "values"})


def _unknown(obj: dict[str, Any], known: frozenset[str], field: str) -> Errors:
    """Unknown fields: ``kubectl apply`` validates strictly (the default since 1.27) and refuses them.

    Read leniently they would change the meaning: ``ports: [{podSelector: {}}]``
    is an empty port entry, which allows every port.
    """
    return [(f"{field}.{k}" if field else str(k), "unknown field") for k in obj if k not in known]


def label_selector_errors(sel: Any, field: str) -> Errors:
    """Why ``sel`` is not a valid ``metav1.LabelSelector`` (empty list when it is)."""
    if sel is None:
        return []
    if not isinstance(sel, dict):
        return [(field, "must be a label selector (an object)")]
    errs: Errors = _unknown(sel, _SELECTOR_KEYS, field)
    ml = sel.get("matchLabels")
    if ml is not None:
        if not isinstance(ml, dict):
            errs.append((field + ".matchLabels", "must be a map of label keys to values"))
        else:
            for k, v in ml.items():
                f = f"{field}.matchLabels[{_shown(k)}]"
                if not isinstance(k, str) or not is_label_key(k):
                    errs.append((f, "is not a valid label key"))
                elif not isinstance(v, str):
                    errs.append((f, f"value must be a string (got {_shown(v)})"))
                elif not is_label_value(v):
                    errs.append((f, f"value {_shown(v)} is not a valid label value"))
    exprs = sel.get("matchExpressions")
    if exprs is not None:
        if not isinstance(exprs, list):
            errs.append((field + ".matchExpressions", "must be a list"))
            return errs
        for n, e in enumerate(exprs):
            f = f"{field}.matchExpressions[{n}]"
            if not isinstance(e, dict):
                errs.append((f, "must be an object with key and operator"))
                continue
            errs += _unknown(e, _EXPRESSION_KEYS, f)
            key, op, values = e.get("key"), e.get("operator"), e.get("values")
            if not isinstance(key, str) or not is_label_key(key):
                errs.append((f + ".key", f"is not a valid label key (got {_shown(key)})"))
            if op not in OPERATORS:
                errs.append(
                    (f + ".operator", f"must be one of {', '.join(OPERATORS)} (got {_shown(op)})")
                )
                continue
            if values is not None and not isinstance(values, list):
                errs.append((f + ".values", "must be a list of strings"))
                continue
            vals = values or []
            if op in ("In", "NotIn") and not vals:
                errs.append((f + ".values", f"must be non-empty for {op}"))
            if op in ("Exists", "DoesNotExist") and vals:
                errs.append((f + ".values", f"must be empty for {op}"))
            for m, v in enumerate(vals):
                if not isinstance(v, str) or not is_label_value(v):
                    errs.append(
                        (f"{f}.values[{m}]", f"is not a valid label value (got {_shown(v)})")
                    )
    return errs


def _port_errors(p: Any, f: str) -> Errors:
    if p is None:
        return []
    if not isinstance(p, dict):
        return [(f, "must be an object")]
    errs: Errors = _unknown(p, _PORT_KEYS, f)
    proto = p.get("protocol")
    if proto is not None and proto not in PROTOCOLS:
        errs.append((f + ".protocol", f"must be TCP, UDP or SCTP (got {_shown(proto)})"))
    port = p.get("port")
    numeric = False
    if port is None:
        pass
    elif isinstance(port, bool) or not isinstance(port, int | str):
        errs.append((f + ".port", f"must be a port number or name (got {_shown(port)})"))
    elif isinstance(port, int):
        numeric = True
        if not 1 <= port <= 65535:
            errs.append((f + ".port", f"must be between 1 and 65535, inclusive (got {port})"))
    elif not is_port_name(port):
        errs.append(
            (
                f + ".port",
                f"{_shown(port)} is not a valid port name (a quoted number is a name; names are "
                "up to 15 lowercase letters, digits and -)",
            )
        )
    end = p.get("endPort")
    if end is not None:
        if isinstance(end, bool) or not isinstance(end, int):
            errs.append((f + ".endPort", f"must be a number (got {_shown(end)})"))
        elif port is None:
            errs.append((f + ".endPort", "may not be specified when port is not specified"))
        elif not numeric:
            errs.append((f + ".endPort", "may not be specified when port is non-numeric"))
        elif isinstance(port, int) and end < port:
            errs.append((f + ".endPort", f"must be greater than or equal to port ({end} < {port})"))
        elif not 1 <= end <= 65535:
            errs.append((f + ".endPort", f"must be between 1 and 65535, inclusive (got {end})"))
    return errs


def _cidr(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if not isinstance(text, str):
        return None
    try:
        # The API server parses CIDRs "sloppily": host bits may be set.
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _peer_errors(peer: Any, f: str) -> Errors:
    if not isinstance(peer, dict):
        return [(f, "must be an object")]
    errs: Errors = _unknown(peer, _PEER_KEYS, f)
    # null is absent (a nil pointer once decoded): {namespaceSelector: null} is no peer at all
    has_sel = peer.get("podSelector") is not None or peer.get("namespaceSelector") is not None
    if peer.get("ipBlock") is None and not has_sel:
        return [(f, "must specify a peer (podSelector, namespaceSelector or ipBlock)")]
    errs += label_selector_errors(peer.get("podSelector"), f + ".podSelector")
    errs += label_selector_errors(peer.get("namespaceSelector"), f + ".namespaceSelector")
    if peer.get("ipBlock") is not None:
        if has_sel:
            errs.append((f, "may not specify both an ipBlock and a pod or namespace selector"))
        ib = peer["ipBlock"]
        if not isinstance(ib, dict):
            return [*errs, (f + ".ipBlock", "must be an object")]
        errs += _unknown(ib, _IPBLOCK_KEYS, f + ".ipBlock")
        net = _cidr(ib.get("cidr"))
        if net is None:
            errs.append(
                (f + ".ipBlock.cidr", f"must be a valid CIDR (got {_shown(ib.get('cidr'))})")
            )
        ex = ib.get("except")
        if ex is not None and not isinstance(ex, list):
            errs.append((f + ".ipBlock.except", "must be a list of CIDRs"))
        for m, e in enumerate(ex if isinstance(ex, list) else []):
            sub = _cidr(e)
            ef = f"{f}.ipBlock.except[{m}]"
            if sub is None:
                errs.append((ef, f"must be a valid CIDR (got {_shown(e)})"))
            elif net is not None and (
                sub.version != net.version or not sub.subnet_of(net) or sub == net  # type: ignore[arg-type]
            ):
                errs.append((ef, f"must be a strict subset of cidr {net} (got {sub})"))
    return errs


def network_policy_errors(raw: dict[str, Any]) -> Errors:
    """Every ``(field, why)`` for which the API server would reject this NetworkPolicy."""
    errs: Errors = []
    md = raw.get("metadata")
    if isinstance(md, dict):
        name, ns = md.get("name"), md.get("namespace")
        if isinstance(name, str) and not is_dns1123_subdomain(name):
            errs.append(("metadata.name", f"{_shown(name)} is not a valid DNS-1123 subdomain"))
        if ns is not None and (not isinstance(ns, str) or not is_dns1123_label(ns)):
            errs.append(("metadata.namespace", f"{_shown(ns)} is not a valid namespace name"))
    spec = raw.get("spec")
    if spec is None:
        return errs
    if not isinstance(spec, dict):
        return [*errs, ("spec", "must be an object")]
    errs += _unknown(spec, _SPEC_KEYS, "spec")
    errs += label_selector_errors(spec.get("podSelector"), "spec.podSelector")
    types = spec.get("policyTypes")
    if types is not None:
        if not isinstance(types, list) or len(types) > 2:
            errs.append(("spec.policyTypes", "must be a list of at most 2 entries"))
        else:
            for n, t in enumerate(types):
                if t not in ("Ingress", "Egress"):
                    errs.append(
                        (f"spec.policyTypes[{n}]", f"must be Ingress or Egress (got {_shown(t)})")
                    )
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if rules is None:
            continue
        if not isinstance(rules, list):
            errs.append((f"spec.{direction}", "must be a list of rules"))
            continue
        for n, rule in enumerate(rules):
            f = f"spec.{direction}[{n}]"
            if rule is None:
                continue
            if not isinstance(rule, dict):
                errs.append((f, "must be an object"))
                continue
            errs += _unknown(rule, _RULE_KEYS[direction], f)
            ports = rule.get("ports")
            if ports is not None and not isinstance(ports, list):
                errs.append((f + ".ports", "must be a list"))
            for m, p in enumerate(ports if isinstance(ports, list) else []):
                errs += _port_errors(p, f"{f}.ports[{m}]")
            peers = rule.get(peer_key)
            if peers is not None and not isinstance(peers, list):
                errs.append((f"{f}.{peer_key}", "must be a list of peers"))
            for m, peer in enumerate(peers if isinstance(peers, list) else []):
                errs += _peer_errors(peer, f"{f}.{peer_key}[{m}]")
    return errs
