"""The check framework: one check per module, a registry, and a runner.

A check is a pure function of the frozen model::

    @register(
        id="SVC201", layer=Layer.ENDPOINTS, severity=Severity.ERROR,
        needs=Needs(kinds=("Service", "Pod")),
    )
    def selector_matches_nothing(model: ClusterModel) -> Iterator[Finding]:
        \"\"\"<summary line>

        What it checks: ...
        Why it breaks traffic: ...
        Example: ...
        Fix: ...
        Confirm live: ...
        References: ...
        \"\"\"

The runner skips a check, recording a :class:`Skipped` value with the
reason, when the data it needs is missing (kind absent from the input),
forbidden (RBAC) or when node artifacts are needed and none were given.
A check that does not apply yields nothing; it never reports "passed".
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity

DOC_SECTIONS = ("What it checks", "Why it breaks traffic", "Example", "Fix", "Confirm live", "References")

# Kind -> the API resource whose RBAC refusal makes it unknowable.
KIND_RESOURCE = {
    "Namespace": "namespaces",
    "Node": "nodes",
    "Pod": "pods",
    "Service": "services",
    "EndpointSlice": "endpointslices",
    "NetworkPolicy": "networkpolicies",
    "Ingress": "ingresses",
    "IngressClass": "ingressclasses",
    "ConfigMap": "configmaps",
    "Event": "events",
    "Secret": "secrets",
    "Deployment": "deployments",
    "DaemonSet": "daemonsets",
    "StatefulSet": "statefulsets",
    "ReplicaSet": "replicasets",
    "Gateway": "gateways",
    "HTTPRoute": "httproutes",
    "GatewayClass": "gatewayclasses",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Needs:
    """What a check needs.

    ``kinds``: every one must be loadable (not forbidden); with
    ``require_present`` they must also be present in the input.
    ``any_kinds``: at least one must be present. ``node_artifacts``: the
    node files the check reads (``iptables``, ``links``, ``conntrack``…),
    at least one node must have each.
    """

    kinds: tuple[str, ...] = ()
    any_kinds: tuple[str, ...] = ()
    require_present: bool = False
    node_artifacts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    id: str
    name: str
    layer: Layer
    severity: Severity
    needs: Needs
    run: Callable[[ClusterModel], Iterator[Finding]]
    doc: str
    module: str

    @property
    def summary(self) -> str:
        return self.doc.strip().split("\n", 1)[0].strip()

    def section(self, name: str) -> str:
        """The text of one docstring section (``What it checks`` …)."""
        lines = self.doc.strip().split("\n")
        out: list[str] = []
        inside = False
        for line in lines:
            stripped = line.strip()
            header = next((s for s in DOC_SECTIONS if stripped.startswith(s + ":")), None)
            if header is not None:
                if inside:
                    break
                inside = header == name
                if inside:
                    rest = stripped[len(header) + 1 :].strip()
                    if rest:
                        out.append(rest)
                continue
            if inside:
                out.append(line)
        import textwrap

        return textwrap.dedent("\n".join(out)).strip()


@dataclass(frozen=True, slots=True)
class Skipped:
    check_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    checks_run: tuple[str, ...] = ()
    errors: tuple[Skipped, ...] = field(default_factory=tuple)
    """Checks that raised: recorded, never crash the scan."""


REGISTRY: dict[str, Check] = {}


def register(
    *, id: str, layer: Layer, severity: Severity, needs: Needs = Needs()
) -> Callable[[Callable[[ClusterModel], Iterator[Finding]]], Callable[[ClusterModel], Iterator[Finding]]]:
    def deco(fn: Callable[[ClusterModel], Iterator[Finding]]) -> Callable[[ClusterModel], Iterator[Finding]]:
        if id in REGISTRY and REGISTRY[id].module != fn.__module__:
            raise ValueError(f"check ID {id} registered twice ({REGISTRY[id].module}, {fn.__module__})")
        REGISTRY[id] = Check(
            id=id,
            name=fn.__name__,
            layer=layer,
            severity=severity,
            needs=needs,
            run=fn,
            doc=fn.__doc__ or "",
            module=fn.__module__,
        )
        return fn

    return deco


def load_all() -> dict[str, Check]:
    """Import every check module in ``netsleuth.checks.rules`` and return the registry."""
    from netsleuth.checks import rules

    for mod in pkgutil.iter_modules(rules.__path__):
        importlib.import_module(f"{rules.__name__}.{mod.name}")
    return dict(sorted(REGISTRY.items()))


def skip_reason(check: Check, model: ClusterModel) -> str | None:
    for kind in check.needs.kinds:
        res = KIND_RESOURCE.get(kind, kind.lower() + "s")
        if model.is_forbidden(res):
            return f"cannot list {res} (forbidden or failed)"
        if check.needs.require_present and not model.has_kind(kind):
            return f"no {kind} objects in the input"
    if check.needs.any_kinds and not any(model.has_kind(k) for k in check.needs.any_kinds):
        return "none of " + ", ".join(check.needs.any_kinds) + " in the input"
    for art in check.needs.node_artifacts:
        if not any(getattr(a, art, None) is not None for a in model.node_artifacts.values()):
            return f"no node artifacts with {art} (give a nodes/<node>/ folder)"
    return None


def select_checks(
    checks: Iterable[Check], select: Iterable[str] = (), ignore: Iterable[str] = ()
) -> list[Check]:
    """``select``/``ignore`` by full ID or prefix (``DNS``, ``SVC2``)."""
    sel = tuple(select)
    ign = tuple(ignore)
    out = []
    for c in checks:
        if sel and not any(c.id.startswith(s) for s in sel):
            continue
        if any(c.id.startswith(i) for i in ign):
            continue
        out.append(c)
    return out


def run_checks(model: ClusterModel, checks: Iterable[Check]) -> ScanResult:
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    errors: list[Skipped] = []
    ran: list[str] = []
    for c in checks:
        reason = skip_reason(c, model)
        if reason is not None:
            skipped.append(Skipped(c.id, reason))
            continue
        try:
            findings.extend(c.run(model))
        except Exception as exc:  # a bug in one check must not hide the others
            errors.append(Skipped(c.id, f"check failed: {type(exc).__name__}: {exc}"))
            continue
        ran.append(c.id)
    findings.sort(key=lambda f: (-f.severity.rank, f.rule_id, f.subject.ref()))
    return ScanResult(findings=tuple(findings), skipped=tuple(skipped), checks_run=tuple(ran), errors=tuple(errors))
