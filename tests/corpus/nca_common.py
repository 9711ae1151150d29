"""Shared helpers for the network-config-analyzer (NCA) corpus tests.

- :func:`corpus_root` / :func:`nca_queries`: the corpus and its flat query index
  (``queries.jsonl``);
- :func:`load_config`: a scheme's network config as a :class:`ClusterModel`,
  following NCA's rules for global vs per-config topology and single-policy
  references (``config/ns/policy``);
- :func:`pod_connections`: our engine's allowed connections at pod level
  (NCA's semantic diff classifies *pods* as removed / persistent / added);
- :func:`parse_conn`, :func:`conn_key`: NCA connection text to our port sets
  (TCP/UDP/SCTP only: NCA's "All connections" covers every IP protocol);
- :func:`refine`: address ranges cut at a common set of bounds, so that two
  outputs which split the IPv4 space differently compare range by range.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from corpus.paths import CORPUS
from netsleuth.model.cluster import ClusterModel, all_objects, build_model
from netsleuth.model.cluster_dns import KUBE_DNS_LABELS, has_kube_dns, with_kube_dns
from netsleuth.model.intervals import IntervalSet
from netsleuth.model.objects import (
    CustomObject,
    Ingress,
    Namespace,
    NetworkPolicy,
    Pod,
    UnknownObject,
    Workload,
)
from netsleuth.policy.host_network import HostNetworkMode, policy_view
from netsleuth.policy.matrix import EXTERNAL, PSEUDO, PolicyMatrix, iter_pairs, pod_units
from netsleuth.sources.load import load_offline

SUITE = "network-config-analyzer"
PROTOS = ("SCTP", "TCP", "UDP")
ALL = {p: IntervalSet.single(1, 65535) for p in PROTOS}

ConnKey = tuple[tuple[str, tuple[tuple[int, int], ...]], ...]
"""A connection as sorted ``(protocol, port ranges)``: hashable, comparable."""

IPPeer = tuple[int, int, int]
"""An address range as ``(version, first, last)``."""

PeerKey = str | IPPeer
"""A pod (``ns/name``) or an address range."""

Triple = tuple[PeerKey, PeerKey, ConnKey]


def corpus_root() -> Path:
    return CORPUS / SUITE


def nca_queries() -> list[dict[str, Any]]:
    root = corpus_root()
    return [json.loads(line) for line in (root / "queries.jsonl").read_text().splitlines()]


# --------------------------------------------------------------------------- loading


def _as_list(v: Any) -> list[str]:
    if not v:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _paths(sdir: Path, entries: list[str]) -> list[str]:
    return [str((sdir / e.removesuffix("/**")).resolve()) for e in entries]


@dataclass(frozen=True, slots=True)
class Scheme:
    path: Path
    data: dict[str, Any]

    @staticmethod
    def read(root: Path, rel: str) -> Scheme:
        p = root / rel
        return Scheme(p, yaml.load(p.read_text(), Loader=yaml.CSafeLoader))

    def config(self, name: str) -> dict[str, Any]:
        return next(c for c in self.data["networkConfigList"] if c["name"] == name)


def _objects(paths: list[str], keep: Any = None) -> tuple[list[Any], list[Any]]:
    """Objects (pods derived from workloads included) and problems of ``paths``,
    filtered by ``keep(obj)``."""
    if not paths:
        return [], []
    model = load_offline(paths)
    objs = [o for o in all_objects(model) if keep is None or keep(o)]
    return objs, list(model.problems)


def _is_policy(o: Any) -> bool:
    return isinstance(o, NetworkPolicy | Ingress | CustomObject | UnknownObject)


def load_config(scheme: Scheme, ref: str) -> ClusterModel:
    """The model of config ``ref`` (``name``, ``name/ns/policy`` or ``name/kind/ns/policy``).

    NCA's rules (docs/CommonQueryPatterns.md): ``networkPolicyList`` gives the
    policies, ``podList`` the pods (and their owners), ``namespaceList`` the
    namespaces, each read only for its role (a pod-list directory may also hold
    policies of another config); ``resourceList`` gives everything, a specific
    key overriding it; a config without pods uses the global ``podList``,
    without namespaces the global ``namespaceList``.
    """
    name, *rest = ref.split("/")
    config = scheme.config(name)
    sdir = scheme.path.parent

    def paths(key: str, where: dict[str, Any]) -> list[str]:
        return _paths(sdir, _as_list(where.get(key)))

    res, problems = _objects(paths("resourceList", config))
    pol_paths = paths("networkPolicyList", config)
    pod_paths = paths("podList", config)
    ns_paths = paths("namespaceList", config)
    if pol_paths:
        res = [o for o in res if not _is_policy(o)]
    if pod_paths:
        res = [o for o in res if not isinstance(o, Pod | Workload)]
    if ns_paths:
        res = [o for o in res if not isinstance(o, Namespace)]
    if not pod_paths and not any(isinstance(o, Pod) for o in res):
        pod_paths = paths("podList", scheme.data)
    if not ns_paths and not any(isinstance(o, Namespace) for o in res):
        ns_paths = paths("namespaceList", scheme.data)
    objs = list(res)
    for group, keep in (
        (pol_paths, _is_policy),
        (pod_paths, lambda o: not _is_policy(o) and not isinstance(o, Namespace)),
        (ns_paths, lambda o: isinstance(o, Namespace)),
    ):
        more, probs = _objects(group, keep)
        objs += more
        problems += probs
    if rest:
        ns, pol = rest[-2], rest[-1]
        objs = [
            o
            for o in objs
            if not isinstance(o, NetworkPolicy) or (o.namespace, o.name) == (ns, pol)
        ]
    return build_model(objs, problems, derive_pods=False)


# --------------------------------------------------------------------------- connections


def conn_key(sets: Mapping[str, IntervalSet]) -> ConnKey:
    return tuple(sorted((p, s.ranges) for p, s in sets.items() if p in ALL and s))


def parse_conn(text: str) -> dict[str, IntervalSet]:
    """``All connections`` / ``All but {...}`` / ``{protocols:TCP,dst_ports:80},{...}``."""
    text = text.strip()
    if text in ("All connections", "All"):
        return dict(ALL)
    if text in ("No connections", ""):
        return {}
    but = text.startswith("All but ")
    body = text.removeprefix("All but ")
    sets: dict[str, IntervalSet] = {}
    for m in re.finditer(r"\{([^}]*)\}", body):
        fields = _fields(m.group(1))
        ports = IntervalSet.single(1, 65535)
        if fields.get("dst_ports"):
            ranges = []
            for part in fields["dst_ports"].strip(",").split(","):
                lo, _, hi = part.partition("-")
                ranges.append((int(lo), int(hi or lo)))
            ports = IntervalSet.of(ranges)
        for proto in fields.get("protocols", ",".join(PROTOS)).split(","):
            proto = proto.strip()
            if proto in ALL:
                sets[proto] = sets.get(proto, IntervalSet()) | ports
    if but:
        sets = {p: ALL[p] - sets.get(p, IntervalSet()) for p in ALL}
    return {p: s for p, s in sets.items() if s}


def _fields(inner: str) -> dict[str, str]:
    """``protocols:TCP,UDP,dst_ports:80,90-92`` -> ``{protocols: "TCP,UDP", dst_ports: ...}``."""
    keys = list(re.finditer(r"(?:^|,)([a-z_]+):", inner))
    out = {}
    for k, nxt in zip(keys, [*keys[1:], None], strict=True):
        end = nxt.start() if nxt is not None else len(inner)
        out[k.group(1)] = inner[k.end() : end]
    return out


def parse_range(text: str) -> IPPeer | None:
    """``a.b.c.d-e.f.g.h`` or a CIDR; ``None`` when ``text`` is not an address range."""
    text = text.strip()
    try:
        if "-" in text:
            lo_s, _, hi_s = text.partition("-")
            lo, hi = ipaddress.ip_address(lo_s), ipaddress.ip_address(hi_s)
            return (lo.version, int(lo), int(hi))
        net = ipaddress.ip_network(text, strict=False)
        return (net.version, int(net.network_address), int(net.broadcast_address))
    except ValueError:
        return None


def describe_peer(p: PeerKey) -> str:
    if isinstance(p, str):
        return p
    v, lo, hi = p
    cls = ipaddress.IPv4Address if v == 4 else ipaddress.IPv6Address
    return f"{cls(lo)}-{cls(hi)}"


def refine(*groups: set[Triple]) -> list[set[Triple]]:
    """Each group with every address range cut at the bounds of every range in all
    groups. Two outputs which cut the address space differently (NCA merges
    adjacent ranges with one connection on one side of a pair only) then
    compare piece by piece: ``R => pod : c`` means the same for each piece of ``R``."""
    cuts: dict[int, set[int]] = {4: set(), 6: set()}
    for g in groups:
        for s, d, _ in g:
            for p in (s, d):
                if not isinstance(p, str):
                    cuts[p[0]].update((p[1], p[2] + 1))
    ordered = {v: sorted(c) for v, c in cuts.items()}

    @cache
    def pieces(p: PeerKey) -> list[PeerKey]:
        if isinstance(p, str):
            return [p]
        v, lo, hi = p
        cut = ordered[v]
        bounds = cut[bisect.bisect_right(cut, lo) : bisect.bisect_right(cut, hi)]
        starts = [lo, *bounds]
        ends = [b - 1 for b in bounds] + [hi]
        return [(v, a, b) for a, b in zip(starts, ends, strict=True)]

    out = []
    for g in groups:
        out.append({(s2, d2, c) for s, d, c in g for s2 in pieces(s) for d2 in pieces(d)})
    return out


def pod_name(pod: Pod) -> str:
    return f"{pod.namespace}/{pod.name}"


@dataclass(frozen=True, slots=True)
class PodConnections:
    """Our engine's allowed connections at pod level (self-loops and range-to-range left out)."""

    model: ClusterModel
    conns: dict[tuple[PeerKey, PeerKey], dict[str, IntervalSet]]
    pods: frozenset[str]

    def owner(self, p: PeerKey) -> PeerKey:
        """The workload a pod belongs to, as NCA's pair form prints it."""
        if not isinstance(p, str):
            return p
        ns, _, name = p.partition("/")
        pod = self.model.pod(ns, name)
        assert pod is not None
        ref = self.model.owner(pod)
        name = LIVESIM_DNS if pod.meta.derived and ref.name == DERIVED_DNS else ref.name
        return f"{ref.namespace}/{name}[{ref.kind}]"

    def triples(self) -> set[Triple]:
        return {(s, d, conn_key(c)) for (s, d), c in self.conns.items() if conn_key(c)}


