"""AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1).

The loader keeps these objects as :class:`~netsleuth.model.objects.CustomObject`
(``spec`` as parsed); :func:`admin_policies` turns them into the frozen
typed form below. Analysis never imports ``sources``, so the selector
decoding is repeated here, with the same rules (an invalid selector
matches nothing).

Semantics (https://network-policy-api.sigs.k8s.io/reference/spec/, v0.1.x):

- **Tiers.** For each direction, ANPs whose ``subject`` selects the pod are
  evaluated by ascending ``priority`` (0 first), rules in list order; the
  first rule whose peers and ports match decides: ``Allow`` and ``Deny`` are
  final, ``Pass`` skips the remaining ANPs and hands the decision to the
  NetworkPolicy tier. If no ANP rule matched, NetworkPolicy decides. If no
  NetworkPolicy isolates the pod in that direction, the BANP (the singleton
  named ``default``; every BANP given is used, in name order) decides with
  ``Allow``/``Deny``. Otherwise the traffic is allowed.
- Two ANPs with the same priority are undefined upstream; here ties are
  broken by name, and the decision says so nowhere else: avoid them.
- **Subject**: ``namespaces`` (a namespace selector: all pods of the
  matching namespaces) or ``pods`` (``namespaceSelector`` AND
  ``podSelector``). hostNetwork pods are never subjects.
- **Peers**: ``namespaces``, ``pods`` (both directions; the early v1alpha1
  form ``namespaces: {namespaceSelector, sameLabels, notSameLabels}`` of
  v0.1.0-v0.1.4 is read too); ``nodes`` (a node
  label selector, egress only: matches traffic to any address of a
  matching node, hence also to hostNetwork pods on it); ``networks``
  (CIDRs, egress only: match any destination address — pod IPs too).
  ``from``/``to`` must list at least one peer; an empty list matches
  nothing.
- **Ports**: ``portNumber`` ``{protocol, port}``, ``namedPort`` (resolved
  against the destination pod's container ports by name; the protocol is
  the container port's), ``portRange`` ``{protocol, start, end}``
  inclusive. No ``ports``: every port and protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import CustomObject
from netsleuth.model.selectors import LabelSelector, Operator, Requirement

ANP_KIND = "AdminNetworkPolicy"
BANP_KIND = "BaselineAdminNetworkPolicy"
ACTIONS = ("Allow", "Deny", "Pass")


@dataclass(frozen=True, slots=True)
class AdminSubject:
    """``subject``: ``pod_selector`` ``None`` means the ``namespaces`` form (all pods)."""

    namespace_selector: LabelSelector
    pod_selector: LabelSelector | None = None


@dataclass(frozen=True, slots=True)
class AdminPeer:
    """One ``from``/``to`` entry; exactly one of the four forms is set."""

    namespaces: LabelSelector | None = None
    pods: tuple[LabelSelector, LabelSelector] | None = None
    """(namespaceSelector, podSelector)."""
    nodes: LabelSelector | None = None
    networks: tuple[str, ...] | None = None
    same_labels: tuple[str, ...] = ()
    """Early v1alpha1 (v0.1.0-v0.1.4) ``sameLabels``: the peer namespace must carry
    each key with the same value as the subject pod's namespace."""
    not_same_labels: tuple[str, ...] = ()
    """Early v1alpha1 ``notSameLabels``: the peer namespace must carry each key
    with a value different from the subject pod's namespace."""

    def describe(self) -> str:
        if self.namespaces is not None:
            return f"namespaces {self.namespaces.describe()}"
        if self.pods is not None:
            return f"pods {self.pods[1].describe()} in namespaces {self.pods[0].describe()}"
        if self.nodes is not None:
            return f"nodes {self.nodes.describe()}"
        if self.networks is not None:
            return f"networks {', '.join(self.networks)}"
        return "nothing (malformed peer)"


