"""First render of each dashboard page in a real headless Chromium, on the
7-day demo warehouse and on a 10x one (7 days at --scale 10). Prints one JSON
line: {"name": "dashboard", ...} with seconds per page (median of 3 cold
loads, each in a fresh browser context: no cached scripts), goals 2 s / 5 s.

First render = from navigation start to the page's last chart drawn
(performance.now() when every chart has its SVG). The warehouses are built
once with `voc demo` under .voc/bench/ and reused.

    python benchmarks/bench_dashboard.py [--runs 3] [--scales 1,10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.dashboards.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DRAWN_JS,
    start_dashboard,
    stop_dashboard,
)

PAGES = ("now", "root-causes", "sla", "satisfaction", "issues")
GOAL_S = {1.0: 2.0, 10.0: 5.0}


def log(msg: str) -> None:
    print(f"[dashboard] {msg}", file=sys.stderr, flush=True)


def warehouse_for(scale: float) -> Path:
    work = REPO / ".voc" / "bench" / f"dashboard-7d-x{scale:g}"
    warehouse = work / "voc.duckdb"
    marts_ok = False
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            marts_ok = bool(
                con.execute(
                    "SELECT 1 FROM information_schema.tables WHERE table_name = 'fct_contacts'"
                ).fetchall()
            )
    if not marts_ok:
        log(f"building the 7-day x{scale:g} demo warehouse in {work} (minutes at x10)")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "voc.cli",
                "demo",
                "--days",
                "7",
                "--scale",
                str(scale),
                "--work-dir",
                str(work),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return warehouse


def first_renders(base: str, runs: int) -> tuple[dict[str, float], dict[str, float]]:
    """Per page: median first render (s) in the browser, median server render (ms)."""
    from playwright.sync_api import sync_playwright

    out, server = {}, {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for page_name in PAGES:
                times, server_ms = [], []
                for _ in range(runs):
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    page = context.new_page()
                    page.goto(f"{base}/{page_name}")
                    page.wait_for_function(DRAWN_JS, timeout=60_000, polling=20)
                    times.append(page.evaluate("() => performance.now()") / 1000)
                    server_ms.append(float(page.get_attribute("#page-ready", "data-ms")))
                    context.close()
                out[page_name] = round(statistics.median(times), 3)
                server[page_name] = statistics.median(server_ms)
                log(f"{page_name}: {out[page_name]} s {[round(t, 2) for t in times]}")
        finally:
            browser.close()
    return out, server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scales", default="1,10")
    args = ap.parse_args()
    result: dict = {"name": "dashboard", "runs": args.runs}
    for scale in (float(s) for s in args.scales.split(",")):
        warehouse = warehouse_for(scale)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            contacts = con.execute("SELECT count(*) FROM fct_contacts").fetchall()[0][0]
        log_file = warehouse.parent / "dashboard-bench.log"
        started = time.perf_counter()
        server = start_dashboard(warehouse, log_file, refresh_s=60)
        startup = time.perf_counter() - started
        try:
            pages, server_ms = first_renders(server.base, args.runs)
        finally:
            stop_dashboard(server)
        key = f"x{scale:g}"
        result[key] = {
            "contacts": contacts,
            "server_start_s": round(startup, 2),
            "first_render_s": pages,
            "server_render_ms": server_ms,
            "max_s": max(pages.values()),
            "goal_s": GOAL_S.get(scale),
            # other work on the machine inflates every figure: say how busy it was
            "load_avg_1m": round(os.getloadavg()[0], 1),
        }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