def pod_connections(model: ClusterModel) -> PodConnections:
    units, _ = pod_units(model)
    units = [u for u in units if u.kind != PSEUDO]
    pm = PolicyMatrix.build(model, units)
    ends: list[list[PeerKey]] = []
    for u in units:
        if u.kind == EXTERNAL:
            label = str(u.key[1])  # type: ignore[index]
            r = parse_range(label)
            assert r is not None, label
            ends.append([r])
        else:
            ends.append([pod_name(p) for p in u.pods])
    cache: dict[int, dict[str, IntervalSet]] = {}
    conns: dict[tuple[PeerKey, PeerKey], dict[str, IntervalSet]] = {}
    for i, j, mask in iter_pairs(pm):
        if units[i].kind == EXTERNAL and units[j].kind == EXTERNAL:
            continue
        sets = cache.get(mask)
        if sets is None:
            sets = cache[mask] = pm.atoms.to_sets(mask)
        for s in ends[i]:
            for d in ends[j]:
                if s != d:
                    conns[(s, d)] = sets
    return PodConnections(model, conns, frozenset(pod_name(p) for p in model.pods))


def fold(pc: PodConnections, triples: Iterable[Triple]) -> set[Triple]:
    """Pod-level triples folded to workloads: the union of ports per workload pair
    (a workload's pods talking to each other give a workload self-loop)."""
    acc: dict[tuple[PeerKey, PeerKey], dict[str, IntervalSet]] = {}
    for s, d, c in triples:
        key = (pc.owner(s), pc.owner(d))
        cur = acc.setdefault(key, {})
        for proto, ranges in c:
            cur[proto] = cur.get(proto, IntervalSet()) | IntervalSet.of(ranges)
    return {(s, d, conn_key(c)) for (s, d), c in acc.items()}


