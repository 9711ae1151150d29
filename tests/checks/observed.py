"""Fixture folders may carry observed data beside the cluster: ``flows.jsonl``
(`hubble observe -o json` lines). This adds it to the scan config, as
``netsleuth flows`` does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from netsleuth.checks.base import ScanConfig
from netsleuth.model.cluster import ClusterModel


def with_observed(
    folder: Path, model: ClusterModel, config: ScanConfig | None
) -> ScanConfig | None:
    flows_file = folder / "flows.jsonl"
    if not flows_file.exists():
        return config
    from netsleuth.flows import summarize
    from netsleuth.sources.hubble import read_flows

    summary = summarize(model, read_flows([str(flows_file)]))
    return replace(config or ScanConfig(), flows=summary)