@dataclass(frozen=True, slots=True)
class AdminPort:
    """One ``ports`` entry: ``kind`` is portNumber, namedPort or portRange."""

    kind: str
    protocol: str = "TCP"
    start: int = 0
    end: int = 0
    name: str | None = None

    def describe(self) -> str:
        if self.kind == "namedPort":
            return f"named port {self.name}"
        if self.start == self.end:
            return f"{self.start}/{self.protocol}"
        return f"{self.start}-{self.end}/{self.protocol}"


@dataclass(frozen=True, slots=True)
class AdminRule:
    name: str
    action: str
    peers: tuple[AdminPeer, ...]
    ports: tuple[AdminPort, ...] | None
    """``None``: the rule has no ``ports`` (every port)."""


@dataclass(frozen=True, slots=True)
class AdminPolicy:
    """An ANP (``priority`` set) or the BANP (``priority`` None)."""

    kind: str
    name: str
    priority: int | None
    subject: AdminSubject | None
    """``None`` when the subject is malformed: the policy then selects nothing."""
    ingress: tuple[AdminRule, ...] = ()
    egress: tuple[AdminRule, ...] = ()
    derived: bool = False


@dataclass(frozen=True, slots=True)
class AdminPolicies:
    """The decoded ANPs (sorted by priority, then name), BANPs, and decoding problems."""

    anps: tuple[AdminPolicy, ...] = ()
    banps: tuple[AdminPolicy, ...] = ()
    problems: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.anps or self.banps)


# --------------------------------------------------------------------------- decoding


class _Problems:
    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[str] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(f"{self.where}: {field}: {message}")


def parse_selector(obj: Any, probs: _Problems, field: str) -> LabelSelector:
    """A metav1.LabelSelector from a dict; malformed parts make it invalid (matches nothing)."""
    if obj is None:
        return LabelSelector()
    if not isinstance(obj, Mapping):
        probs.add(field, "not a label selector")
        return LabelSelector(invalid="not an object")
    labels_raw = obj.get("matchLabels") or {}
    if not isinstance(labels_raw, Mapping):
        probs.add(field + ".matchLabels", "not a map")
        return LabelSelector(invalid="matchLabels not a map")
    labels = {str(k): "" if v is None else str(v) for k, v in labels_raw.items()}
    reqs: list[Requirement] = []
    exprs = obj.get("matchExpressions") or []
    if not isinstance(exprs, list):
        probs.add(field + ".matchExpressions", "not a list")
        return LabelSelector(invalid="matchExpressions not a list")
    for n, e in enumerate(exprs):
        f = f"{field}.matchExpressions[{n}]"
        if not isinstance(e, Mapping) or not isinstance(e.get("key"), str):
            probs.add(f, "malformed expression")
            return LabelSelector(invalid=f"{f} malformed")
        try:
            op = Operator(str(e.get("operator")))
        except ValueError:
            probs.add(f, f"unknown operator {e.get('operator')!r}")
            return LabelSelector(invalid=f"{f} unknown operator")
        values = e.get("values") or []
        if not isinstance(values, list):
            probs.add(f, "values is not a list")
            return LabelSelector(invalid=f"{f} values not a list")
        vals = frozenset(str(v) for v in values)
        if op in (Operator.IN, Operator.NOT_IN) and not vals:
            probs.add(f, f"{op} needs values")
            return LabelSelector(invalid=f"{f} {op} with no values")
        reqs.append(Requirement(e["key"], op, vals))
    return LabelSelector(labels=tuple(sorted(labels.items())), expressions=tuple(reqs))


_OLD_NAMESPACED_KEYS = frozenset({"namespaceSelector", "sameLabels", "notSameLabels"})


def _str_list(v: Any, probs: _Problems, field: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list):
        probs.add(field, "not a list")
        return ()
    return tuple(str(x) for x in v)


