"""``explain``: one policy question between two endpoints, as a report value.

The CLI resolves SRC and DST into endpoints (with notes such as "pod x of
deployment y"), then :func:`explain` evaluates either one port/protocol
(a :class:`~netsleuth.policy.decision.Decision`) or every port
(a :class:`~netsleuth.policy.decision.PortsDecision`). Renderers print the
report; the reasons come from the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import has_kube_dns, with_kube_dns
from netsleuth.policy.coverage import unreadable_policies
from netsleuth.policy.decision import Decision, Endpoint, PortsDecision
from netsleuth.policy.reference import evaluate, evaluate_ports


@dataclass(frozen=True, slots=True)
class ExplainReport:
    """What ``explain`` found. Exactly one of ``decision``/``ports`` is set."""

    src: Endpoint
    dst: Endpoint
    notes: tuple[str, ...]
    decision: Decision | None = None
    ports: PortsDecision | None = None
    unreadable: tuple[str, ...] = ()
    """Policy resources the source could not list, and invalid policies left out that
    could change this verdict: the verdict is then unknown."""

    @property
    def allowed(self) -> bool:
        """The single verdict, or whether any port of any protocol is allowed.

        Computed from the policies that were read; see :attr:`verdict`.
        """
        if self.decision is not None:
            return self.decision.allowed
        assert self.ports is not None
        return any(bool(s) for s in self.ports.combined.values())

    @property
    def verdict(self) -> str:
        """``allowed``, ``denied``, or ``unknown`` when policy kinds could not be read.

        An unread policy can only take connections away (NetworkPolicy and
        BANP/ANP Deny), or give back what another took (ANP Allow), so neither
        answer holds without it.
        """
        if self.unreadable:
            return "unknown"
        return "allowed" if self.allowed else "denied"


def explain(
    model: ClusterModel,
    src: Endpoint,
    dst: Endpoint,
    *,
    protocol: str | None = None,
    port: int | None = None,
    notes: tuple[str, ...] = (),
) -> ExplainReport:
    """Evaluate ``src -> dst`` on ``protocol/port``, or on every port when ``port`` is None."""
    unreadable = unreadable_policies(model, (_namespace(src), _namespace(dst)))
    if port is not None:
        d = evaluate(model, src, dst, protocol or "TCP", port)
        return ExplainReport(src, dst, notes, decision=d, unreadable=unreadable)
    return ExplainReport(
        src, dst, notes, ports=evaluate_ports(model, src, dst), unreadable=unreadable
    )


def _namespace(ep: Endpoint) -> str | None:
    """The namespace whose policies decide for ``ep`` (``None`` for addresses and the pseudo-peer)."""
    pod = getattr(ep, "pod", None)
    return pod.namespace if pod is not None else None


def model_for_explain(model: ClusterModel) -> tuple[ClusterModel, tuple[str, ...]]:
    """The model with a derived kube-dns when the input has none (and a note saying so)."""
    if has_kube_dns(model):
        return model, ()
    return with_kube_dns(model), (
        "the input has no kube-dns; a derived kube-system/kube-dns (k8s-app=kube-dns, "
        "53/UDP dns, 53/TCP dns-tcp) is assumed",
    )
