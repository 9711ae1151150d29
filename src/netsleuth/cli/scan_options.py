"""The options that decide which findings a scan gives, for every command that scans.

``netsleuth scan`` and ``netsleuth report`` (whose page holds the scan's
findings) take them from here, so the two spell, document and parse them one
way, and ``report`` shows what ``scan`` shows with the same options
(``tests/render/test_report_options.py`` compares the two commands' options).
The Prometheus options live in :mod:`netsleuth.cli.observed` (``trace`` takes
them too), and the options of the policy view (``--host-network``) in
:mod:`netsleuth.cli.common`.

Imported when the CLI starts: nothing heavy at module level.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.errors import QueryError

if TYPE_CHECKING:
    from netsleuth.checks.base import ScanConfig

SelectOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        help="Only these checks: IDs or prefixes (DNS, SVC2), comma-separated or repeated.",
    ),
]
IgnoreOpt = Annotated[
    list[str] | None, typer.Option("--ignore", help="Skip these checks: IDs or prefixes.")
]
ExtraCidrsOpt = Annotated[
    str | None,
    typer.Option(
        "--extra-cidrs",
        help="Comma-separated ranges outside the cluster (VPN, peered VPCs) "
        "that must not overlap pod or service CIDRs.",
    ),
]
ServiceCidrOpt = Annotated[
    str | None, typer.Option("--service-cidr", help="The cluster's Service CIDR, if known.")
]


def parse_extra_cidrs(value: str | None) -> tuple[str, ...]:
    """``--extra-cidrs 10.8.0.0/16,192.168.0.0/24`` -> canonical CIDR strings (bad ones are usage errors)."""
    from netsleuth.checks.scan import split_ids

    cidrs: list[str] = []
    for part in split_ids([value] if value else None):
        try:
            cidrs.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise QueryError(
                f"not a CIDR: {part!r}",
                tip="give comma-separated CIDRs, e.g. --extra-cidrs 10.8.0.0/16,192.168.50.0/24",
            ) from exc
    return tuple(cidrs)


def scan_config(
    extra_cidrs: str | None, service_cidr: str | None, cluster_domain: str | None = None
) -> ScanConfig:
    """The :class:`~netsleuth.checks.base.ScanConfig` of the options (a bad CIDR is exit 2,
    before anything is loaded; ``--prometheus`` adds ``metrics`` once it was asked)."""
    from netsleuth.checks.base import ScanConfig

    cidrs = parse_extra_cidrs(extra_cidrs)
    svc_cidr = parse_extra_cidrs(service_cidr)[0] if service_cidr else None  # same validation
    return ScanConfig(extra_cidrs=cidrs, service_cidr=svc_cidr, cluster_domain=cluster_domain)
