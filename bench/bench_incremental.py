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
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
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


def edited(
    path: Path,
    shape: str,
    target: tuple[str, str],
    policy: Any = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[Path, str]:
    """The same List with one NetworkPolicy changed.

    ``edited``: ``edit`` applied to the spec of ``policy`` (the edit the re-check
    figures use). ``added``: a new policy isolates workload ``target``
    (namespace, app) for ingress and admits only its own namespace.
    """
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
            meta = obj.get("metadata", {})
            if (
                obj.get("kind") == "NetworkPolicy"
                and meta.get("name") == policy.name
                and meta.get("namespace") == policy.namespace
            ):
                assert edit is not None
                edit(obj["spec"])
                name = f"{policy.namespace}/{policy.name}"
                break
    tag = name.replace("/", "-") if shape == "edited" else shape
    out = path.with_name(f"{path.stem}-{tag}.json")
    if not out.exists():
        # compact: the loader reads at most 256 MiB from one file
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


def timed_cpu(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Result, wall seconds, CPU seconds of this process."""
    t0, c0 = time.perf_counter(), time.process_time()
    r = fn()
    return r, time.perf_counter() - t0, time.process_time() - c0


def spread(xs: list[float]) -> str:
    """``median (min-max)`` in ms."""
    return f"{ms(statistics.median(xs))} ({ms(min(xs))}-{ms(max(xs))})"


def size(d: Any) -> int:
    return len(d.lost) + len(d.gained) + len(d.changed)


def first_that_changes(
    inc: Any, candidates: Iterable[tuple[str, list[Any], list[Any]]], limit: int
) -> tuple[str, list[Any], list[Any], int, int] | None:
    """The first candidate change that flips at least one connection: (what, forward,
    back, connections flipped, candidates tried). Each try is applied and reverted."""
    for tried, (what, forward, back) in enumerate(candidates, start=1):
        n = size(inc.apply(forward))
        inc.apply(back)
        if n:
            return what, forward, back, n, tried
        if tried >= limit:
            break
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=7, help="runs per change (median reported)")
    ap.add_argument("--diff-runs", type=int, default=3, help="runs of each two-dump diff")
    ap.add_argument(
        "--check", action="store_true", help="compare each result with a full recompute"
    )
    ap.add_argument("--no-diff", action="store_true", help="skip the two-dump diff")
    ap.add_argument(
        "--no-full", action="store_true", help="skip every full recompute (incremental only)"
    )
    ap.add_argument(
        "--full-each",
        action="store_true",
        help="also recompute every changed cluster in full (minutes per change at the envelope)",
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
        IncrementalConnectivity,
        RemovePolicy,
        SetNamespaceLabels,
        SetPodLabels,
        SetPolicy,
        diff_incremental,
    )
    from netsleuth.sources.load import load_offline

    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
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
    print(
        f"incremental setup: {t_init:.2f} s (materialize={args.check}: "
        + ("the full list kept too" if args.check else "no full list, as `diff` uses it")
        + ")",
        flush=True,
    )

    # ---- the changes: for each kind, the first candidate that flips connections
    pols = list(model.network_policies)
    by_name = {(p.namespace, p.name): p for p in pols}
    owner_pods: dict[tuple[str, str], list[Any]] = {}
    for pod in model.pods:
        ref = model.owner(pod)
        owner_pods.setdefault((pod.namespace, ref.name), []).append(pod)

    json_edits: dict[str, Callable[[dict[str, Any]], None]] = {}
    """The same edit on a policy's JSON spec, for the two-dump diff."""

    def edits() -> Iterator[tuple[str, list[Any], list[Any]]]:
        # in turn: a same-app policy admits its namespace on TCP 9443 instead of one app
        # on http; it also isolates egress (DNS only); an ipblock policy excepts one more
        # /16 from its 10.0.0.0/8
        same_app = [p for p in pols if p.name.startswith("same-app") and p.ingress]
        ipblock = [p for p in pols if p.name.startswith("ipblock") and p.ingress]
        for i in range(max(len(same_app), len(ipblock))):
            if i < len(same_app):
                p = same_app[i]
                widened = dataclasses.replace(
                    p,
                    ingress=(
                        PolicyRule(
                            peers=(PolicyPeer(pod_selector=LabelSelector()),),
                            ports=(PolicyPort(protocol="TCP", port=9443),),
                        ),
                    ),
                )
                what = (
                    f"{p.namespace}/{p.name}: ingress from any pod of the namespace on TCP "
                    "9443 instead of one app on http"
                )
                json_edits[what] = lambda spec: spec["ingress"].__setitem__(
                    0, {"from": [{"podSelector": {}}], "ports": [{"port": 9443, "protocol": "TCP"}]}
                )
                yield what, [SetPolicy(widened)], [SetPolicy(p)]
            if i < len(same_app) and not same_app[i].affects_egress:
                p = same_app[i]
                dns_only = PolicyRule(
                    peers=(PolicyPeer(namespace_selector=LabelSelector()),),
                    ports=(
                        PolicyPort(protocol="UDP", port=53),
                        PolicyPort(protocol="TCP", port=53),
                    ),
                )
                isolated = dataclasses.replace(
                    p, policy_types=("Ingress", "Egress"), egress=(dns_only,)
                )
                what = f"{p.namespace}/{p.name}: also isolates egress (DNS only)"
                json_edits[what] = lambda spec: spec.update(
                    policyTypes=["Ingress", "Egress"],
                    egress=[
                        {
                            "to": [{"namespaceSelector": {}}],
                            "ports": [
                                {"port": 53, "protocol": "UDP"},
                                {"port": 53, "protocol": "TCP"},
                            ],
                        }
                    ],
                )
                yield what, [SetPolicy(isolated)], [SetPolicy(p)]
            if i < len(ipblock):
                p = ipblock[i]
                rule = p.ingress[0]
                block = rule.peers[0].ip_block
                if block is None:
                    continue
                extra = f"10.{(i * 7 + 3) % 20}.0.0/16"
                if extra in block.except_:
                    continue
                narrowed = dataclasses.replace(
                    p,
                    ingress=(
                        dataclasses.replace(
                            rule,
                            peers=(
                                PolicyPeer(
                                    ip_block=IPBlock(
                                        cidr=block.cidr, except_=(*block.except_, extra)
                                    )
                                ),
                            ),
                        ),
                        *p.ingress[1:],
                    ),
                )
                what = f"{p.namespace}/{p.name}: ipBlock {block.cidr} also excepts {extra}"
                json_edits[what] = lambda spec, extra=extra: (
                    spec["ingress"][0]["from"][0]["ipBlock"].setdefault("except", []).append(extra)
                )
                yield what, [SetPolicy(narrowed)], [SetPolicy(p)]

    def removals() -> Iterator[tuple[str, list[Any], list[Any]]]:
        for prefix in ("expr", "from-ns", "and-peer", "same-app", "range"):
            for p in pols:
                if p.name.startswith(prefix):
                    yield (
                        f"{p.namespace}/{p.name} removed",
                        [RemovePolicy(p.namespace, p.name)],
                        [SetPolicy(p)],
                    )

    def additions() -> Iterator[tuple[str, list[Any], list[Any]]]:
        for (ns, app), _pods in owner_pods.items():
            if ns == "kube-system" or (ns, "bench-new") in by_name:
                continue
            new_pol = NetworkPolicy(
                meta=Meta(name="bench-new", namespace=ns),
                pod_selector=LabelSelector.from_match_labels({"app": app}),
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
            yield (
                f"{ns}/bench-new on app={app}: new port, new ipBlock (new cuts)",
                [SetPolicy(new_pol)],
                [RemovePolicy(ns, "bench-new")],
            )

    def ns_relabels() -> Iterator[tuple[str, list[Any], list[Any]]]:
        for ns in sorted(model.namespaces):
            labels = dict(model.namespace_labels(ns))
            for key, value in (("env", "dev"), ("team", "bench")):
                if labels.get(key) != value:
                    yield (
                        f"namespace {ns}: {key}={value}",
                        [SetNamespaceLabels(ns, {**labels, key: value})],
                        [SetNamespaceLabels(ns, labels)],
                    )

    apps_in: dict[str, list[str]] = {}
    for pod in model.pods:
        app = pod.labels.get("app")
        if app is not None and app not in apps_in.setdefault(pod.namespace, []):
            apps_in[pod.namespace].append(app)

    def pod_relabels() -> Iterator[tuple[str, list[Any], list[Any]]]:
        # one pod takes another app's label: policies and peers of that app now see it
        for (ns, _owner), pods in owner_pods.items():
            pod = pods[0]
            labels = dict(pod.labels)
            if "app" not in labels or ns == "kube-system":
                continue
            for other in apps_in.get(ns, [])[:3]:
                if other != labels["app"]:
                    yield (
                        f"pod {ns}/{pod.name}: app={labels['app']} -> app={other}",
                        [SetPodLabels(ns, pod.name, {**labels, "app": other})],
                        [SetPodLabels(ns, pod.name, labels)],
                    )

    kinds = [
        ("policy edited", edits()),
        ("policy removed (re-added as revert)", removals()),
        ("policy added", additions()),
        ("namespace relabelled", ns_relabels()),
        ("pod relabelled", pod_relabels()),
    ]
    print()
    print(
        f"{args.runs} runs per change; ms as median (min-max); the change is the first "
        "candidate that flips a connection"
    )
    print(
        f"{'change':36} {'flipped':>9} {'re-check ms (wall)':>22} {'CPU ms':>8} "
        f"{'revert ms (wall)':>22} {'full recompute s':>17}"
    )
    chosen: dict[str, tuple[str, list[Any]]] = {}
    mismatches = 0
    for label, candidates in kinds:
        found = first_that_changes(inc, candidates, limit=200)
        if found is None:
            print(f"{label:36} no candidate flipped a connection")
            continue
        what, forward, back, n, tried = found
        chosen[label] = (what, forward)
        walls: list[float] = []
        cpus: list[float] = []
        reverts: list[float] = []
        for _ in range(args.runs):
            d1, w1, c1 = timed_cpu(lambda forward=forward: inc.apply(forward))
            _, w2, _ = timed_cpu(lambda back=back: inc.apply(back))
            assert size(d1) == n
            walls.append(w1)
            cpus.append(c1)
            reverts.append(w2)
        t_full_after = float("nan")
        if args.check or args.full_each:
            inc.apply(forward)
            after_model = inc.current_model()
            full_after, t_full_after = timed(lambda m=after_model: connectivity(m))
            if args.check:
                mismatches += inc.connections() != full_after
            del full_after, after_model
            inc.apply(back)
            inc._model = model  # back to the loaded model (the change was reverted)
            gc.collect()
        print(
            f"{label:36} {n:>9,} {spread(walls):>22} {ms(statistics.median(cpus)):>8} "
            f"{spread(reverts):>22} {t_full_after:>17.2f}",
            flush=True,
        )
        print(f"    {what} (candidate {tried})")
    if args.check:
        print(f"check against the full recompute: {mismatches} mismatch(es)")
    print(
        "with AdminNetworkPolicy/BaselineAdminNetworkPolicy in the cluster every change is "
        "recomputed in full (not measured here: the generated cluster has none)"
    )
    gc.collect()

    # ---- diff of two dumps that differ in one policy
    if not args.no_diff:
        target = _unselected_workload(model)
        what_edit, edit_fwd = chosen.get("policy edited", ("", []))
        shapes: list[tuple[str, Any, Any]] = [("added", None, None)]
        if edit_fwd:
            shapes.insert(0, ("edited", edit_fwd[0].policy, json_edits[what_edit]))
        for shape, pol, fn in shapes:
            after_path, name = edited(path, shape, target, pol, fn)
            model_b, t_load_b = timed(lambda after_path=after_path: load_offline([str(after_path)]))
            print()
            print(f"diff: {path.name} vs {after_path.name} (NetworkPolicy {name} {shape})")
            print(f"load of the second dump: {t_load_b:.2f} s")
            walls, cpus = [], []
            d: Any = None
            for _ in range(args.diff_runs):
                d, w, c = timed_cpu(lambda model_b=model_b: diff_incremental(model, model_b))
                walls.append(w)
                cpus.append(c)
            assert d is not None, "diff_incremental could not express the change"
            print(
                f"diff engine, incremental: {spread(walls)} ms wall, "
                f"{ms(statistics.median(cpus))} ms CPU, {args.diff_runs} runs "
                f"({len(d.lost)} lost, {len(d.gained)} gained, {len(d.changed)} changed)"
            )
            report, t_report = timed(lambda model_b=model_b: diff_models(model, model_b))
            print(
                f"diff_models (incremental + reference explanations of {size(d)} "
                f"connection(s)): {t_report:.3f} s"
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
    print(f"load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
