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

A check that needs user input takes the frozen :class:`ScanConfig` too;
say so with ``config=True`` and accept it as the second argument::

    @register(id="CNI402", layer=Layer.IPAM, severity=Severity.ERROR, config=True)
    def cidr_overlap(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
        for cidr in config.extra_cidrs: ...

``ScanConfig`` fields (all have defaults, so ``ScanConfig()`` is valid):

- ``extra_cidrs``: user-given ranges (VPN, peered VPCs, on-prem) that must
  not overlap pod or service CIDRs (``scan --extra-cidrs``).
- ``service_cidr``: the Service CIDR when the user knows it (``None``: infer
  from ClusterIPs, or assume the kubeadm default ``10.96.0.0/12``).
- ``cluster_domain``: the cluster DNS domain when the user gives it
  (``--cluster-domain``); ``None`` (the default) means the one the input shows
  (:func:`netsleuth.facts.cluster_domain.cluster_domain`: kubelet config, CoreDNS
  Corefile, kubeadm ClusterConfiguration), else ``cluster.local``. Checks read it
  through ``cluster_domain(model, config.cluster_domain)``.
- ``restart_threshold``: container restarts from which a pod counts as
  churning (default 5).

Helpers for check authors:

- :func:`confidence_for(model, *metas, artifacts=False)` — ``OBSERVED`` for
  live input, ``ARTIFACTS`` when the fact comes from node files,
  ``INFERRED`` for manifests only or derived objects (``meta.derived``).
- :func:`finding(...)` builds a :class:`Finding` with the layer and
  severity of the registered check and the subject's manifest file and line
  (``meta.origin``), which SARIF uses to point at the manifest.

The runner skips a check, recording a :class:`Skipped` value with the
reason, when the data it needs is missing (kind absent from the input),
forbidden (RBAC) or when node artifacts are needed and none were given.
Checks of observed data (``Needs(observed="flows"|"metrics")``) run only
when the config carries that data, and are left out otherwise.
A check that does not apply yields nothing; it never reports "passed". A check
that applies but cannot decide from the input (its coverage is ambiguous)
yields an :class:`Inconclusive` with the reason (:func:`inconclusive`); the
runner keeps those apart in ``ScanResult.inconclusive``.
A check that raises is recorded in ``ScanResult.errors`` and the scan goes on.
"""

from __future__ import annotations

import importlib
import pkgutil
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from netsleuth.facts.faults import Fault
from netsleuth.facts.faults import culprit_subject as culprit_subject  # for checks
from netsleuth.facts.faults import ref as ref  # checks build evidence refs with it
from netsleuth.model.cluster import ClusterModel, SourceKind, resource_of
from netsleuth.model.commands import Command
from netsleuth.model.findings import (
    Confidence,
    Evidence,
    Finding,
    Fix,
    Inconclusive,
    Layer,
    Severity,
    Subject,
)
from netsleuth.model.immutable import guard_fix
from netsleuth.model.objects import Meta

if TYPE_CHECKING:
    from netsleuth.flows import FlowSummary
    from netsleuth.model.metrics import MetricsSnapshot

DOC_SECTIONS = (
    "What it checks",
    "Why it breaks traffic",
    "Example",
    "Fix",
    "Confirm live",
    "References",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanConfig:
    """User input some checks need. Frozen; every field has a default."""

    extra_cidrs: tuple[str, ...] = ()
    """Ranges outside the cluster (VPN, peered VPCs) that must not overlap pod/service CIDRs."""
    service_cidr: str | None = None
    """The Service CIDR if known; ``None`` means infer it (or assume ``10.96.0.0/12``)."""
    cluster_domain: str | None = None
    """The user's ``--cluster-domain``; ``None``: derived from the input (see above)."""
    restart_threshold: int = 5
    """Container restarts from which a pod counts as churning / crash-looping."""
    flows: FlowSummary | None = None
    """Observed Hubble flows, summarised (``netsleuth flows``)."""
    metrics: MetricsSnapshot | None = None
    """Signals a Prometheus answered (``scan --prometheus URL``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Needs:
    """What a check needs.

    ``kinds``: every one must be loadable (not forbidden); with
    ``require_present`` they must also be present in the input.
    ``any_kinds``: at least one must be present. ``node_artifacts``: the
    node files the check reads (``iptables``, ``links``, ``conntrack``…),
    at least one node must have each. ``observed``: the observed data the
    check reads (``flows`` or ``metrics``).
    """

    kinds: tuple[str, ...] = ()
    any_kinds: tuple[str, ...] = ()
    require_present: bool = False
    node_artifacts: tuple[str, ...] = ()
    observed: str | None = None
    """``flows`` or ``metrics``: the check reads observed traffic or signals
    (:attr:`ScanConfig.flows` / :attr:`ScanConfig.metrics`) and is skipped without them."""
    signals: tuple[str, ...] = ()
    """With ``observed="metrics"``: the signals (:data:`netsleuth.model.metrics.SIGNALS`)
    the check reads; it is skipped (not checked) unless Prometheus measured every one."""


CheckFn = Callable[..., Iterator[Finding | Inconclusive]]
F = TypeVar("F", bound=CheckFn)


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    id: str
    name: str
    layer: Layer
    severity: Severity
    needs: Needs
    run: CheckFn
    """``run(model)``, or ``run(model, config)`` when ``takes_config``."""
    doc: str
    module: str
    takes_config: bool = False

    def execute(
        self, model: ClusterModel, config: ScanConfig | None = None
    ) -> Iterator[Finding | Inconclusive]:
        """Run the check, passing the config when it declared it takes one."""
        if self.takes_config:
            return self.run(model, config if config is not None else ScanConfig())
        return self.run(model)

    @property
    def summary(self) -> str:
        return self.doc.strip().split("\n", 1)[0].strip()

    def section(self, name: str) -> str:
        """The text of one docstring section (``What it checks`` …), dedented.

        Text on the header line itself (``What it checks: the root block…``)
        starts the section; the indented lines after it are dedented on their own.
        """
        lines = self.doc.strip().split("\n")
        first: list[str] = []
        rest: list[str] = []
        inside = False
        for line in lines:
            stripped = line.strip()
            header = next((s for s in DOC_SECTIONS if stripped.startswith(s + ":")), None)
            if header is not None:
                if inside:
                    break
                inside = header == name
                if inside:
                    text = stripped[len(header) + 1 :].strip()
                    if text:
                        first.append(text)
                continue
            if inside:
                rest.append(line)
        body = textwrap.dedent("\n".join(rest)).strip("\n")
        if first and body:
            # a paragraph begun on the header line continues on the dedented lines
            return (first[0] + "\n" + body).strip()
        return (first[0] if first else body).strip()


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
    inconclusive: tuple[Inconclusive, ...] = field(default_factory=tuple)
    """Checks that apply to an object but cannot decide from the input (with the reason)."""


REGISTRY: dict[str, Check] = {}


def register(
    *,
    id: str,
    layer: Layer,
    severity: Severity,
    needs: Needs = Needs(),
    config: bool = False,
) -> Callable[[F], F]:
    """Register a check. ``config=True``: the function takes ``(model, config)``."""

    def deco(fn: F) -> F:
        if id in REGISTRY and REGISTRY[id].module != fn.__module__:
            raise ValueError(
                f"check ID {id} registered twice ({REGISTRY[id].module}, {fn.__module__})"
            )
        REGISTRY[id] = Check(
            id=id,
            name=fn.__name__,
            layer=layer,
            severity=severity,
            needs=needs,
            run=fn,
            doc=fn.__doc__ or "",
            module=fn.__module__,
            takes_config=config,
        )
        return fn

    return deco


def load_all() -> dict[str, Check]:
    """Import every check module in ``netsleuth.checks.rules`` and return the registry."""
    from netsleuth.checks import rules

    for mod in pkgutil.iter_modules(rules.__path__):
        importlib.import_module(f"{rules.__name__}.{mod.name}")
    return dict(sorted(REGISTRY.items()))


# --------------------------------------------------------------------------- helpers for checks


def confidence_for(model: ClusterModel, *metas: Meta, artifacts: bool = False) -> Confidence:
    """How sure a finding is, from where its facts came.

    Node files give ``ARTIFACTS``; any derived object (a pod implied by a
    workload template) or offline manifests give ``INFERRED``; live API
    state gives ``OBSERVED``.
    """
    if artifacts:
        return Confidence.ARTIFACTS
    if any(m.derived for m in metas):
        return Confidence.INFERRED
    if model.source.kind == SourceKind.LIVE:
        return Confidence.OBSERVED
    return Confidence.INFERRED


def finding(
    rule_id: str,
    model: ClusterModel,
    *,
    kind: str,
    meta: Meta,
    message: str,
    evidence: Iterable[Evidence] = (),
    confirm: Iterable[Command] = (),
    fix: Fix | str | None = None,
    severity: Severity | None = None,
    confidence: Confidence | None = None,
    also: Iterable[Meta] = (),
    artifacts: bool = False,
    layer: Layer | None = None,
) -> Finding:
    """A :class:`Finding` for a registered check about the object ``kind``/``meta``.

    ``kind``/``meta`` name the object a person changes (see
    :mod:`netsleuth.facts.attribution`), not the pod where the symptom shows.
    Layer and severity come from the registry (``severity`` overrides;
    ``layer`` files the finding under the layer of the object to change when
    that differs per finding, e.g. a policy's direction);
    confidence from :func:`confidence_for` over ``meta`` and ``also``; the
    manifest file and line from ``meta.origin`` (offline input only).
    """
    check = REGISTRY[rule_id]
    if confidence is None:
        confidence = confidence_for(model, meta, *also, artifacts=artifacts)
    origin = meta.origin
    subject = Subject(kind, meta.namespace, meta.name)
    return Finding(
        rule_id=rule_id,
        layer=layer or check.layer,
        severity=severity or check.severity,
        confidence=confidence,
        subject=subject,
        message=message,
        evidence=tuple(evidence),
        confirm=tuple(confirm),
        # a patch the API server would reject (an immutable field) becomes "recreate"
        fix=guard_fix(Fix(text=fix) if isinstance(fix, str) else fix, kind, subject.ref()),
        origin_file=None if origin.live else origin.file,
        origin_line=None if origin.live else origin.line,
    )


def findings_from(rule_id: str, model: ClusterModel, faults: Iterable[Fault]) -> Iterator[Finding]:
    """The findings of check ``rule_id`` for faults from :mod:`netsleuth.facts` (the trace
    reads the same faults, so scan and trace say the same thing about them)."""
    for f in faults:
        yield finding(
            rule_id,
            model,
            kind=f.kind,
            meta=f.meta,
            message=f.message,
            evidence=f.evidence,
            confirm=f.confirm,
            fix=f.fix,
            severity=f.severity,
            also=f.also,
            artifacts=f.artifacts,
            layer=f.layer,
        )


def inconclusive(
    rule_id: str,
    *,
    kind: str,
    meta: Meta,
    reason: str,
    confirm: Iterable[Command] = (),
) -> Inconclusive:
    """An :class:`Inconclusive` for a registered check about ``kind``/``meta``."""
    return Inconclusive(
        rule_id=rule_id,
        subject=Subject(kind, meta.namespace, meta.name),
        reason=reason,
        confirm=tuple(confirm),
    )


# --------------------------------------------------------------------------- runner


OBSERVED_MISSING = {
    "flows": "no Hubble flows given (netsleuth flows FILE)",
    "metrics": "no Prometheus given (--prometheus URL)",
}


def observed_available(check: Check, config: ScanConfig | None) -> bool:
    """Whether the observed data the check reads (if any) was given."""
    kind = check.needs.observed
    if kind is None:
        return True
    return config is not None and getattr(config, kind, None) is not None


def skip_reason(check: Check, model: ClusterModel, config: ScanConfig | None = None) -> str | None:
    if not observed_available(check, config):
        return OBSERVED_MISSING.get(check.needs.observed or "", "observed data not given")
    if check.needs.signals and config is not None and config.metrics is not None:
        for signal in check.needs.signals:
            why = config.metrics.not_measured(signal)
            if why is not None:
                return why
    for kind in check.needs.kinds:
        res = resource_of(kind)
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
    """``select``/``ignore`` by full ID or prefix (``DNS``, ``SVC2``), case-insensitive."""
    sel = tuple(s.strip().upper() for s in select if s.strip())
    ign = tuple(i.strip().upper() for i in ignore if i.strip())
    out = []
    for c in checks:
        if sel and not any(c.id.startswith(s) for s in sel):
            continue
        if any(c.id.startswith(i) for i in ign):
            continue
        out.append(c)
    return out


def run_checks(
    model: ClusterModel,
    checks: Iterable[Check],
    config: ScanConfig | None = None,
    *,
    progress: Callable[[Check, int, int], Any] | None = None,
) -> ScanResult:
    """Run ``checks`` over ``model``: skipped and failing checks become values.

    ``progress(check, index, total)`` is called before each check (the CLI
    draws a progress bar with it on a terminal).
    """
    cfg = config if config is not None else ScanConfig()
    # Checks of observed data (flows, metrics) belong to the commands that were given
    # that data (`netsleuth flows`, `scan --prometheus`); a manifest scan leaves them out.
    todo = [c for c in checks if observed_available(c, cfg)]
    findings: list[Finding] = []
    undecided: list[Inconclusive] = []
    skipped: list[Skipped] = []
    errors: list[Skipped] = []
    ran: list[str] = []
    for i, c in enumerate(todo):
        if progress is not None:
            progress(c, i, len(todo))
        reason = skip_reason(c, model, cfg)
        if reason is not None:
            skipped.append(Skipped(c.id, reason))
            continue
        try:
            for item in c.execute(model, cfg):
                if isinstance(item, Inconclusive):
                    undecided.append(item)
                else:
                    findings.append(item)
        except Exception as exc:  # a bug in one check must not hide the others
            errors.append(Skipped(c.id, f"check failed: {type(exc).__name__}: {exc}"))
            continue
        ran.append(c.id)
    findings.sort(key=lambda f: (-f.severity.rank, f.rule_id, f.subject.ref(), f.message))
    undecided.sort(key=lambda i: (i.rule_id, i.subject.ref()))
    return ScanResult(
        findings=tuple(findings),
        skipped=tuple(skipped),
        checks_run=tuple(ran),
        errors=tuple(errors),
        inconclusive=tuple(undecided),
    )