def parse_pair_lines(lines: Iterable[str]) -> set[Triple]:
    """NCA's ``src => dst : conn`` lines (pair form)."""
    out: set[Triple] = set()
    for line in lines:
        if "=>" not in line:
            continue
        pair, _, conn = line.rpartition(" : ")
        src_s, _, dst_s = pair.partition(" => ")
        src: PeerKey = parse_range(src_s) or src_s.strip()
        dst: PeerKey = parse_range(dst_s) or dst_s.strip()
        key = conn_key(parse_conn(conn))
        if key:
            out.add((src, dst, key))
    return union_triples(out)


def show(triples: Iterable[Triple], limit: int = 6) -> str:
    items = sorted(
        f"{describe_peer(s)} => {describe_peer(d)} : {_show_conn(c)}" for s, d, c in triples
    )
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return "; ".join(items[:limit]) + more


def _show_conn(c: ConnKey) -> str:
    if dict(c) == {p: s.ranges for p, s in ALL.items()}:
        return "All"
    return ",".join(f"{p} {','.join(f'{a}-{b}' if a != b else str(a) for a, b in r)}" for p, r in c)


def without_host_network(model: ClusterModel) -> ClusterModel:
    """NCA's reading of hostNetwork pods: selectors match them like any pod.

    Kubernetes leaves the choice to the plugin; netsleuth's default treats them
    as the node, and ``--host-network pod`` gives NCA's reading. This is that
    option's model view (:func:`netsleuth.policy.host_network.policy_view`), so
    the corpus exercises the code the CLI runs.
    """
    return policy_view(model, HostNetworkMode.POD)


