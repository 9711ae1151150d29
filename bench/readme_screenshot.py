"""Retake the README's screenshot of the demo report (``docs/report-demo.png``).

    python bench/readme_screenshot.py

Runs the ``netsleuth report`` command the README shows (read from the README,
so the picture is of that command), opens the page in Debian's headless
``/usr/bin/chromium`` through Playwright (never ``playwright install``), waits
for the map and saves the top of the page, 1280 pixels wide, as a PNG. It
prints the size: the README's picture should stay under 300 KB.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHOT = ROOT / "docs" / "report-demo.png"
CHROMIUM = "/usr/bin/chromium"


def readme_command() -> list[str]:
    """The ``netsleuth report …`` block of the README's report section, as argv."""
    text = README.read_text(encoding="utf-8")
    m = re.search(r"```\n(netsleuth report [^`]*?)\n```", text)
    if m is None:
        raise SystemExit("README.md: no ```netsleuth report …``` block")
    return shlex.split(m.group(1).replace("\\\n", " "))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1100)
    ap.add_argument("-o", "--output", type=Path, default=SHOT)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    cmd = readme_command()
    with tempfile.TemporaryDirectory() as tmp:
        # Run it as written (paths relative to the checkout, -o report.html), in the checkout,
        # so the page's header shows the README's command; then move the page out.
        page_file = ROOT / cmd[cmd.index("-o") + 1]
        if page_file.exists():
            raise SystemExit(f"{page_file} exists: move it away first")
        exe = Path(sys.executable).with_name("netsleuth")
        subprocess.run([str(exe), *cmd[1:]], cwd=ROOT, check=True)
        html = Path(tmp) / "report.html"
        page_file.replace(html)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--hide-scrollbars"],
            )
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(html.as_uri())
            page.wait_for_selector("#map[data-state=drawn]")
            page.wait_for_timeout(300)
            page.screenshot(path=str(args.output), full_page=False)
            browser.close()
    size = args.output.stat().st_size
    print(f"{args.output.relative_to(ROOT)}: {size / 1000:.0f} KB ({args.width}x{args.height})")
    return 0 if size < 300_000 else 1


if __name__ == "__main__":
    sys.exit(main())
