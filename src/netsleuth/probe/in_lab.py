"""Probes and conformance against a running lab."""

from __future__ import annotations

import shlex

from netsleuth.errors import NetsleuthError
from netsleuth.lab.state import LabState, load
from netsleuth.model.cluster import ClusterModel
from netsleuth.probe.conformance import ConformanceReport, agent_plans, compare, plan_pairs
from netsleuth.probe.lab_runner import agent_command, run_in_pod, run_many
from netsleuth.probe.plan import plan_probe
from netsleuth.probe.report import ProbeReport, read_result


class LabNotUp(NetsleuthError):
    pass


def running_lab(lab: str) -> LabState:
    state = load(lab)
    if state is None or state.plan is None:
        raise LabNotUp(f"no lab named {lab}", tip="netsleuth lab up -f CLUSTER --name NAME")
    if state.status != "up":
        raise LabNotUp(
            f"lab {lab} is {state.status}", tip=f"netsleuth lab down {lab}, then up again"
        )
    return state


def probe_in_lab(
    model: ClusterModel,
    lab: str,
    src: str,
    dst: str,
    *,
    port: int | None = None,
    protocol: str | None = None,
    timeout: float = 1.0,
    dns_timeout: float | None = None,
) -> ProbeReport:
    state = running_lab(lab)
    plan = state.plan
    assert plan is not None
    req = plan_probe(
        model,
        src,
        dst,
        port=port,
        protocol=protocol,
        usable=lambda p: plan.pod(p.namespace, p.name) is not None,
        domain=plan.cluster_domain,  # the domain the lab's DNS serves
    )
    pp = plan.pod(req.src.namespace, req.src.name)
    assert pp is not None
    agent_plan = req.agent_plan(timeout=timeout, dns_timeout=dns_timeout, mtu_max=pp.mtu)
    raw = run_in_pod(lab, pp, agent_plan)
    ex = ["ip", "netns", "exec", pp.netns]
    commands = [shlex.join(agent_command(pp.netns)) + " <<< " + shlex.quote(_compact(agent_plan))]
    for name in req.dns_names:
        commands.append(shlex.join([*ex, "getent", "ahosts", name]))
    for ip in req.mtu_targets[:1]:
        commands.append(
            shlex.join([*ex, "ping", "-c", "1", "-M", "do", "-s", str(pp.mtu - 28), ip])
        )
    return read_result(req, raw, backend=f"lab {lab}", src_mtu=pp.mtu, commands=tuple(commands))


def _compact(plan: object) -> str:
    import json

    return json.dumps(plan, separators=(",", ":"))


def conformance_in_lab(
    model: ClusterModel, lab: str, *, timeout: float = 1.5, concurrency: int = 4
) -> ConformanceReport:
    state = running_lab(lab)
    plan = state.plan
    assert plan is not None
    pairs, not_probed = plan_pairs(model, plan)
    plans = agent_plans(pairs, timeout, plan.cluster_domain)
    jobs = []
    for src, ap in plans.items():
        ns, name = src.split("/", 1)
        pp = plan.pod(ns, name)
        assert pp is not None
        jobs.append((pp, ap))
    outputs = run_many(lab, jobs, concurrency=concurrency)
    observed = {pp.key: out for (pp, _), out in zip(jobs, outputs, strict=True)}
    return compare(model, lab, pairs, observed, notes=plan.notes, not_probed=tuple(not_probed))
