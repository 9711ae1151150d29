"""Incremental re-check against a full recompute, side by side in one run.

    python bench/bench_incremental.py                    # 1,000 workloads (15,000 pods)
    python bench/bench_incremental.py --workloads 10000  # the envelope: 150,000 pods
    python bench/bench_incremental.py --workloads 300 --check

One process, the cluster from ``bench/gen_cluster.py`` (cached under
``bench/out/``; one workload = one Deployment, ~15 pods, one Service, one
NetworkPolicy; 20 workloads per namespace). Load times are printed but not
part of the engine figures. It prints:

1. the full recompute: ``connectivity(model)``, every connection;
2. the incremental state's setup (``IncrementalConnectivity``, no matrix);
3. per change kind, the re-check after the change and after reverting it, and
   the full recompute of the changed cluster for comparison (one per kind):
   a policy's allowed source edited, a policy removed and re-added, a new
   policy with a new port and a new ipBlock (new cuts), a namespace
   relabelled, a pod relabelled. ``--check`` also compares every result with
   the full recompute (slow at the envelope);
4. ``netsleuth diff`` of two dumps that differ in one policy (the AFTER file
   is written next to the cluster): the engine time of ``diff_models`` (the
   incremental path, with the explanations) against both full connection
   lists and their diff.

It asserts nothing: figures only (and ``--check`` mismatches, counted).
``--no-full`` skips every full recompute (incremental figures alone, minutes
faster at the envelope). Above ``--full-diff-max`` connections the two full
lists of step 4 are not built (at the envelope each holds 53.6 million
connections, ~10 GB: both at once exhaust a 23 GB machine); the figure
printed is then the lower bound, twice the full recompute.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "incremental"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))


def cluster(workloads: int, seed: int) -> Path:
    from gen_cluster import write_cluster

    path = OUT / f"cluster-{workloads}-{seed}.json"
    if not path.exists():
        write_cluster(
            path,
            seed=seed,
            nodes=max(3, workloads // 2),
            pods=workloads * 15,
            services=workloads,
            policies=workloads,
            namespaces=max(2, workloads // 20),
        )
    return path


def edited(path: Path, shape: str, target: tuple[str, str]) -> tuple[Path, str]:
    """The same List with one NetworkPolicy changed.

    ``same-app``: the first same-app policy admits every pod of its namespace
    instead of one app (an edit). ``added``: a new policy isolates workload
    ``target`` (namespace, app) for ingress and admits only its own namespace.
    """
    out = path.with_name(f"{path.stem}-{shape}-edited.json")
    doc = json.loads(path.read_bytes())
    name = ""
    if shape == "added":
        ns, app = target
        name = f"{ns}/bench-own-namespace-only"
        doc["items"].append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "bench-own-namespace-only", "namespace": ns},
                "spec": {
                    "podSelector": {"matchLabels": {"app": app}},
                    "ingress": [{"from": [{"podSelector": {}}]}],
                },
            }
        )
    else:
        for obj in doc["items"]:
            if obj.get("kind") == "NetworkPolicy" and obj["metadata"]["name"].startswith(shape):
                obj["spec"]["ingress"][0]["from"][0]["podSelector"] = {}
                name = f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"
                break
    if not out.exists():
        out.write_bytes(json.dumps(doc, separators=(",", ":")).encode())
    return out, name


def _unselected_workload(model: Any) -> tuple[str, str]:
    """(namespace, app) of a Deployment no policy selects by its labels (only podSelector {})."""
    from netsleuth.policy import Direction, policies_selecting

    for w in model.workloads:
        if w.kind != "Deployment" or w.namespace == "kube-system" or w.template is None:
            continue
        pods = [p for p in model.pods_by_namespace[w.namespace] if model.owner(p).name == w.name]
        if pods and all(
            pol.pod_selector.is_empty
            for pol in policies_selecting(model, pods[0], Direction.INGRESS)
        ):
            return w.namespace, w.template.labels["app"]
    raise SystemExit("no unselected workload")


def ms(t: float) -> str:
    return f"{t * 1000:.1f}"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--check", action="store_true", help="compare each result with a full recompute"
    )
    ap.add_argument("--no-diff", action="store_true", help="skip the two-dump diff")
    ap.add_argument(
        "--no-full", action="store_true", help="skip every full recompute (incremental only)"
    )
    ap.add_argument(
        "--full-diff-max",
        type=int,
        default=5_000_000,
        help="compare the diff with both full lists only below this many connections "
        "(two lists are held at once: ~10 GB each at 53 million connections)",
    )
    args, _ = ap.parse_known_args(argv)

    from netsleuth.model.objects import (
        IPBlock,
        Meta,
        NetworkPolicy,
        PolicyPeer,
        PolicyPort,
        PolicyRule,
    )
    from netsleuth.model.selectors import LabelSelector
    from netsleuth.policy.connlist import connectivity, diff
    from netsleuth.policy.diff import diff_models
    from netsleuth.policy.incremental import (
        Change,
        IncrementalConnectivity,
        RemovePolicy,
        SetNamespaceLabels,
        SetPodLabels,
        SetPolicy,
        diff_incremental,
    )
    from netsleuth.sources.load import load_offline

    path = cluster(args.workloads, args.seed)
    print(f"cluster: {path.name}", flush=True)
    model, t_load = timed(lambda: load_offline([str(path)]))
    print(
        f"load: {t_load:.2f} s ({len(model.pods):,} pods, "
        f"{len(model.network_policies):,} policies, {len(model.namespaces):,} namespaces)",
        flush=True,
    )
    gc.collect()
    n_full = 0
    t_full = 0.0
    if not args.no_full:
        full, t_full = timed(lambda: connectivity(model))
        n_full = len(full)
        print(f"full recompute (connectivity): {t_full:.2f} s, {n_full:,} connections", flush=True)
        del full
        gc.collect()
    inc, t_init = timed(lambda: IncrementalConnectivity(model, materialize=args.check))
    print(f"incremental setup: {t_init:.2f} s", flush=True)

    # ---- the changes (each applied, then reverted)
    pols = list(model.network_policies)
    same_app = next(p for p in pols if p.name.startswith("same-app"))
    expr = next(p for p in pols if p.name.startswith("expr"))
    ns = same_app.namespace
    dep = next(w for w in model.workloads if w.kind == "Deployment" and w.namespace == ns)
    pod = next(p for p in model.pods if p.namespace == ns and model.owner(p).name == dep.name)
    widened = dataclasses.replace(
        same_app,
        ingress=(
            dataclasses.replace(
                same_app.ingress[0],
                peers=(PolicyPeer(pod_selector=LabelSelector()),),  # any pod of the namespace
            ),
        ),
    )
    new_pol = NetworkPolicy(
        meta=Meta(name="bench-new", namespace=ns),
        pod_selector=LabelSelector.from_match_labels({"app": dep.name}),
        policy_types=("Ingress", "Egress"),
        ingress=(
            PolicyRule(
                peers=(PolicyPeer(namespace_selector=LabelSelector()),),
                ports=(PolicyPort(protocol="TCP", port=7443),),
            ),
        ),
        egress=(
            PolicyRule(
                peers=(PolicyPeer(ip_block=IPBlock(cidr="198.51.100.0/24")),),
                ports=(PolicyPort(protocol="TCP", port=6443),),
            ),
        ),
    )
    ns_labels = dict(model.namespace_labels(ns))
    pod_labels = dict(pod.labels)
    kinds: list[tuple[str, list[Change], list[Change]]] = [
        ("policy edited (allowed source widened)", [SetPolicy(widened)], [SetPolicy(same_app)]),
        (
            "policy removed, re-added",
            [RemovePolicy(expr.namespace, expr.name)],
            [SetPolicy(expr)],
        ),
        (
            "policy added (new port, new ipBlock)",
            [SetPolicy(new_pol)],
            [RemovePolicy(ns, "bench-new")],
        ),
        (
            "namespace relabelled (env=dev)",
            [SetNamespaceLabels(ns, {**ns_labels, "env": "dev"})],
            [SetNamespaceLabels(ns, ns_labels)],
        ),
        (
            "pod relabelled (app changed)",
            [SetPodLabels(pod.namespace, pod.name, {**pod_labels, "app": "other"})],
            [SetPodLabels(pod.namespace, pod.name, pod_labels)],
        ),
    ]
    print()
    print(
        f"{'change':42} {'re-check ms':>12} {'revert ms':>10} {'changed conns':>14} "
        f"{'full recompute s':>17}"
    )
    mismatches = 0
    for label, forward, back in kinds:
        d1, t1 = timed(lambda forward=forward: inc.apply(forward))
        n = len(d1.lost) + len(d1.gained) + len(d1.changed)
        after_model, _ = timed(inc.current_model)
        t_full_after = float("nan")
        if not args.no_full:
            full_after, t_full_after = timed(lambda m=after_model: connectivity(m))
            if args.check:
                mismatches += inc.connections() != full_after
            del full_after
            gc.collect()
        d2, t2 = timed(lambda back=back: inc.apply(back))
        if args.check:
            mismatches += d2 != diff(connectivity(after_model), connectivity(inc.current_model()))
        print(f"{label:42} {ms(t1):>12} {ms(t2):>10} {n:>14,} {t_full_after:>17.2f}", flush=True)
        del after_model
        inc._model = model  # back to the loaded model (the changes were reverted)
    if args.check:
        print(f"check against the full recompute: {mismatches} mismatch(es)")
    gc.collect()

    # ---- diff of two dumps that differ in one policy
    if not args.no_diff:
        target = _unselected_workload(model)
        for shape in ("same-app", "added"):
            after_path, name = edited(path, shape, target)
            model_b, t_load_b = timed(lambda after_path=after_path: load_offline([str(after_path)]))
            print()
            print(f"diff: {path.name} vs {after_path.name} (NetworkPolicy {name} edited)")
            print(f"load of the second dump: {t_load_b:.2f} s")
            d, t_conn = timed(lambda model_b=model_b: diff_incremental(model, model_b))
            assert d is not None
            n = len(d.lost) + len(d.gained) + len(d.changed)
            print(
                f"diff engine, incremental: {t_conn:.3f} s "
                f"({len(d.lost)} lost, {len(d.gained)} gained, {len(d.changed)} changed)"
            )
            report, t_report = timed(lambda model_b=model_b: diff_models(model, model_b))
            print(
                f"diff_models (incremental + reference explanations of {n} connection(s)): "
                f"{t_report:.3f} s"
            )
            if args.no_full:
                pass
            elif n_full > args.full_diff_max:
                print(
                    f"diff engine, both full lists: not run ({n_full:,} connections per list, "
                    f"over --full-diff-max); at least 2 x {t_full:.0f} s = {2 * t_full:.0f} s"
                )
            else:
                full_d, t_fd = timed(
                    lambda model_b=model_b: diff(connectivity(model), connectivity(model_b))
                )
                same = full_d == report.diff
                print(f"diff engine, both full lists: {t_fd:.2f} s (same result: {same})")
                del full_d
            del model_b, report
            gc.collect()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