LIVESIM_DNS = "kube-dns-livesim"
DERIVED_DNS = "coredns-derived"


def refers_to_kube_dns(model: ClusterModel) -> bool:
    """A policy peer selects pods by ``k8s-app: kube-dns`` (what makes NCA add its livesim)."""
    for pol in model.network_policies:
        for rule in (*pol.ingress, *pol.egress):
            for peer in rule.peers:
                sel = peer.pod_selector
                if sel is not None and not sel.is_empty and sel.matches(KUBE_DNS_LABELS):
                    return True
    return False


def nca_livesim(model: ClusterModel) -> ClusterModel:
    """NCA's kube-dns "livesim" (docs/SimulatingLiveClusterMissingResources.md): when
    policies point at ``k8s-app: kube-dns`` and the input has no such pod, NCA adds a
    simulated ``kube-system/kube-dns-livesim`` pod. netsleuth derives the same for DNS
    questions (:func:`netsleuth.model.cluster_dns.with_kube_dns`, pod ``coredns-derived``);
    its connection list shows only the input, so the tests add it in that situation."""
    if has_kube_dns(model) or not refers_to_kube_dns(model):
        return model
    return with_kube_dns(model)


def dialects(model: ClusterModel) -> list[str]:
    """API groups of the input's Calico / Istio objects (dialects we do not implement)."""
    found = set()
    objs: list[CustomObject | UnknownObject] = [*model.custom, *model.unknown]
    for o in objs:
        group = o.api_version.split("/", 1)[0]
        if "calico" in group or "istio" in group:
            found.add(f"{group}/{o.kind}")
    return sorted(found)


# --------------------------------------------------------------------------- semantic diff

CATEGORIES = (
    "Lost connections between removed peers",
    "Lost connections between removed peers and ipBlocks",
    "Lost connections between removed peers and persistent peers",
    "Removed connections between persistent peers",
    "Removed connections between persistent peers and ipBlocks",
    "Added connections between persistent peers",
    "Added connections between persistent peers and ipBlocks",
    "New connections between persistent peers and added peers",
    "New connections between added peers",
    "New connections between added peers and ipBlocks",
)
"""NCA's semantic-diff categories, in its output order (docs/, expected outputs)."""


def _minus(a: Mapping[str, IntervalSet], b: Mapping[str, IntervalSet]) -> dict[str, IntervalSet]:
    out = {p: s - b.get(p, IntervalSet()) for p, s in a.items()}
    return {p: s for p, s in out.items() if s}


