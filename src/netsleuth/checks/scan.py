"""``scan`` as a library call: choose the checks, run them, scope and grade the result.

:func:`scan` is what ``netsleuth scan`` does between loading the model and
rendering: the CLI only parses flags and draws progress. The result is a
:class:`ScanReport`, which every scan renderer (table, json, sarif, …) reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from netsleuth.checks.base import Check, ScanConfig, ScanResult, load_all, run_checks
from netsleuth.errors import QueryError
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Severity
from netsleuth.model.problems import LoadProblem


def split_ids(values: Iterable[str] | None) -> tuple[str, ...]:
    """``["DNS,SVC2", "POL301"]`` -> ``("DNS", "SVC2", "POL301")`` (commas or repetition)."""
    out: list[str] = []
    for v in values or ():
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return tuple(out)


def choose_checks(
    registry: Iterable[Check], select: Sequence[str] = (), ignore: Sequence[str] = ()
) -> list[Check]:
    """The checks ``--select``/``--ignore`` leave (by full ID or prefix, case-insensitive).

    A selector that names no check is a usage error, not an empty scan: a typo
    (``--select DSN``) must not run nothing and pass.
    """
    checks = list(registry)
    ids = [c.id for c in checks]
    unknown = [s for s in (*select, *ignore) if not any(i.startswith(s.upper()) for i in ids)]
    if unknown:
        prefixes = sorted({"".join(ch for ch in i if ch.isalpha()) for i in ids})
        raise QueryError(
            f"unknown check ID{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            tip=f"give IDs or prefixes ({', '.join(prefixes)}, or e.g. SVC2); "
            "`netsleuth checks` lists every check.",
        )
    sel = tuple(s.upper() for s in select)
    ign = tuple(s.upper() for s in ignore)
    return [
        c
        for c in checks
        if (not sel or any(c.id.startswith(s) for s in sel))
        and not any(c.id.startswith(s) for s in ign)
    ]


def nothing_loaded(model: ClusterModel) -> bool:
    """No object and no node file came in: a scan of it proves nothing."""
    return not model.kinds_present and not model.node_artifacts


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanReport:
    """What a scan found, as the renderers need it."""

    result: ScanResult
    in_scope: tuple[Finding, ...]
    """Every finding inside the namespace scope (what ``--fail-on`` judges)."""
    findings: tuple[Finding, ...]
    """The findings to show: in scope and at or above the minimum severity."""
    checks: tuple[Check, ...]
    """The checks that were chosen (run, skipped or failed)."""
    problems: tuple[LoadProblem, ...] = ()
    empty_input: bool = False
    """Nothing was loaded (an empty directory, a filter that matched nothing)."""
    docs_base_uri: str | None = None
    """SARIF: where ``docs/checks`` is published (each rule's helpUri)."""

    def at_or_above(self, severity: Severity) -> list[Finding]:
        """Findings in scope (whatever ``--min-severity`` hides) at or above ``severity``."""
        return [f for f in self.in_scope if f.severity.rank >= severity.rank]

    def by_layer(self) -> list[tuple[str, Counter[Severity]]]:
        """Shown findings per layer, worst layer first (most errors, then warnings, then info)."""
        counts: dict[str, Counter[Severity]] = {}
        for f in self.findings:
            counts.setdefault(str(f.layer), Counter())[f.severity] += 1
        return sorted(
            counts.items(),
            key=lambda kv: (
                -kv[1][Severity.ERROR],
                -kv[1][Severity.WARNING],
                -kv[1][Severity.INFO],
                kv[0],
            ),
        )


def scan(
    model: ClusterModel,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    config: ScanConfig | None = None,
    namespace: str | None = None,
    min_severity: Severity = Severity.INFO,
    docs_base_uri: str | None = None,
    progress: Callable[[Check, int, int], Any] | None = None,
    checks: Iterable[Check] | None = None,
) -> ScanReport:
    """Run the chosen checks over ``model`` and keep the findings in scope.

    ``namespace`` keeps findings about that namespace and about cluster-scoped
    objects; ``min_severity`` hides lower findings from :attr:`ScanReport.findings`
    (``--fail-on`` still sees every finding in scope).
    """
    chosen = choose_checks(load_all().values() if checks is None else checks, select, ignore)
    result = run_checks(model, chosen, config, progress=progress)
    in_scope = tuple(
        f
        for f in result.findings
        if namespace is None or f.subject.namespace is None or f.subject.namespace == namespace
    )
    shown = tuple(f for f in in_scope if f.severity.rank >= min_severity.rank)
    return ScanReport(
        result=result,
        in_scope=in_scope,
        findings=shown,
        checks=tuple(chosen),
        problems=model.problems,
        empty_input=nothing_loaded(model),
        docs_base_uri=docs_base_uri,
    )