def _namespaces_peer(
    obj: Any, probs: _Problems, field: str
) -> tuple[LabelSelector, tuple[str, ...], tuple[str, ...]]:
    """A ``namespaces`` peer: a label selector (v0.1.5+) or, in early v1alpha1
    releases, ``{namespaceSelector | sameLabels | notSameLabels}``."""
    if isinstance(obj, Mapping) and obj and set(obj) <= _OLD_NAMESPACED_KEYS:
        return (
            parse_selector(obj.get("namespaceSelector"), probs, field + ".namespaceSelector"),
            _str_list(obj.get("sameLabels"), probs, field + ".sameLabels"),
            _str_list(obj.get("notSameLabels"), probs, field + ".notSameLabels"),
        )
    return parse_selector(obj, probs, field), (), ()


def _pods_pair(
    obj: Any, probs: _Problems, field: str
) -> tuple[tuple[LabelSelector, LabelSelector], tuple[str, ...], tuple[str, ...]]:
    if not isinstance(obj, Mapping):
        probs.add(field, "not an object")
        bad = LabelSelector(invalid="malformed pods peer")
        return (bad, bad), (), ()
    pod_sel = parse_selector(obj.get("podSelector"), probs, field + ".podSelector")
    if "namespaces" in obj and "namespaceSelector" not in obj:
        # Early v1alpha1: pods: {namespaces: {namespaceSelector|sameLabels|notSameLabels}, podSelector}
        ns_sel, same, not_same = _namespaces_peer(obj["namespaces"], probs, field + ".namespaces")
        return (ns_sel, pod_sel), same, not_same
    # Both selectors are required by the v1alpha1 schema; an absent one is read as {}.
    ns_sel = parse_selector(obj.get("namespaceSelector"), probs, field + ".namespaceSelector")
    return (ns_sel, pod_sel), (), ()


def _subject(obj: Any, probs: _Problems) -> AdminSubject | None:
    if not isinstance(obj, Mapping):
        probs.add("spec.subject", "missing or not an object; the policy selects nothing")
        return None
    if "namespaces" in obj:
        return AdminSubject(parse_selector(obj["namespaces"], probs, "spec.subject.namespaces"))
    if "pods" in obj:
        (ns, pod), _, _ = _pods_pair(obj["pods"], probs, "spec.subject.pods")
        return AdminSubject(ns, pod)
    probs.add("spec.subject", "neither namespaces nor pods; the policy selects nothing")
    return None


def _peer(obj: Any, probs: _Problems, field: str, egress: bool) -> AdminPeer:
    if not isinstance(obj, Mapping):
        probs.add(field, "not an object")
        return AdminPeer()
    if "namespaces" in obj:
        sel, same, not_same = _namespaces_peer(obj["namespaces"], probs, field + ".namespaces")
        return AdminPeer(namespaces=sel, same_labels=same, not_same_labels=not_same)
    if "pods" in obj:
        pair, same, not_same = _pods_pair(obj["pods"], probs, field + ".pods")
        return AdminPeer(pods=pair, same_labels=same, not_same_labels=not_same)
    if egress and "nodes" in obj:
        return AdminPeer(nodes=parse_selector(obj["nodes"], probs, field + ".nodes"))
    if egress and "networks" in obj:
        nets = obj["networks"]
        if not isinstance(nets, list):
            probs.add(field + ".networks", "not a list")
            return AdminPeer(networks=())
        return AdminPeer(networks=tuple(str(n) for n in nets))
    probs.add(field, f"unknown peer form {sorted(obj)}; it matches nothing")
    return AdminPeer()


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    return None