def semantic_diff(before: PodConnections, after: PodConnections) -> dict[str, set[Triple]]:
    """NCA's semantic diff from our two pod-level connection lists.

    A pod is *persistent* when a pod of that namespace/name exists in both
    topologies, *removed* / *added* when only before / after has it.
    Connections touching a removed pod are "lost", touching an added pod
    "new" (whole connection); between persistent pods or a persistent pod
    and an address range, the ports only before are "removed" and the ports
    only after are "added". Address ranges are cut at the bounds of both
    sides first."""
    b_set, a_set = refine(before.triples(), after.triples())
    b = {(s, d): dict(c) for s, d, c in b_set}
    a = {(s, d): dict(c) for s, d, c in a_set}
    removed = before.pods - after.pods
    added = after.pods - before.pods
    out: dict[str, set[Triple]] = {c: set() for c in CATEGORIES}

    def add(cat: str, key: tuple[PeerKey, PeerKey], conn: Mapping[str, Any]) -> None:
        sets = {p: r if isinstance(r, IntervalSet) else IntervalSet.of(r) for p, r in conn.items()}
        k = conn_key(sets)
        if k:
            out[cat].add((key[0], key[1], k))

    for key in b.keys() | a.keys():
        ends = key
        ip = any(not isinstance(e, str) for e in ends)
        if any(e in removed for e in ends):
            cat = (
                CATEGORIES[1]
                if ip
                else CATEGORIES[0]
                if all(e in removed for e in ends)
                else CATEGORIES[2]
            )
            add(cat, key, b.get(key, {}))
        elif any(e in added for e in ends):
            cat = (
                CATEGORIES[9]
                if ip
                else CATEGORIES[8]
                if all(e in added for e in ends)
                else CATEGORIES[7]
            )
            add(cat, key, a.get(key, {}))
        elif b.get(key) != a.get(key):
            bs = {p: IntervalSet.of(r) for p, r in b.get(key, {}).items()}
            as_ = {p: IntervalSet.of(r) for p, r in a.get(key, {}).items()}
            add(CATEGORIES[4] if ip else CATEGORIES[3], key, _minus(bs, as_))
            add(CATEGORIES[6] if ip else CATEGORIES[5], key, _minus(as_, bs))
    return out


# --------------------------------------------------------------------------- fw rules

_TOKEN = re.compile(
    r"\s*(?:(?P<nhas>!has\((?P<nk>[^)]+)\))|(?P<has>has\((?P<hk>[^)]+)\))"
    r"|(?P<notin>(?P<nik>[\w./-]+)\s+not in\s+\((?P<niv>[^)]*)\))"
    r"|(?P<in>(?P<ik>[\w./-]+)\s+in\s+\((?P<iv>[^)]*)\))"
    r"|(?P<ne>(?P<nek>[\w./-]+)!=(?P<nev>[\w./-]*))"
    r"|(?P<eq>(?P<eqk>[\w./-]+)=(?P<eqv>[\w./-]*))"
    r"|(?P<op>and\b|or\b)|(?P<open>[({])|(?P<close>[)}]))"
)

Labels = Mapping[str, str]


