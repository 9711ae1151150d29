"""``netsleuth diff BEFORE AFTER``: connections lost, gained and changed.

Exit 3 when any is lost; exit 2 when a side holds a policy the API server
would reject (it is left out and the changes it could explain are unknown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from netsleuth.cli.common import (
    HostNetworkOpt,
    MaxFileSizeOpt,
    RequestTimeoutOpt,
    emit,
    output_choices,
    output_option,
    parse_duration,
    parse_max_file_size,
    render_context,
    require_input,
)
from netsleuth.cli.exit_codes import ExitCode
from netsleuth.errors import ForbiddenError, SourceError
from netsleuth.policy.host_network import HostNetworkMode

if TYPE_CHECKING:
    from netsleuth.model.cluster import ClusterModel

    DiffOutput = str
else:
    DiffOutput = output_choices("diff")


def _load_side(
    side: str,
    kubeconfig: str | None,
    context: str | None,
    timeout: float | None = None,
    max_file_bytes: int | None = None,
) -> ClusterModel:
    from netsleuth.sources import load_live, load_offline

    if side == "live":
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        model = require_input(load_live(kubeconfig=kubeconfig, context=context, **extra))
        _require_policies(model)
        return model
    return require_input(load_offline([side], max_file_bytes=max_file_bytes))


def _invalid_only(unreadable: tuple[str, ...]) -> tuple[str, ...]:
    from netsleuth.policy.coverage import POLICY_RESOURCES

    return tuple(u for u in unreadable if u not in POLICY_RESOURCES)


def _require_policies(model: ClusterModel) -> None:
    """A live side without its policies would diff as "every policy removed": refuse instead."""
    from netsleuth.policy.coverage import POLICY_RESOURCES

    tip = "diff needs list on the policy resources; check with `kubectl auth can-i list networkpolicies -A`."
    for res in POLICY_RESOURCES:
        if res in model.source.forbidden:
            raise ForbiddenError(
                f"cannot diff: the live cluster refused to list {res}",
                verb="list",
                resource=res,
                tip=tip,
            )
        if res in model.source.failed:
            raise SourceError(
                f"cannot diff: {res} could not be listed from the live cluster", tip=tip
            )


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff_cmd(
        before: Annotated[str, typer.Argument(help="A file or directory, or 'live'.")],
        after: Annotated[str, typer.Argument(help="A file or directory, or 'live'.")],
        kubeconfig: Annotated[
            str | None, typer.Option("--kubeconfig", help="Kubeconfig for a 'live' side.")
        ] = None,
        context: Annotated[
            str | None, typer.Option("--context", help="Context for a 'live' side.")
        ] = None,
        host_network: HostNetworkOpt = HostNetworkMode.NODE,
        request_timeout: RequestTimeoutOpt = None,
        max_file_size: MaxFileSizeOpt = None,
        output: Annotated[DiffOutput, output_option("diff")] = "table",
    ) -> None:
        """Connections lost, gained and changed between two versions (exit code 3 when any is lost).

        Each lost connection is explained on the AFTER side by the reference
        evaluator, with the policy change (file and line) that removed it.
        """
        from dataclasses import replace

        from netsleuth.policy.coverage import known_diff, unreadable_note, unreadable_policies
        from netsleuth.policy.diff import diff_models
        from netsleuth.policy.host_network import policy_view

        timeout = None if request_timeout is None else parse_duration(request_timeout)
        cap = None if max_file_size is None else parse_max_file_size(max_file_size)
        a = policy_view(_load_side(before, kubeconfig, context, timeout, cap), host_network)
        b = policy_view(_load_side(after, kubeconfig, context, timeout, cap), host_network)
        # Changes an invalid (left-out) policy on either side could explain are unknown:
        # not reported as lost or gained, and the run fails with exit 2.
        notes = tuple(
            f"{side}: {unreadable_note(u)}"
            for side, u in (
                ("before", _invalid_only(unreadable_policies(a))),
                ("after", _invalid_only(unreadable_policies(b))),
            )
            if u
        )
        report = replace(known_diff(a, b, diff_models(a, b)), notes=notes)
        emit(
            "diff",
            output,
            report,
            context=render_context(
                model=b, source=f"before: {before} · after: {after}", sides=(before, after)
            ),
        )
        if report.diff.lost:
            raise typer.Exit(ExitCode.DIFF_LOST)
        if notes:
            raise typer.Exit(ExitCode.USAGE)