def _ports(obj: Any, probs: _Problems, field: str) -> tuple[AdminPort, ...] | None:
    if obj is None:
        return None
    if not isinstance(obj, list):
        probs.add(field, "not a list; the rule matches no port")
        return ()
    out: list[AdminPort] = []
    for n, p in enumerate(obj):
        f = f"{field}[{n}]"
        if not isinstance(p, Mapping):
            probs.add(f, "not an object")
            continue
        if isinstance(p.get("portNumber"), Mapping):
            pn = p["portNumber"]
            port = _int(pn.get("port"))
            if port is None:
                probs.add(f + ".portNumber.port", "not a number")
                continue
            proto = str(pn.get("protocol") or "TCP").upper()
            out.append(AdminPort("portNumber", proto, port, port))
        elif isinstance(p.get("namedPort"), str):
            out.append(AdminPort("namedPort", name=p["namedPort"]))
        elif isinstance(p.get("portRange"), Mapping):
            pr = p["portRange"]
            start, end = _int(pr.get("start")), _int(pr.get("end"))
            if start is None or end is None:
                probs.add(f + ".portRange", "start and end must be numbers")
                continue
            proto = str(pr.get("protocol") or "TCP").upper()
            out.append(AdminPort("portRange", proto, start, end))
        else:
            probs.add(f, "neither portNumber, namedPort nor portRange")
    return tuple(out)


def _rules(
    spec: Mapping[str, Any], key: str, probs: _Problems, baseline: bool
) -> tuple[AdminRule, ...]:
    raw = spec.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        probs.add(f"spec.{key}", "not a list")
        return ()
    peers_key = "from" if key == "ingress" else "to"
    out: list[AdminRule] = []
    for n, r in enumerate(raw):
        f = f"spec.{key}[{n}]"
        if not isinstance(r, Mapping):
            probs.add(f, "not an object")
            continue
        action = str(r.get("action", ""))
        allowed = ("Allow", "Deny") if baseline else ACTIONS
        if action not in allowed:
            probs.add(f + ".action", f"{action!r} is not one of {', '.join(allowed)}; rule ignored")
            continue
        peers_raw = r.get(peers_key)
        if not isinstance(peers_raw, list) or not peers_raw:
            probs.add(f"{f}.{peers_key}", "must list at least one peer; the rule matches nothing")
            peers_raw = []
        peers = tuple(
            _peer(p, probs, f"{f}.{peers_key}[{m}]", egress=key == "egress")
            for m, p in enumerate(peers_raw)
        )
        out.append(
            AdminRule(
                name=str(r.get("name") or f"{key}[{n}]"),
                action=action,
                peers=peers,
                ports=_ports(r.get("ports"), probs, f + ".ports"),
            )
        )
    return tuple(out)


def decode_admin_policy(obj: CustomObject) -> tuple[AdminPolicy, list[str]]:
    """Decode one ANP/BANP custom object into the typed form, with problems as text."""
    baseline = obj.kind == BANP_KIND
    probs = _Problems(f"{obj.kind}/{obj.meta.name}")
    spec = obj.spec
    priority: int | None = None
    if not baseline:
        priority = _int(spec.get("priority"))
        if priority is None:
            probs.add("spec.priority", "missing or not a number; treated as 1000 (evaluated last)")
            priority = 1000
    pol = AdminPolicy(
        kind=obj.kind,
        name=obj.meta.name,
        priority=priority,
        subject=_subject(spec.get("subject"), probs),
        ingress=_rules(spec, "ingress", probs, baseline),
        egress=_rules(spec, "egress", probs, baseline),
        derived=obj.meta.derived,
    )
    return pol, probs.items


def admin_policies(model: ClusterModel) -> AdminPolicies:
    """Every ANP (by priority, then name) and BANP (by name) of the model, decoded.

    Decoded once per model (kept in the model's memo; models are frozen).
    """
    return model.memoised("policy.admin_policies", lambda: _decode_admin_policies(model))


def _decode_admin_policies(model: ClusterModel) -> AdminPolicies:
    anps: list[AdminPolicy] = []
    banps: list[AdminPolicy] = []
    problems: list[str] = []
    for obj in model.custom_of_kind(ANP_KIND, BANP_KIND):
        pol, probs = decode_admin_policy(obj)
        problems.extend(probs)
        (banps if obj.kind == BANP_KIND else anps).append(pol)
    return AdminPolicies(
        anps=tuple(sorted(anps, key=lambda p: (p.priority or 0, p.name))),
        banps=tuple(sorted(banps, key=lambda p: p.name)),
        problems=tuple(problems),
    )