class LabelExpr:
    """NCA's pod label expressions: ``a=b``, ``a!=b``, ``a in (x,y)``, ``a not in (...)``,
    ``has(a)``, ``!has(a)``, joined by ``and`` / ``or`` with ``(...)`` / ``{...}``."""

    def __init__(self, text: str) -> None:
        self.tokens: list[re.Match[str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise ValueError(f"cannot parse label expression {text!r} at {pos}")
            self.tokens.append(m)
            pos = m.end()
        self.i = 0
        self.tree = self._or()
        if self.i != len(self.tokens):
            raise ValueError(f"trailing tokens in {text!r}")

    def _or(self) -> Any:
        left = self._and()
        while self.i < len(self.tokens) and self.tokens[self.i].group("op") == "or":
            self.i += 1
            left = ("or", left, self._and())
        return left

    def _and(self) -> Any:
        left = self._atom()
        while self.i < len(self.tokens) and self.tokens[self.i].group("op") == "and":
            self.i += 1
            left = ("and", left, self._atom())
        return left

    def _atom(self) -> Any:
        m = self.tokens[self.i]
        self.i += 1
        if m.group("open"):
            inner = self._or()
            self.i += 1  # the closing bracket
            return inner
        return m

    def matches(self, labels: Labels) -> bool:
        return self._eval(self.tree, labels)

    def _eval(self, node: Any, labels: Labels) -> bool:
        if isinstance(node, tuple):
            op, a, b = node
            if op == "and":
                return self._eval(a, labels) and self._eval(b, labels)
            return self._eval(a, labels) or self._eval(b, labels)
        m: re.Match[str] = node
        if m.group("nhas"):
            return m.group("nk") not in labels
        if m.group("has"):
            return m.group("hk") in labels
        if m.group("notin"):
            return labels.get(m.group("nik")) not in m.group("niv").split(",")
        if m.group("in"):
            return labels.get(m.group("ik")) in m.group("iv").split(",")
        if m.group("ne"):
            return labels.get(m.group("nek")) != m.group("nev")
        return labels.get(m.group("eqk")) == m.group("eqv")


def _is_label_expr(text: str) -> bool:
    return any(c in text for c in "=()") or text.startswith("!")


_FW_LINE = re.compile(
    r"^(?:src: (?P<src>\S+)|src_ns: \[(?P<sns>[^\]]*)\] src_pods: \[(?P<spods>[^\]]*)\])\s+"
    r"(?:dst: (?P<dst>\S+)|dst_ns: \[(?P<dns>[^\]]*)\] dst_pods: \[(?P<dpods>[^\]]*)\])\s+"
    r"conn: (?P<conn>.*)$"
)


def parse_ips(text: str) -> list[IPPeer] | None:
    """``0.0.0.0-9.255.255.255,11.0.0.0/8,49.50.0.1`` -> ranges; ``None`` for host names."""
    out = []
    for part in text.split(","):
        r = parse_range(part)
        if r is None:
            return None
        out.append(r)
    return out


def _pods_of(model: ClusterModel, namespaces: str, pods: str) -> list[str]:
    out = []
    nss = [n.strip() for n in namespaces.split(",") if n.strip()]
    items = [pods.strip()] if _is_label_expr(pods) else [p.strip() for p in pods.split(",")]
    for ns in nss:
        for pod in model.pods_by_namespace.get(ns, ()):
            ref = model.owner(pod)
            for item in items:
                if (
                    item == "*"
                    or (_is_label_expr(item) and LabelExpr(item).matches(pod.labels))
                    or item in (pod.name, ref.name)
                    or (pod.meta.derived and re.fullmatch(re.escape(ref.name) + r"-\d+", item))
                    or (item == LIVESIM_DNS and pod.meta.derived and pod.name == DERIVED_DNS)
                ):
                    out.append(pod_name(pod))
                    break
    return out


def expand_fw_rules(model: ClusterModel, lines: Iterable[str]) -> set[Triple] | str:
    """NCA's grouped rules expanded to pod-level triples over ``model``'s pods (ports of
    one pair united across rules, a pod's connection to itself left out); a string
    naming the reason when a line cannot be read (host names: Istio)."""
    raw: set[Triple] = set()
    for line in lines:
        line = line.strip()
        if not line.startswith(("src:", "src_ns:")):
            continue
        m = _FW_LINE.match(line)
        if m is None:
            return f"unreadable fw rule: {line}"
        ends: list[list[PeerKey]] = []
        for side in ("src", "dst"):
            if m.group(side) is not None:
                ips = parse_ips(m.group(side))
                if ips is None:
                    return (
                        f"unsupported dialect: {side} {m.group(side)} is a host name "
                        "(Istio ServiceEntry), not an address range"
                    )
                ends.append(list(ips))
            else:
                ends.append(
                    list(_pods_of(model, m.group(side[0] + "ns"), m.group(side[0] + "pods")))
                )
        key = conn_key(parse_conn(m.group("conn")))
        if key:
            raw.update((s, d, key) for s in ends[0] for d in ends[1] if s != d)
    return union_triples(raw)


def union_triples(triples: set[Triple]) -> set[Triple]:
    """One triple per (src, dst) with the union of the ports, address ranges first cut
    at common bounds (rules of one output may overlap: ``0.0.0.0/0`` and ``10.0.0.0/8``)."""
    (cut,) = refine(triples)
    acc: dict[tuple[PeerKey, PeerKey], dict[str, IntervalSet]] = {}
    for s, d, c in cut:
        cur = acc.setdefault((s, d), {})
        for p, ranges in c:
            cur[p] = cur.get(p, IntervalSet()) | IntervalSet.of(ranges)
    return {(s, d, conn_key(c)) for (s, d), c in acc.items()}


def sections(text: str) -> list[tuple[str, list[str]]]:
    """Split an output into ``(header, lines)``: every line that is neither a pair line
    (``=>``) nor a fw rule (``src...``) starts a section (category headers, the
    ``A and B are not semantically equivalent.`` verdicts, map titles)."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith(("src", "dst")) and "=>" not in s:
            out.append((s, []))
        elif out:
            out[-1][1].append(s)
        else:
            out.append(("", [s]))
    return out
