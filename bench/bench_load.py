"""Load benchmark: offline load + build_model versus orjson alone, peak RSS, YAML throughput.

    python bench/run.py load                     # large (30,000 pods)
    python bench/run.py load --size envelope     # 5,000 nodes, 150,000 pods, 10,000 services, 10,000 policies

Each measurement runs in a fresh subprocess. Goals (issue "Foundation"): at the
envelope, load + build under 15 s, peak RSS under 4 GB, within 3x of orjson.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

_PARSE = """
import sys, time, resource, orjson, gc
gc.disable()  # fair: netsleuth's load also runs with the cyclic GC paused
t = time.perf_counter(); data = orjson.loads(open(sys.argv[1], 'rb').read()); dt = time.perf_counter() - t
print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(data['items']))
"""
_LOAD = """
import sys, time, resource
from netsleuth.sources.load import load_offline
t = time.perf_counter(); m = load_offline([sys.argv[1]]); dt = time.perf_counter() - t
print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(m.pods))
"""
_YAML = """
import sys, time, yaml
t = time.perf_counter(); n = sum(1 for _ in yaml.load_all(open(sys.argv[1]), Loader=yaml.CSafeLoader)); dt = time.perf_counter() - t
t = time.perf_counter()
from netsleuth.sources.load import load_offline
m = load_offline([sys.argv[1]]); dt2 = time.perf_counter() - t
print(dt, n, dt2)
"""


def _run(code: str, path: Path) -> list[float]:
    r = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    return [float(x) for x in r.stdout.split()]


def dump(preset: str, seed: int = 1, yaml_: bool = False) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"cluster-{preset}-{seed}.{'yaml' if yaml_ else 'json'}"
    if not path.exists():
        args = [
            sys.executable,
            str(HERE / "gen_cluster.py"),
            "--preset",
            preset,
            "--seed",
            str(seed),
            "-o",
            str(path),
        ]
        subprocess.run([*args, *(["--yaml"] if yaml_ else [])], check=True)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="offline load benchmark")
    ap.add_argument("--size", default="large")
    a = ap.parse_args(argv)
    path = dump(a.size)
    mb = path.stat().st_size / 1e6
    parse_s, _parse_rss, items = _run(_PARSE, path)
    load_s, load_rss, pods = _run(_LOAD, path)
    ypath = dump("medium", yaml_=True)
    y_s, y_n, y_load = _run(_YAML, ypath)
    ymb = ypath.stat().st_size / 1e6
    fig = {
        "size": a.size,
        "objects": int(items),
        "pods": int(pods),
        "file_mb": round(mb, 1),
        "orjson_s": round(parse_s, 2),
        "load_build_s": round(load_s, 2),
        "ratio": round(load_s / parse_s, 1),
        "peak_rss_mb": round(load_rss / 1024),
        "yaml_libyaml_mb_s": round(ymb / y_s, 1),
        "yaml_objects_s": round(y_n / y_s),
        "yaml_load_build_s": round(y_load, 2),
        "yaml_file_mb": round(ymb, 1),
    }
    print(
        f"{'size':10} {'objects':>8} {'pods':>7} {'MB':>7} {'orjson s':>9} {'load+build s':>13} {'ratio':>6} {'peak RSS MB':>12}"
    )
    print(
        f"{a.size:10} {items:8.0f} {pods:7.0f} {mb:7.1f} {parse_s:9.2f} {load_s:13.2f} {load_s / parse_s:5.1f}x {load_rss / 1024:12.0f}"
    )
    print(
        "orjson alone is timed with the cyclic GC paused, as netsleuth's load is (otherwise it takes ~6x longer)"
    )
    print("goals at envelope: load+build < 15 s, peak RSS < 4096 MB, ratio <= 3x")
    print(
        f"YAML (medium, {ymb:.1f} MB): libyaml CSafeLoader {ymb / y_s:.1f} MB/s, {y_n / y_s:.0f} objects/s; "
        f"netsleuth load+build {y_load:.2f} s"
    )
    (OUT / "load.json").write_text(json.dumps(fig, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
