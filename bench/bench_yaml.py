"""YAML parsers on PyPI against Kubernetes' reading, and netsleuth's YAML load vs JSON.

    python bench/bench_yaml.py                 # corpus agreement + speed on a 3,000-pod dump
    python bench/bench_yaml.py --envelope      # + load of a 150,000-pod `kubectl get -A -o yaml`

1. Agreement: every YAML document in the repository (tests/, the demo) read by
   each candidate, compared value-and-type with ``yaml_k8s.K8sLoader`` (libyaml
   with go-yaml v2's scalar rules through JSON: what kubectl sees).
2. Speed: parse-only CPU time of each candidate on a ``kubectl get -A -o yaml``
   dump (bench/kubectl_yaml.py writes go-yaml's layout), against orjson on the
   same data as JSON.
3. ``--envelope``: netsleuth's whole offline load (parse, decode, build_model) of
   the 150k-pod dump as YAML and as JSON, each in a fresh process.

The candidates are not netsleuth dependencies: ``--install`` puts them in
``bench/.venv-yaml/site`` (added to sys.path) with pip. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
SITE = HERE / ".venv-yaml" / "site"
CANDIDATES = ["rapidyaml", "ryaml", "fastyaml-rs", "oryaml", "py-yaml12"]  # yaml-rs: a dependency


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return {(type(k), k) for k in a} == {(type(k), k) for k in b} and all(
            _same(a[k], b[k]) for k in a
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _readers() -> dict[str, Callable[[str], Any]]:
    import yaml

    from netsleuth.sources import yaml_k8s

    out: dict[str, Callable[[str], Any]] = {
        "PyYAML CSafeLoader (stock)": lambda t: yaml.load(t, Loader=yaml.CSafeLoader),
        "netsleuth K8sLoader (libyaml)": lambda t: yaml.load(t, Loader=yaml_k8s.K8sLoader),
    }
    import yaml_rs

    out["yaml-rs 1.2 (Rust)"] = lambda t: yaml_rs.loads(
        t, parse_datetime=False, duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.LastWins
    )
    for label, mod, fn in [
        ("fastyaml-rs (Rust)", "fast_yaml", "safe_load"),
        ("oryaml (Rust)", "oryaml", "loads"),
        ("py-yaml12 (Rust)", "yaml12", "parse_yaml"),
        ("ryaml (Rust)", "ryaml", "loads"),
    ]:
        try:
            out[label] = getattr(__import__(mod), fn)
        except ImportError:
            print(f"  ({label} not installed: --install)")
    try:
        import orjson
        import ryml

        out["rapidyaml (C++) emit_json+orjson"] = lambda t: orjson.loads(
            ryml.emit_json(ryml.parse_in_arena(t.encode()))
        )
    except ImportError:
        print("  (rapidyaml not installed: --install)")
    out["netsleuth fast path (yaml-rs unless risky)"] = yaml_k8s.load
    return out


def _netsleuth_read(text: str) -> Any:
    """netsleuth's reading of a file's text: documents, big Lists sliced, risky items alone."""
    from netsleuth.sources.manifests import iter_yaml_documents

    return list(iter_yaml_documents(text, "dump.yaml"))


_SEP = re.compile(r"^---(?:\s|$)", re.MULTILINE)


def agreement() -> None:
    import yaml

    from netsleuth.sources import yaml_k8s

    readers = _readers()
    files = sorted(
        p
        for root in (REPO / "tests", REPO / "src" / "netsleuth" / "data")
        for p in root.rglob("*")
        if p.suffix in (".yaml", ".yml")
    )
    docs: list[tuple[Any, str]] = []
    for f in files:
        for body in _SEP.split(f.read_text(errors="replace")):
            if not body.strip():
                continue
            try:
                docs.append((yaml.load(body, Loader=yaml_k8s.K8sLoader), body))
            except Exception:
                docs.append((None, body))
    good = [d for d in docs if d[0] is not None]
    fast = sum(1 for _, b in good if yaml_k8s.load_fast(b) is not yaml_k8s.NOT_FAST)
    print(
        f"agreement with Kubernetes' reading: {len(files)} files, {len(good)} documents "
        f"({len(docs) - len(good)} malformed, skipped); the fast path takes {fast}"
    )
    print(f"  {'reader':45} {'identical':>9} {'differ':>7} {'errors':>7}")
    for name, fn in readers.items():
        same = differ = err = 0
        for want, body in good:
            try:
                got = fn(body)
            except BaseException:
                err += 1
                continue
            if _same(got, want):
                same += 1
            else:
                differ += 1
        print(f"  {name:45} {same:9} {differ:7} {err:7}")


def speed(path: Path) -> None:
    import gc

    import orjson

    gc.disable()
    text = path.read_text()
    raw = orjson.loads(path.with_suffix("").with_suffix(".json").read_bytes())
    jbytes = orjson.dumps(raw)
    del raw

    def cpu(fn: Callable[[], Any], n: int = 3) -> float:
        best = math.inf
        for _ in range(n):
            t = time.process_time()
            fn()
            best = min(best, time.process_time() - t)
        return best

    mb = len(text) / 1e6
    base = cpu(lambda: orjson.loads(jbytes))
    print(f"parse-only CPU on {path.name} ({mb:.1f} MB YAML, {len(jbytes) / 1e6:.1f} MB JSON)")
    print(f"  {'orjson, the same data as JSON':45} {base:7.3f} s {'1.0x':>7}")
    readers = _readers()
    readers.pop("netsleuth fast path (yaml-rs unless risky)")
    readers["netsleuth read: risk scan, slices, objects"] = _netsleuth_read
    for name, fn in readers.items():
        n = 1 if "PyYAML" in name or "K8sLoader" in name else 3
        s = cpu(lambda fn=fn: fn(text), n)  # type: ignore[misc]
        print(f"  {name:45} {s:7.3f} s {s / base:6.1f}x  {mb / s:5.1f} MB/s")
    gc.enable()


_LOAD = """
import sys, time, resource
from netsleuth.sources.load import load_offline
w = time.perf_counter(); c = time.process_time()
m = load_offline([sys.argv[1]], max_file_bytes=1 << 30)
print(time.perf_counter() - w, time.process_time() - c,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(m.pods))
"""


def envelope() -> dict[str, float]:
    js = OUT / "cluster-envelope-1.json"
    if not js.exists():
        subprocess.run(
            [sys.executable, str(HERE / "gen_cluster.py"), "--preset", "envelope", "-o", str(js)],
            check=True,
        )
    ym = OUT / "cluster-envelope-1.kubectl.yaml"
    if not ym.exists():
        subprocess.run(
            [sys.executable, str(HERE / "kubectl_yaml.py"), str(js), "-o", str(ym)], check=True
        )
    fig: dict[str, float] = {}
    for label, p in (("json", js), ("yaml", ym)):
        r = subprocess.run(
            [sys.executable, "-c", _LOAD, str(p)], capture_output=True, text=True, check=True
        )
        wall, cpu, rss, pods = (float(x) for x in r.stdout.split())
        fig.update({f"{label}_wall_s": wall, f"{label}_cpu_s": cpu, f"{label}_rss_mb": rss})
        print(
            f"  load_offline {label:4} {p.stat().st_size / 1e6:6.0f} MB: wall {wall:6.1f} s, "
            f"CPU {cpu:6.1f} s, peak RSS {rss:5.0f} MB, {pods:.0f} pods"
        )
    print(
        f"  YAML / JSON: CPU {fig['yaml_cpu_s'] / fig['json_cpu_s']:.1f}x, "
        f"wall {fig['yaml_wall_s'] / fig['json_wall_s']:.1f}x (goal < 3x)"
    )
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--envelope", action="store_true", help="also load the 150k-pod dump")
    ap.add_argument("--install", action="store_true", help="pip install the other candidates")
    a = ap.parse_args(argv)
    if a.install:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(SITE), *CANDIDATES],
            check=True,
        )
    if SITE.exists():
        sys.path.append(str(SITE))
    OUT.mkdir(exist_ok=True)
    med = OUT / "cluster-medium-1.kubectl.yaml"
    if not med.exists():
        js = OUT / "cluster-medium-1.json"
        if not js.exists():
            subprocess.run(
                [sys.executable, str(HERE / "gen_cluster.py"), "--preset", "medium", "-o", str(js)],
                check=True,
            )
        subprocess.run(
            [sys.executable, str(HERE / "kubectl_yaml.py"), str(js), "-o", str(med)], check=True
        )
    agreement()
    speed(med)
    fig = envelope() if a.envelope else {}
    (OUT / "yaml.json").write_text(json.dumps(fig, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
