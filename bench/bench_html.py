"""Benchmark the HTML report: build time, file size, and render time in headless Chromium.

    python bench/bench_html.py                   # the envelope: 150,000 pods, 10,000 workloads
    python bench/bench_html.py --preset large    # 30,000 pods
    python bench/bench_html.py --reuse --runs 5  # the browser figures again, on the last page built

Builds the report as ``netsleuth report`` does (load, scan, map, two traces)
and writes it to ``bench/out/report-<preset>-<seed>.html``. Then, when
Playwright and Debian's ``/usr/bin/chromium`` are installed, opens it headless
(a fresh profile, no network) and reports the time until the page is parsed,
until the map is first drawn, and to expand every namespace (10,000 workloads
laid out). Goals (issue 17): under 10 MB and under 3 s to render at the
envelope. No assertion: figures only. The machine's load average is printed
with the browser figures (on a shared machine they scale with it); with
``--runs N`` the browser part runs N times and the median is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_trace import OUT, cluster_file

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def build(preset: str, seed: int) -> tuple[Path, dict[str, float], int]:
    from netsleuth.checks.base import load_all, run_checks
    from netsleuth.policy.connlist import workload_matrix
    from netsleuth.render.html.compose import trace_request
    from netsleuth.render.html.report import ReportInput, render_report
    from netsleuth.sources.load import load_offline

    where = cluster_file(preset, seed)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    model = load_offline([str(where)])
    times["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = run_checks(model, load_all().values())
    times["scan"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    wm = workload_matrix(model)
    times["matrix"] = time.perf_counter() - t0
    # Two traces between the first workloads of two application namespaces.
    apps = [p for p in wm.peers if p.namespace and not p.namespace.startswith("kube-")]
    traces = []
    if len(apps) > 1:
        a, b = apps[0], apps[-1]
        traces = [
            trace_request(model, f"{a.namespace}/{a.name}", f"{b.namespace}/{b.name}"),
            trace_request(model, f"{b.namespace}/{b.name}", f"{a.namespace}/{a.name}"),
        ]
    times["traces"] = time.perf_counter() - t0 - times["matrix"]
    t0 = time.perf_counter()
    html = render_report(
        ReportInput(
            source=where.name,
            model=model,
            matrix=wm,
            scan=result,
            traces=traces,
            problems=model.problems,
        )
    )
    times["render (map + html)"] = time.perf_counter() - t0
    out = OUT / f"report-{preset}-{seed}.html"
    out.write_text(html, encoding="utf-8")
    print(
        f"cluster: {len(model.pods):,} pods, {len(wm.peers):,} map nodes, "
        f"{len(model.namespaces):,} namespaces, {len(result.findings):,} findings ({where.name})"
    )
    return out, times, len(result.findings)


def browser(path: Path) -> dict[str, float] | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("browser: playwright not installed (pip install playwright); skipped")
        return None
    if not os.path.exists(CHROMIUM):
        print(f"browser: {CHROMIUM} not installed (apt-get install chromium); skipped")
        return None
    figures: dict[str, float] = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS[1:],
            viewport={"width": 1400, "height": 1000},
        )
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(path.as_uri(), wait_until="domcontentloaded", timeout=120_000)
        page.wait_for_selector("#map[data-state=drawn]", timeout=120_000)
        figures["open -> map drawn (wall)"] = time.perf_counter() - t0
        nav = page.evaluate(
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return [n.domContentLoadedEventEnd, n.loadEventEnd]; })()"
        )
        figures["parsed (DOMContentLoaded)"] = nav[0] / 1000
        figures["script: data + filters + first map draw"] = (
            page.evaluate("window.netsleuthRenderMs") / 1000
        )
        t0 = time.perf_counter()
        page.click("#m-expand")
        while not page.evaluate("window.netsleuthMap.state().open > 0"):  # CSP: no eval
            page.wait_for_timeout(20)
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        figures["expand all namespaces + draw"] = time.perf_counter() - t0
        st = page.evaluate("window.netsleuthMap.state()")
        print(
            f"browser: expanded: {st['open']} groups open, {st['nodes']:,} nodes laid out, "
            f"{st['edges']:,} edges drawn"
        )
        ctx.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--preset", default="envelope")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="open the page built last time; do not build"
    )
    parser.add_argument("--runs", type=int, default=1, help="browser runs (the median is shown)")
    args = parser.parse_args(argv)
    if args.reuse:
        path = OUT / f"report-{args.preset}-{args.seed}.html"
        if not path.exists():
            raise SystemExit(f"{path}: not built yet (run without --reuse)")
    else:
        path, times, _ = build(args.preset, args.seed)
        for k, v in times.items():
            print(f"{k:>22}: {v:6.2f} s")
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="netsleuth-data">(.*?)</script>', text, re.S)
    data_bytes = len(m.group(1).encode()) if m else 0
    size = path.stat().st_size
    print(
        f"file: {size / 1e6:.2f} MB (goal < 10 MB), of which map data {data_bytes / 1e6:.2f} MB  ({path})"
    )
    if not args.no_browser:
        runs: list[dict[str, float]] = []
        for _ in range(max(1, args.runs)):
            load = os.getloadavg()[0]
            figures = browser(path)
            if figures is None:
                break
            runs.append(figures)
            print(
                f"browser run {len(runs)} (load average {load:.1f} on {os.cpu_count()} CPUs): "
                + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items())
            )
        if runs:
            for k in runs[0]:
                print(f"browser: {k}: {statistics.median(r[k] for r in runs):.2f} s (median)")
        print("goal: rendered in < 3 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
