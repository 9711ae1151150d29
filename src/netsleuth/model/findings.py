"""The vocabulary of diagnoses: layers, verdicts, evidence, findings.

Shared by ``checks`` (findings), ``trace`` (hops) and ``render``. A
:class:`Finding` says what is wrong, how sure we are, the evidence (object,
field path, value), the commands that confirm it live, and the fix.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from netsleuth.model.commands import Command, Snippet


class Layer(enum.StrEnum):
    """Where on the packet path something happens (same vocabulary for trace and scan)."""

    DNS = "dns"
    SERVICE = "service"
    ENDPOINTS = "endpoints"
    TARGET_PORT = "target-port"
    POLICY_EGRESS = "policy-egress"
    POLICY_INGRESS = "policy-ingress"
    NODE = "node"
    OVERLAY = "overlay"
    MTU = "mtu"
    KUBE_PROXY = "kube-proxy"
    CONNTRACK = "conntrack"
    INGRESS = "ingress"
    LOADBALANCER = "loadbalancer"
    MESH = "mesh"
    CNI = "cni"
    IPAM = "ipam"


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Confidence(enum.StrEnum):
    """How the fact behind a finding was obtained."""

    OBSERVED = "observed"  # live API state or an active probe
    ARTIFACTS = "artifacts"  # node files / flow logs from a bundle
    INFERRED = "inferred"  # derived from manifests only


class Verdict(enum.StrEnum):
    """A hop's status, or a trace's verdict.

    - ``ok``: verified from the input.
    - ``broken``: a verified fault on this path.
    - ``warning``: a verified degradation on this path.
    - ``unknown``: the input holds data that leaves the answer open
      (contradicting or ambiguous evidence).
    - ``not-checked``: the data this hop needs is absent (the hop says which,
      and the command that collects it). Never changes a verdict.
    - ``skipped``: the hop does not apply to this path (a headless Service has
      no kube-proxy hop).
    """

    OK = "ok"
    BROKEN = "broken"
    WARNING = "warning"
    UNKNOWN = "unknown"
    NOT_CHECKED = "not-checked"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str
    namespace: str | None
    name: str

    def ref(self) -> str:
        return (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind}/{self.name}"
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact: the object (``Kind/namespace/name``), the field path, and its value."""

    object: str
    field: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fix:
    """What to change: the prose, and a command or a YAML snippet when one can be written.

    ``command`` applies the fix (``kubectl patch …``) and ``snippet`` is YAML
    to merge into the manifest; both are values built with
    :mod:`netsleuth.model.commands` (argv quoted in one place, JSON and YAML
    written by serializers), never strings formatted from names.
    """

    text: str
    command: Command | None = None
    snippet: Snippet | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    rule_id: str
    layer: Layer
    severity: Severity
    confidence: Confidence
    subject: Subject
    message: str
    evidence: tuple[Evidence, ...] = ()
    confirm: tuple[Command, ...] = ()
    """Commands that confirm the finding live (see :mod:`netsleuth.model.commands`)."""
    fix: Fix | None = None
    origin_file: str | None = None
    origin_line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Inconclusive:
    """A check that applies but cannot decide from the input, and why.

    Said instead of staying silent when the input's coverage is ambiguous:
    an Ingress names a TLS Secret and the input holds no Secret of that
    namespace, but Secrets were not listed across namespaces either, so
    absence proves nothing. ``confirm`` collects what is missing.
    """

    rule_id: str
    subject: Subject
    reason: str
    confirm: tuple[Command, ...] = ()
