"""A lab's state file: ``/run/netsleuth/labs/<lab>/state.json``.

Written before the first namespace is created and updated as the lab is
built, so a crash mid-build leaves a record; ``lab down`` also finds a lab's
objects by their prefix when the file is gone. ``/run`` is a tmpfs: the
file vanishes on reboot, as the namespaces do.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netsleuth.facts.cluster_domain import DEFAULT_CLUSTER_DOMAIN
from netsleuth.lab import names
from netsleuth.lab.plan import DnsRecord, LabPlan, NodePlan, PodPlan, Skipped

STATE_VERSION = 1


@dataclass(slots=True, kw_only=True)
class LabState:
    lab: str
    status: str = "building"
    created: str = ""
    paths: list[str] = field(default_factory=list)
    max_pods: int = 0
    netns: list[str] = field(default_factory=list)
    pids: dict[str, list[int]] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    plan: LabPlan | None = None

    @property
    def dir(self) -> Path:
        return Path(names.state_dir(self.lab))

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "version": STATE_VERSION,
            "lab": self.lab,
            "status": self.status,
            "created": self.created,
            "paths": self.paths,
            "max_pods": self.max_pods,
            "netns": self.netns,
            "pids": self.pids,
            "faults": self.faults,
            "timings": self.timings,
        }
        if self.plan is not None:
            d["plan"] = dataclasses.asdict(self.plan)
        return d


def plan_from_json(d: dict[str, Any]) -> LabPlan:
    return LabPlan(
        lab=d["lab"],
        wan_netns=d["wan_netns"],
        wan_prefixlen=d["wan_prefixlen"],
        wan_gateway=d["wan_gateway"],
        nodes=tuple(NodePlan(**n) for n in d["nodes"]),
        pods=tuple(
            PodPlan(**{**p, "listen": tuple((str(a), int(b)) for a, b in p["listen"])})
            for p in d["pods"]
        ),
        cluster_cidr=d["cluster_cidr"],
        dns_records=tuple(DnsRecord(**r) for r in d["dns_records"]),
        skipped=tuple(Skipped(**s) for s in d["skipped"]),
        notes=tuple(d["notes"]),
        cluster_domain=str(d.get("cluster_domain") or DEFAULT_CLUSTER_DOMAIN),
    )


def save(state: LabState) -> None:
    state.dir.mkdir(parents=True, exist_ok=True)
    tmp = state.dir / "state.json.tmp"
    tmp.write_text(json.dumps(state.to_json(), indent=1, sort_keys=True))
    os.replace(tmp, state.dir / "state.json")


def load(lab: str) -> LabState | None:
    """The lab's state, or ``None`` when it has no (readable) state file."""
    path = Path(names.state_dir(lab)) / "state.json"
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(d, dict) or d.get("lab") != lab:
        return None
    try:
        plan = plan_from_json(d["plan"]) if d.get("plan") else None
    except (KeyError, TypeError):
        plan = None
    return LabState(
        lab=lab,
        status=str(d.get("status", "unknown")),
        created=str(d.get("created", "")),
        paths=list(d.get("paths", [])),
        max_pods=int(d.get("max_pods", 0)),
        netns=list(d.get("netns", [])),
        pids={k: list(v) for k, v in d.get("pids", {}).items()},
        faults=list(d.get("faults", [])),
        timings=dict(d.get("timings", {})),
        plan=plan,
    )


def known_labs() -> list[str]:
    root = Path(names.STATE_ROOT)
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        try:
            names.check_lab_name(d.name)
        except names.LabNameError:
            continue
        out.append(d.name)
    return out
