"""Fixtures for the dashboard tests: one small simulated warehouse (the demo's
loop: simulator -> Beam pipeline -> dbt marts -> alert episodes, 4 days at 0.5
scale: ~1,900 contacts, one alert episode), the real
`voc dashboard` command serving it, and a real headless Chromium (the Debian
package, driven by Playwright; no browser is downloaded)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.ports import free_port
from voc.paths import REPO_DIR

CHROMIUM = Path(os.environ.get("VOC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO_DIR / ".voc" / "screenshots"
# The page is drawn when its status line is in and every chart has its SVG.
DRAWN_JS = (
    "() => document.querySelector('#page-ready') && "
    "[...document.querySelectorAll('[id^=\"g-\"]')].every(g => g.querySelector('.main-svg'))"
)


def build_demo_warehouse(work: Path, days: int = 4, scale: float = 0.5, seed: int = 7) -> Path:
    """simulate -> pipeline -> dbt marts, as `voc demo` does (without its
    great-expectations pass, which the warehouse tests cover)."""
    from voc.commands.run import run_pipeline
    from voc.paths import DEFAULT_CATALOG
    from voc.simulate import simulate
    from voc.warehouse.dbt_runner import build_marts

    simulate(work / "streams", days=days, seed=seed, scale=scale)
    warehouse = work / "voc.duckdb"
    run_pipeline(work / "streams", warehouse, DEFAULT_CATALOG, None, 3600)
    sync_episodes(warehouse)
    open_issue_from_newest_episode(warehouse)
    build_marts(warehouse)
    write_weekly_report(warehouse)
    return warehouse


def write_weekly_report(warehouse: Path) -> None:
    """`voc report weekly` into reports/ beside the warehouse (where the Issues
    page looks by default)."""
    from click.testing import CliRunner

    from voc.cli import main

    out = warehouse.parent / "reports" / "last-week"
    result = CliRunner().invoke(
        main, ["report", "weekly", "--warehouse", str(warehouse), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output


def open_issue_from_newest_episode(warehouse: Path) -> None:
    """`voc issues open --from-episode`, dated when the episode opened, as an
    analyst does after an alert; so the Issues page has a ledger row. The
    newest episode with a root cause to read off its evidence; when it names no
    scenario itself (a stage-level alert), the analyst gives the one the CLI
    suggests, with --scenario."""
    from click.testing import CliRunner

    from voc.cli import main
    from voc.issues.store import episode_root_causes

    with duckdb.connect(str(warehouse), read_only=True) as con:
        newest = {
            e[0]: e[1]
            for e in con.execute(
                "SELECT episode_id, scenario_id FROM raw.alert_episodes"
                " ORDER BY last_window_end DESC, episode_id"
            ).fetchall()
        }
        causes = {e[0]: (e[1], e[2]) for e in episode_root_causes(con)}
    found = [(e, named, *causes[e]) for e, named in newest.items() if causes[e][0]]
    if not found:
        return
    episode_id, named, scenario, opened_at = found[0]
    args = ["--from-episode", episode_id, "--at", f"{opened_at:%Y-%m-%dT%H:%M:%S}Z"]
    if named in (None, "untagged"):
        args += ["--scenario", scenario]
    result = CliRunner().invoke(main, ["issues", "open", "--warehouse", str(warehouse), *args])
    assert result.exit_code == 0, result.output


def sync_episodes(warehouse: Path) -> None:
    """`voc alerts sync`: alert episodes with owners and evidence, as ops runs it."""
    from voc.commands.alerts import sync

    sync(warehouse)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per session (~20 s alone). While iterating, point
    VOC_TEST_DASHBOARD_WAREHOUSE at one built by build_demo_warehouse; it is copied."""
    reuse = os.environ.get("VOC_TEST_DASHBOARD_WAREHOUSE")
    if reuse:
        copied = copy_warehouse(Path(reuse), tmp_path_factory.mktemp("dash-demo"))
        if (Path(reuse).parent / "reports").is_dir():
            shutil.copytree(Path(reuse).parent / "reports", copied.parent / "reports")
        return copied
    return build_demo_warehouse(tmp_path_factory.mktemp("dash-demo"))


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout_s} s")


@dataclass
class Server:
    base: str
    warehouse: Path
    proc: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None


def start_dashboard(warehouse: Path, log: Path, refresh_s: float = 2) -> Server:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voc.cli",
            "dashboard",
            "--warehouse",
            str(warehouse),
            "--port",
            str(port),
            "--refresh-s",
            str(refresh_s),
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=REPO_DIR,
    )
    server = Server(f"http://127.0.0.1:{port}", warehouse, proc, log)
    try:
        wait_http(server.base + "/_dash-layout", proc, log)
    except BaseException:
        stop_dashboard(server)
        raise
    return server


def stop_dashboard(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture(scope="session")
def dashboard(demo_warehouse: Path, tmp_path_factory) -> Iterator[Server]:
    server = start_dashboard(demo_warehouse, tmp_path_factory.mktemp("dash-log") / "server.log")
    yield server
    stop_dashboard(server)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Tab:
    """A browser page that records console errors and uncaught exceptions."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> float:
        """Go to `path`, wait until the page is drawn; seconds it took."""
        started = time.perf_counter()
        self.page.goto(self.base + path)
        self.wait_drawn()
        return time.perf_counter() - started

    def wait_drawn(self, page_name: str | None = None) -> None:
        self.page.wait_for_function(DRAWN_JS, timeout=30_000)
        if page_name:
            self.page.wait_for_selector(f"#page-ready[data-page='{page_name}']", state="attached")

    def after(self, action) -> None:
        """Do `action` (a click), then wait for the page it causes to be drawn."""
        prev = self.page.get_attribute("#page-ready", "data-render")
        action()
        self.page.wait_for_function(
            "p => { const e = document.querySelector('#page-ready');"
            " return e && e.dataset.render !== p }",
            arg=prev,
            timeout=30_000,
        )
        self.wait_drawn()

    def traces(self, graph_id: str) -> list[dict]:
        """The plotted traces of a chart, as the browser holds them."""
        return self.page.evaluate(
            """id => [...document.getElementById(id).querySelector('.js-plotly-plot').data]
                 .map(t => ({name: t.name, meta: t.meta, x: t.x, y: t.y,
                             customdata: t.customdata}))""",
            graph_id,
        )

    def data_value(self, element_id: str) -> str:
        return self.page.get_attribute(f"#{element_id}", "data-value")

    def table(self, table_id: str) -> list[list[str]]:
        return self.page.evaluate(
            """id => [...document.querySelectorAll('#' + id + ' tbody tr')]
                 .map(r => [...r.cells].map(c => c.innerText.trim()))""",
            table_id,
        )

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def tab(browser, dashboard) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    t = Tab(page, dashboard.base)
    page.on("console", lambda m: t.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: t.errors.append(str(e)))
    yield t
    context.close()


def sql(warehouse: Path, query: str, params: list | None = None) -> list[tuple]:
    """Run `query` read-only against the warehouse file itself (not the snapshot)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def copy_warehouse(src: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / src.name
    shutil.copy(src, dst)
    return dst
