"""Whole-process ``netsleuth connectivity`` against network-config-analyzer (NCA) 2.1.0.

Both read the same ``kubectl get -A -o yaml`` style dump (one YAML ``List``,
keys sorted as kubectl prints them) of a cluster from ``bench/gen_cluster.py``
(one workload = one Deployment behind one Service, ~15 pods each, as many
NetworkPolicies as workloads) and write the whole connectivity map to a pipe:

- ours: ``netsleuth connectivity -f cluster.yaml -o json`` (and ``-o table``,
  ``-o csv``), start-up, YAML, model, matrix and JSON included;
- NCA: ``nca --connectivity -r cluster.yaml -o txt``, in its own venv
  (``bench/.venv-nca``, created on first use), bounded by ``--nca-timeout``.

Every figure is the minimum wall time of ``--runs`` fresh processes (and the
CPU time of that run): the machine is shared, and the minimum is the run the
others disturbed least. The phases of one of our runs are timed in-process
(``--phases``, wall and CPU) to say where the time goes. The ratio is given by
wall (``nca_over_ours_json``) and by CPU (``nca_over_ours_json_cpu``): on a
shared machine the CPU ratio is the steadier one.

    python bench/bench_connectivity.py --workloads 400
    python bench/bench_connectivity.py --workloads 400 --phases --runs 5

Goal (issue 9): at 400 workloads, ours >= 25x faster than NCA, whole process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "connectivity"
NCA_VENV = HERE / ".venv-nca"
NCA_VERSION = "2.1.0"
sys.path.insert(0, str(HERE))


def cluster_yaml(workloads: int, seed: int) -> Path:
    """The generated cluster as ``kubectl get -A -o yaml`` prints it (cached)."""
    from bench_policy import cluster

    path = OUT / f"cluster-{workloads}-{seed}.yaml"
    if not path.exists():
        import yaml

        doc = json.loads(cluster(workloads, seed).read_bytes())
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w") as out:
            yaml.dump(doc, out, Dumper=yaml.CSafeDumper, default_flow_style=False, sort_keys=True)
    return path


def _timed(argv: list[str], timeout: float, cwd: Path | None = None) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"timeout": timeout}
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        return {"error": err.decode(errors="replace").strip().splitlines()[-1:]}
    return {"wall_s": wall, "cpu_s": cpu, "stdout_bytes": len(out)}


def best(argv: list[str], runs: int, timeout: float, cwd: Path | None = None) -> dict[str, Any]:
    results = [_timed(argv, timeout, cwd) for _ in range(runs)]
    ok = [r for r in results if "wall_s" in r]
    if not ok:
        return results[0]
    r = min(ok, key=lambda r: r["wall_s"])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}


def ensure_nca() -> Path | None:
    nca = NCA_VENV / "bin" / "nca"
    if nca.exists():
        return nca
    print(f"installing network-config-analyzer {NCA_VERSION} into {NCA_VENV} ...", file=sys.stderr)
    r = subprocess.run([sys.executable, "-m", "venv", str(NCA_VENV)])
    if r.returncode == 0:
        r = subprocess.run(
            [
                str(NCA_VENV / "bin" / "pip"),
                "install",
                "-q",
                f"network-config-analyzer=={NCA_VERSION}",
            ]
        )
    return nca if r.returncode == 0 and nca.exists() else None


_PHASES = r"""
import os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as netsleuth's CLI sets it
def now():
    return time.perf_counter(), time.process_time()
t0 = now()
from netsleuth.cli.common import emit, gc_paused
from netsleuth.sources.load import load_offline
from netsleuth.policy.reports import connectivity_report
t1 = now()
model = load_offline([sys.argv[1]])
t2 = now()
with gc_paused():  # as the command runs them
    report = connectivity_report(model)
t3 = now()
import io, contextlib
buf = io.StringIO()
from netsleuth.render.output import Output
from netsleuth.render.formats import FORMATS
with gc_paused():
    FORMATS.get("connectivity", sys.argv[2]).load()(report, Output(stream=buf))
t4 = now()
import json
out = {"connections": len(report.connections)}
for i, unit in ((0, "s"), (1, "cpu_s")):
    out.update({f"imports_{unit}": t1[i] - t0[i], f"load_{unit}": t2[i] - t1[i],
                f"engine_{unit}": t3[i] - t2[i], f"render_{unit}": t4[i] - t3[i]})
print(json.dumps(out))
"""


def phases(path: Path, fmt: str) -> dict[str, Any]:
    r = subprocess.run(
        [sys.executable, "-c", _PHASES, str(path), fmt], capture_output=True, text=True, check=True
    )
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in json.loads(r.stdout).items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--nca-runs", type=int, default=1)
    ap.add_argument("--nca-timeout", type=float, default=900)
    ap.add_argument("--no-nca", action="store_true")
    ap.add_argument("--phases", action="store_true", help="time our phases in-process too")
    a = ap.parse_args(argv)
    path = cluster_yaml(a.workloads, a.seed)
    ns = [str(ROOT / ".venv" / "bin" / "netsleuth"), "connectivity", "-f", str(path)]
    res: dict[str, Any] = {
        "workloads": a.workloads,
        "yaml_mb": round(path.stat().st_size / 1e6, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    for fmt in ("json", "table", "csv"):
        res[f"ours_{fmt}"] = best([*ns, "-o", fmt], a.runs, 3600)
    if a.phases:
        res["ours_phases_json"] = phases(path, "json")
    if not a.no_nca:
        nca = ensure_nca()
        if nca is None:
            res["nca"] = {"error": "network-config-analyzer could not be installed"}
        else:
            res["nca"] = best(
                [str(nca), "--connectivity", "-r", str(path), "-o", "txt"],
                a.nca_runs,
                a.nca_timeout,
                cwd=path.parent,
            )
            if "wall_s" in res["nca"] and "wall_s" in res["ours_json"]:
                res["nca_over_ours_json"] = round(
                    res["nca"]["wall_s"] / res["ours_json"]["wall_s"], 1
                )
                res["nca_over_ours_json_cpu"] = round(
                    res["nca"]["cpu_s"] / res["ours_json"]["cpu_s"], 1
                )
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
