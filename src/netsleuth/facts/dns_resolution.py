"""Simulate a pod's stub resolver: which names it queries, in which order, and
which one answers.

Kubernetes writes the pod's ``/etc/resolv.conf`` from ``dnsPolicy`` and
``dnsConfig`` (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/):

- ``ClusterFirst`` (the default): nameserver = the kube-dns ClusterIP,
  ``search <ns>.svc.<domain> svc.<domain> <domain>`` plus the node's search
  domains, ``options ndots:5``. A hostNetwork pod with ``ClusterFirst``
  silently gets ``Default`` instead; ``ClusterFirstWithHostNet`` is needed.
- ``Default``: the node's resolv.conf: cluster names do not resolve.
- ``None``: only ``dnsConfig``.
- ``dnsConfig`` nameservers/searches are appended, options override.

glibc's resolver (and musl's, with small differences) tries the name as
given first when it has at least ``ndots`` dots, otherwise walks the search
list first and the absolute name last; a trailing dot means absolute only.
Each attempt is an A and an AAAA query, so a miss costs two queries.

CoreDNS's ``kubernetes`` plugin answers ``<svc>.<ns>.svc.<domain>`` for
Services (ClusterIP, headless → pod IPs, ExternalName → CNAME),
``<hostname>.<subdomain>.<ns>.svc.<domain>`` for pods with a subdomain,
and ``a-b-c-d.<ns>.pod.<domain>``; anything else under the cluster domain
is NXDOMAIN. Names outside it go upstream (``forward``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsleuth.facts.cluster_domain import DEFAULT_CLUSTER_DOMAIN, cluster_domain
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import dns_service_ip
from netsleuth.model.numbers import parse_int
from netsleuth.model.objects import Pod, Service

DEFAULT_NDOTS = 5
MAX_NDOTS = 15
"""glibc caps ``ndots`` at 15 (``RES_MAXNDOTS``)."""
CLUSTER_DOMAIN = DEFAULT_CLUSTER_DOMAIN
"""The default only: the domain of a model is :func:`netsleuth.facts.cluster_domain.cluster_domain`
(``domain=None`` below derives it from the input)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolverConfig:
    policy: str
    effective_policy: str
    nameservers: tuple[str, ...]
    search: tuple[str, ...]
    ndots: int
    options: tuple[tuple[str, str | None], ...]
    note: str | None = None
    """Why the effective policy differs from the declared one."""

    def has_option(self, name: str) -> bool:
        return any(k == name for k, _ in self.options)

    @property
    def cluster_dns(self) -> bool:
        """Queries go to the cluster DNS (``ClusterFirst``, or ``ClusterFirstWithHostNet``)."""
        return self.effective_policy == "ClusterFirst"

    def queries_for(self, name: str) -> int:
        """DNS queries one lookup of ``name`` costs when no search candidate answers
        (a name outside the cluster): every search domain, then the name itself
        (or the name first, when it has at least ``ndots`` dots), A and AAAA each."""
        if name.endswith(".") or name.count(".") >= self.ndots:
            return 2
        return (len(self.search) + 1) * 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What CoreDNS (or upstream) answers for one fully-qualified name."""

    name: str
    kind: str  # service, headless, external-name, pod, external, nxdomain
    service: Service | None = None
    target: str | None = None  # ExternalName target or a pod IP


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    name: str
    config: ResolverConfig
    attempts: tuple[str, ...]
    """Fully-qualified names tried, in order, up to and including the one that answered."""
    answer: Answer | None
    queries: int
    """DNS queries sent: attempts × 2 (A and AAAA)."""
    absolute: bool

    @property
    def resolved(self) -> bool:
        return self.answer is not None and self.answer.kind != "nxdomain"


def resolver_config(model: ClusterModel, pod: Pod, domain: str | None = None) -> ResolverConfig:
    """The resolv.conf the kubelet writes for ``pod``: nameservers, search list, ndots.

    ``ClusterFirst`` (and ``ClusterFirstWithHostNet``) pods get the cluster DNS
    ClusterIP, ``<ns>.svc.<domain> svc.<domain> <domain>`` plus the node's own
    search domains (from the node's resolv.conf when the input has it) and
    ``ndots:5``; ``dnsConfig`` appends nameservers and searches and overrides
    options.
    https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy
    """
    domain = cluster_domain(model, domain)
    declared = pod.spec.dns_policy or "ClusterFirst"
    effective = declared
    note = None
    if declared == "ClusterFirst" and pod.spec.host_network:
        effective = "Default"
        note = (
            "hostNetwork pod with dnsPolicy ClusterFirst falls back to Default (the node's resolv.conf); "
            "use ClusterFirstWithHostNet"
        )
    if effective == "ClusterFirstWithHostNet":
        effective = "ClusterFirst"
    nameservers: list[str] = []
    search: list[str] = []
    options: dict[str, str | None] = {}
    node_conf = None
    if pod.spec.node_name and pod.spec.node_name in model.node_artifacts:
        node_conf = model.node_artifacts[pod.spec.node_name].resolv_conf
    if effective == "ClusterFirst":
        ip = dns_service_ip(model)
        nameservers.append(ip or "<kube-dns ClusterIP>")
        search += [f"{pod.namespace}.svc.{domain}", f"svc.{domain}", domain]
        if node_conf is not None:
            search += [s for s in node_conf.search if s not in search]
        options["ndots"] = str(DEFAULT_NDOTS)
    elif effective == "Default":
        if node_conf is not None:
            nameservers += node_conf.nameservers
            search += node_conf.search
            options.update(dict(node_conf.options))
        else:
            nameservers.append("<node resolv.conf>")
    dc = pod.spec.dns_config
    if dc is not None:
        nameservers += [n for n in dc.nameservers if n not in nameservers]
        search += [s for s in dc.searches if s not in search]
        for k, v in dc.options:
            options[k] = v
    default_ndots = DEFAULT_NDOTS if effective == "ClusterFirst" else 1
    parsed = parse_int(options.get("ndots"))
    ndots = default_ndots if parsed is None else min(parsed, MAX_NDOTS)
    return ResolverConfig(
        policy=declared,
        effective_policy=effective,
        nameservers=tuple(nameservers),
        search=tuple(search),
        ndots=ndots,
        options=tuple(options.items()),
        note=note,
    )


_POD_A = re.compile(r"^(\d+)-(\d+)-(\d+)-(\d+)$")


def answer_for(model: ClusterModel, fqdn: str, domain: str | None = None) -> Answer:
    """What the cluster DNS answers for an absolute name (without the trailing dot)."""
    domain = cluster_domain(model, domain)
    name = fqdn.rstrip(".").lower()
    suffix = "." + domain
    if not name.endswith(suffix) and name != domain:
        last = name.rsplit(".", 1)[-1]
        # Upstream, a single label or a name ending in a namespace of this cluster
        # ("api.payments") is not a real domain: the root servers answer NXDOMAIN.
        # Any other name is assumed to exist (we cannot ask the Internet).
        if (
            "." not in name
            or last in model.namespaces
            or last in ("svc", "cluster", "local", "internal", *domain.split("."))
        ):
            return Answer(name=name, kind="nxdomain")
        return Answer(name=name, kind="external")
    labels = name[: -len(suffix)].split(".") if name != domain else []
    if len(labels) == 3 and labels[2] == "svc":
        svc = model.service(labels[1], labels[0])
        if svc is None:
            return Answer(name=name, kind="nxdomain")
        if svc.type == "ExternalName":
            return Answer(name=name, kind="external-name", service=svc, target=svc.external_name)
        return Answer(name=name, kind="headless" if svc.headless else "service", service=svc)
    if len(labels) == 4 and labels[3] == "svc":
        # <hostname>.<subdomain>.<ns>.svc: pods whose hostname/subdomain match a headless service
        ns, sub, host = labels[2], labels[1], labels[0]
        for p in model.pods_by_namespace.get(ns, ()):
            if p.spec.subdomain == sub and (p.spec.hostname or p.name) == host and p.ip:
                return Answer(name=name, kind="pod", service=model.service(ns, sub), target=p.ip)
        return Answer(name=name, kind="nxdomain")
    if len(labels) == 3 and labels[2] == "pod":
        m = _POD_A.match(labels[0])
        if m:
            return Answer(name=name, kind="pod", target=".".join(m.groups()))
    return Answer(name=name, kind="nxdomain")


def resolve(model: ClusterModel, pod: Pod, name: str, domain: str | None = None) -> Resolution:
    """The resolver's walk for ``name`` from ``pod`` (``domain`` ``None``: the model's)."""
    domain = cluster_domain(model, domain)
    cfg = resolver_config(model, pod, domain)
    absolute = name.endswith(".")
    bare = name.rstrip(".")
    candidates: list[str]
    if absolute:
        candidates = [bare]
    else:
        searched = [f"{bare}.{s}" for s in cfg.search]
        if bare.count(".") >= cfg.ndots:
            candidates = [bare, *searched]
        else:
            candidates = [*searched, bare]
    attempts: list[str] = []
    answer: Answer | None = None
    cluster_dns = cfg.effective_policy == "ClusterFirst"
    for cand in candidates:
        attempts.append(cand)
        a = answer_for(model, cand, domain)
        if a.kind == "external" and not cluster_dns:
            answer = a
            break
        if a.kind == "external":
            # Forwarded upstream: a name made from a search suffix outside the cluster
            # domain (node search domains) may or may not exist; the name itself is
            # taken to resolve only when tried as given.
            if cand == bare:
                answer = a
                break
            continue
        if a.kind != "nxdomain":
            if not cluster_dns:
                # Default policy: the node's resolver does not know cluster names.
                continue
            answer = a
            break
    if answer is None:
        answer = Answer(name=bare, kind="nxdomain")
    return Resolution(
        name=name,
        config=cfg,
        attempts=tuple(attempts),
        answer=answer,
        queries=2 * len(attempts),
        absolute=absolute,
    )


def services_named(model: ClusterModel, name: str) -> list[Service]:
    """Services with this name in any namespace (to explain a wrong-namespace NXDOMAIN)."""
    return [s for s in model.services if s.name == name]
