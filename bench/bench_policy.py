"""Policy matrix benchmark: netsleuth's matrix engine against network-config-analyzer (NCA).

    python bench/bench_policy.py                      # ours at 4 sizes, NCA at 100 and 1,000
    python bench/bench_policy.py --sizes 100,1000 --nca-sizes 100 --nca-timeout 600

Clusters come from ``bench/gen_cluster.py`` (deterministic per seed; one
workload = one Deployment behind one Service, ~15 pods each; as many
NetworkPolicies as workloads, of the generator's realistic shapes). Every
measurement runs in a fresh subprocess so peak RSS is the run's own:

- ours: load the JSON List, build the workload matrix (every workload pair,
  every port atom), count the allowed pairs; then ``explain`` as the CLI
  runs it after load (resolve two Deployments by name, evaluate every port
  or one, render the text), median and worst of 21 pairs.
- NCA: its connectivity map (txt output) over the same pods, namespaces and
  policies, run as ``nca --scheme`` so that it reports its query time apart
  from parsing; in its own venv (``bench/.venv-nca``, created on first use
  with ``pip install network-config-analyzer``), bounded by
  ``--nca-timeout``; a run that does not finish is printed as such.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "policy"
NCA_VENV = HERE / ".venv-nca"


def params(workloads: int) -> dict[str, int]:
    return {
        "nodes": max(3, workloads // 2),
        "pods": workloads * 15,
        "services": workloads,
        "policies": workloads,
        "namespaces": max(2, workloads // 20),
    }


def cluster(workloads: int, seed: int) -> Path:
    sys.path.insert(0, str(HERE))
    from gen_cluster import write_cluster

    path = OUT / f"cluster-{workloads}-{seed}.json"
    if not path.exists():
        write_cluster(path, seed=seed, **params(workloads))
    return path


_OURS = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from netsleuth.sources.load import load_offline
from netsleuth.policy.connlist import workload_matrix
model = load_offline([sys.argv[1]])
t1 = time.perf_counter()
wm = workload_matrix(model)
import numpy as np
if len(wm.chunks) == 1:  # pairs with any port, self-pairs not counted
    a = wm.chunks[0]
    pairs = int(np.count_nonzero(a)) - int(np.count_nonzero(np.diagonal(a)))
else:
    allowed = np.zeros(wm.chunks[0].shape, dtype=bool)
    for a in wm.chunks:
        allowed |= a != 0
    np.fill_diagonal(allowed, False)
    pairs = int(allowed.sum())
t2 = time.perf_counter()
# explain as the CLI runs it after load: resolve SRC/DST (workload names), evaluate, render.
from netsleuth.model.ports import parse_port
from netsleuth.policy.explain import build_report
from netsleuth.render.console import capture_console
from netsleuth.render.explain_table import render_explain
deps = [w for w in model.workloads if w.kind == "Deployment" and w.namespace != "kube-system"]
times = []
for k in range(21):
    a, b = deps[(k * 7919) % len(deps)], deps[(k * 104729 + 13) % len(deps)]
    port = "tcp/8080" if k % 2 else None
    t3 = time.perf_counter()
    rep = build_report(model, f"deployment/{a.namespace}/{a.name}", f"deployment/{b.namespace}/{b.name}", port=parse_port(port) if port else None)
    console, _ = capture_console(120)
    render_explain(rep, console, [])
    times.append((time.perf_counter() - t3) * 1000)
times.sort()
print(json.dumps({
    "load_s": t1 - t0, "matrix_s": t2 - t1, "total_s": t2 - t0, "explain_ms": times[len(times) // 2], "explain_max_ms": times[-1],
    "peers": len(wm.peers), "units": len(wm.engine.units), "atoms": wm.engine.atoms.count,
    "allowed_pairs": pairs, "pods": len(model.pods), "policies": len(model.network_policies),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_ours(path: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run(
        [sys.executable, "-c", _OURS, str(path)], capture_output=True, text=True, env=env
    )
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr else "failed"}
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def nca_inputs(path: Path) -> tuple[Path, Path, Path]:
    """Split the List into the pod list, namespace list and policy list NCA reads."""
    base = path.with_suffix("")
    files = (base.with_name(base.name + "-pods.json"), base.with_name(base.name + "-ns.json"))
    pol = base.with_name(base.name + "-policies.json")
    if not pol.exists():
        items = json.loads(path.read_bytes())["items"]
        for out, kind, list_kind in (
            (files[0], "Pod", "PodList"),
            (files[1], "Namespace", "NamespaceList"),
            (pol, "NetworkPolicy", "NetworkPolicyList"),
        ):
            sel = [o for o in items if o.get("kind") == kind]
            out.write_text(json.dumps({"apiVersion": "v1", "kind": list_kind, "items": sel}))
    return files[0], files[1], pol


def ensure_nca() -> Path | None:
    nca = NCA_VENV / "bin" / "nca"
    if nca.exists():
        return nca
    print(f"installing network-config-analyzer into {NCA_VENV} ...", flush=True)
    r = subprocess.run([sys.executable, "-m", "venv", str(NCA_VENV)])
    if r.returncode == 0:
        r = subprocess.run(
            [str(NCA_VENV / "bin" / "pip"), "install", "-q", "network-config-analyzer"]
        )
    return nca if r.returncode == 0 and nca.exists() else None


def run_nca(path: Path, timeout: float) -> dict[str, Any]:
    """NCA's connectivity map over the same cluster, through a scheme file.

    The scheme runner prints its own split: "Parsing time" (the policies) and
    "Queries time" (the connectivity map). The wall time covers the whole run,
    topology parsing and text output included.
    """
    nca = ensure_nca()
    if nca is None:
        return {"error": "network-config-analyzer could not be installed"}
    pods, ns, pol = nca_inputs(path)
    scheme = path.with_name(path.stem + "-scheme.yaml")
    scheme.write_text(
        json.dumps(
            {
                "namespaceList": ns.name,
                "podList": pods.name,
                "networkConfigList": [{"name": "np", "networkPolicyList": [pol.name]}],
                "queries": [
                    {
                        "name": "connectivity_map",
                        "connectivityMap": ["np"],
                        "outputConfiguration": {"outputFormat": "txt"},
                    }
                ],
            }
        )
    )
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", str(nca), "--scheme", str(scheme)],
            cwd=scheme.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # so a timeout stops nca too, not only /usr/bin/time
        )
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"timeout": timeout}
    except FileNotFoundError:
        return {"error": "/usr/bin/time missing"}
    elapsed = time.perf_counter() - t0
    rss = err.strip().splitlines()[-1] if err.strip() else ""
    m = re.search(r"Queries time:\s*([0-9.]+)", out)
    return {
        "total_s": elapsed,
        "map_s": float(m.group(1)) if m else None,
        "peak_rss_mb": int(rss) / 1024 if rss.isdigit() else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,1000,3000,10000", help="workload counts (ours)")
    ap.add_argument("--nca-sizes", default="100,1000", help="workload counts for NCA")
    ap.add_argument("--nca-timeout", type=float, default=900.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args(argv)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    nca_sizes = [int(x) for x in a.nca_sizes.split(",") if x]
    rows: list[dict[str, Any]] = []
    print(
        f"{'workloads':>9} {'pods':>7} {'policies':>8} {'load s':>7} {'matrix s':>8} {'total s':>7} "
        f"{'RSS MB':>7} {'explain ms':>10} {'allowed pairs':>13} {'NCA s run/map':>13} {'ratio run/map':>16}",
        flush=True,
    )
    for w in sorted(set(sizes) | set(nca_sizes)):
        path = cluster(w, a.seed)
        ours = run_ours(path) if w in sizes or w in nca_sizes else {}
        nca = run_nca(path, a.nca_timeout) if w in nca_sizes else {}
        row = {"workloads": w, "ours": ours, "nca": nca}
        rows.append(row)
        if "error" in ours:
            print(f"{w:>9} ours failed: {ours['error']}")
            continue
        if "total_s" in nca:
            nca_txt = f"{nca['total_s']:.1f}/{nca['map_s'] or 0:.1f}"
            ratio = f"{nca['total_s'] / ours['total_s']:.0f}x"
            if nca.get("map_s"):
                ratio += f" / {nca['map_s'] / ours['matrix_s']:.0f}x"
        elif "timeout" in nca:
            nca_txt, ratio = f">{nca['timeout']:.0f}", "-"
            print(f"          NCA did not finish in {nca['timeout']:.0f} s at {w} workloads")
        elif nca:
            nca_txt, ratio = "error", "-"
            print(f"          NCA: {nca.get('error')}")
        else:
            nca_txt, ratio = "-", "-"
        print(
            f"{w:>9} {ours['pods']:>7} {ours['policies']:>8} {ours['load_s']:>7.2f} "
            f"{ours['matrix_s']:>8.2f} {ours['total_s']:>7.2f} {ours['peak_rss_mb']:>7.0f} "
            f"{ours['explain_ms']:>10.1f} {ours['allowed_pairs']:>13} {nca_txt:>13} {ratio:>16}",
            flush=True,
        )
    print(
        "ratio run: NCA's whole run (load, map, text output) over ours including load; "
        "ratio map: NCA's connectivity-map query time over our matrix time."
    )
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
