"""Run the probe agent inside a lab pod with ``ip netns exec``.

``ip netns exec`` enters the pod's network namespace and bind-mounts
``/etc/netns/<netns>/resolv.conf`` (written by ``lab up`` from the pod's
dnsPolicy and dnsConfig) over ``/etc/resolv.conf``, so the agent reads the
resolver configuration the kubelet would have given the pod.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from netsleuth.lab import names
from netsleuth.lab.plan import PodPlan


class ProbeRunError(RuntimeError):
    pass


def agent_command(netns: str) -> list[str]:
    return ["ip", "netns", "exec", netns, sys.executable, "-m", "netsleuth.probe.agent"]


def run_in_pod(
    lab: str, pod: PodPlan, plan: dict[str, Any], timeout: float = 300
) -> dict[str, Any]:
    if not names.owns_netns(lab, pod.netns):
        raise ProbeRunError(f"{pod.netns} is not a namespace of lab {lab}")
    proc = subprocess.run(
        agent_command(pod.netns),
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise ProbeRunError(f"probe agent in {pod.key} failed: {proc.stderr.strip()[-500:]}")
    try:
        out = json.loads(proc.stdout)
    except ValueError as e:
        raise ProbeRunError(f"probe agent in {pod.key} printed no JSON: {e}") from e
    if not isinstance(out, dict):
        raise ProbeRunError(f"probe agent in {pod.key} printed no JSON object")
    return out


def run_many(
    lab: str, jobs: list[tuple[PodPlan, dict[str, Any]]], *, concurrency: int = 4
) -> list[dict[str, Any]]:
    """One agent per source pod, ``concurrency`` at a time (the agents themselves
    probe their targets in parallel)."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = [pool.submit(run_in_pod, lab, pod, plan) for pod, plan in jobs]
        return [f.result() for f in futures]
