"""The weekly issue-closure report: HTML (jinja2) with charts (matplotlib,
PNG files beside it), printed to PDF by headless Chromium.

Figures come from the warehouse: the marts (`fct_contacts`, `fct_cx_weekly`,
`fct_issues`, `dim_scenarios`), the raw contacts (`raw.contacts`, for the
data's end and the hourly chart) and the alert episodes (`raw.alert_episodes`);
the dbt exposure `weekly_issue_report` lists the same. The week is an
ISO week in China time (UTC+8), the customers' clock: 2026-W47 = Monday
2026-11-16 00:00 to Monday 2026-11-23 00:00 local = 2026-11-15 16:00 to
2026-11-22 16:00 UTC (the warehouse stores UTC).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from voc.alerting.mask import mask_text

LOCAL_OFFSET = timedelta(hours=8)
TEMPLATES = Path(__file__).resolve().parent / "templates"
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


class ReportError(RuntimeError):
    """The report cannot be written; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Week:
    label: str  # 2026-W47
    start_utc: datetime
    end_utc: datetime

    @property
    def start_local(self) -> datetime:
        return self.start_utc + LOCAL_OFFSET

    @property
    def end_local(self) -> datetime:
        return self.end_utc + LOCAL_OFFSET

    @property
    def last_day_local(self) -> datetime:
        return self.end_local - timedelta(days=1)


def parse_week(label: str) -> Week:
    m = re.fullmatch(r"(\d{4})-W(\d{2})", label)
    if not m:
        raise ReportError(f"--week must look like 2026-W47, got {label!r}")
    try:
        monday = datetime.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError as e:
        raise ReportError(f"no such ISO week {label!r}: {e}") from None
    start = monday - LOCAL_OFFSET
    return Week(label, start, start + timedelta(days=7))


def week_of(t_utc: datetime) -> Week:
    y, w, _ = (t_utc + LOCAL_OFFSET).isocalendar()
    return parse_week(f"{y}-W{w:02d}")


def last_full_week(con: duckdb.DuckDBPyConnection) -> Week:
    """The week of the data's last complete day (China time)."""
    end = con.execute("SELECT max(event_time) FROM raw.contacts").fetchall()[0][0]
    if end is None:
        raise ReportError("the warehouse holds no contacts: run the pipeline first")
    return week_of(end - timedelta(hours=12))


# ---------------------------------------------------------------- figures


def _q(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _require_marts(con: duckdb.DuckDBPyConnection) -> None:
    have = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    missing = {"fct_contacts", "fct_cx_weekly", "fct_issues", "dim_scenarios"} - have
    if missing:
        raise ReportError(
            f"the warehouse has no {', '.join(sorted(missing))}: run `voc build` first"
        )


def gather(con: duckdb.DuckDBPyConnection, week: Week) -> dict[str, Any]:
    _require_marts(con)
    ws, we = week.start_utc, week.end_utc
    prev = [ws - timedelta(days=7), ws]
    contacts = _q(
        con,
        """
        SELECT count(*) AS contacts,
               count(*) FILTER (WHERE tag_method <> 'untagged') AS tagged
        FROM fct_contacts WHERE contacted_at >= ? AND contacted_at < ?""",
        [ws, we],
    )[0]
    prev_contacts = _q(
        con,
        "SELECT count(*) AS n FROM fct_contacts WHERE contacted_at >= ? AND contacted_at < ?",
        prev,
    )[0]["n"]
    daily = _q(
        con,
        """
        SELECT CAST(contacted_at + INTERVAL 8 HOUR AS DATE) AS day, count(*) AS contacts
        FROM fct_contacts WHERE contacted_at >= ? AND contacted_at < ?
        GROUP BY 1 ORDER BY 1""",
        [ws, we],
    )
    top_volume = _q(
        con,
        """
        SELECT c.scenario_id, s.scenario_name_zh, s.scenario_name_en, s.owner_department_id,
               count(*) AS contacts,
               count(*) FILTER (WHERE c.is_rated AND NOT c.is_satisfied) AS dissatisfied
        FROM fct_contacts c JOIN dim_scenarios s USING (scenario_id)
        WHERE c.contacted_at >= ? AND c.contacted_at < ? AND c.tag_method <> 'untagged'
        GROUP BY ALL ORDER BY contacts DESC, c.scenario_id LIMIT 10""",
        [ws, we],
    )
    top_dissatisfied = _q(
        con,
        """
        SELECT c.scenario_id, s.scenario_name_zh, s.scenario_name_en, s.owner_department_id,
               count(*) FILTER (WHERE c.is_rated AND NOT c.is_satisfied) AS dissatisfied,
               count(*) FILTER (WHERE c.is_rated) AS rated,
               count(*) AS contacts
        FROM fct_contacts c JOIN dim_scenarios s USING (scenario_id)
        WHERE c.contacted_at >= ? AND c.contacted_at < ? AND c.tag_method <> 'untagged'
        GROUP BY ALL HAVING dissatisfied > 0
        ORDER BY dissatisfied DESC, c.scenario_id LIMIT 10""",
        [ws, we],
    )
    # The week's CX figures are fct_cx_weekly's, summed over domain and channel:
    # the same numbers the dashboard shows (rates are ratios of sums).
    week_start = week.start_local.date()
    cx = _q(
        con,
        """
        SELECT sum(contacts) AS contacts,
               sum(fcr_resolved_contacts) / nullif(sum(fcr_contacts), 0) AS fcr_rate,
               sum(repeat_contacts) / nullif(sum(repeat_base_contacts), 0) AS repeat_rate,
               sum(call_satisfied) / nullif(sum(call_surveys), 0) AS call_csat,
               sum(call_surveys) AS call_surveys,
               sum(ticket_satisfied) / nullif(sum(ticket_ratings), 0) AS ticket_csat,
               sum(ticket_ratings) AS ticket_ratings,
               sum(completed_resolution_clocks) AS completed_clocks,
               sum(breached_resolution_clocks) AS breached_clocks
        FROM fct_cx_weekly WHERE week_start = ?""",
        [week_start],
    )[0]
    sla = _q(
        con,
        """
        SELECT coalesce(department_id, 'unassigned') AS department_id,
               sum(completed_resolution_clocks) AS clocks,
               sum(completed_resolution_clocks - breached_resolution_clocks) AS met,
               round(100.0 * sum(completed_resolution_clocks - breached_resolution_clocks)
                     / sum(completed_resolution_clocks), 1) AS attainment_pct
        FROM fct_cx_weekly
        WHERE week_start = ?
        GROUP BY 1 HAVING sum(completed_resolution_clocks) > 0
        ORDER BY attainment_pct, department_id""",
        [week_start],
    )
    issues = _q(con, "SELECT * FROM fct_issues ORDER BY opened_at, issue_id")

    def in_week(t: datetime | None) -> bool:
        return t is not None and ws <= t < we

    by_dept: dict[str, dict[str, int]] = {}
    for i in issues:
        d = by_dept.setdefault(
            i["owner_department_id"], {"opened": 0, "closed": 0, "verified": 0, "overdue": 0}
        )
        d["opened"] += in_week(i["opened_at"])
        d["closed"] += in_week(i["closed_at"])
        d["verified"] += in_week(i["verified_at"])
        d["overdue"] += bool(i["is_overdue"] and i["opened_at"] < we and not i["is_closed"])
    by_dept = {k: v for k, v in sorted(by_dept.items()) if any(v.values())}
    standing = [
        i for i in issues if i["is_verified"] and i["verified_at"] and i["verified_at"] < we
    ]
    avoided = sum(i["contacts_avoided_per_week"] or 0 for i in standing)
    episodes = _q(
        con,
        """
        SELECT episode_id, kind, key, domain, journey_stage, scenario_id, owner_department,
               severity, status, opened_at, resolved_at, peak_count, contacts_so_far,
               expected_so_far, threshold, evidence
        FROM raw.alert_episodes WHERE opened_at >= ? AND opened_at < ?
        ORDER BY peak_count DESC, opened_at LIMIT 8""",
        [ws, we],
    )
    for e in episodes:
        ev = json.loads(e.pop("evidence") or "{}")
        e["name_zh"] = ev.get("scenario_name_zh", "")
        e["name_en"] = ev.get("scenario_name_en", "")
        e["examples"] = [mask_text(x["text"])[:120] for x in ev.get("examples", [])[:2]]
    n_episodes = con.execute(
        "SELECT count(*) FROM raw.alert_episodes WHERE opened_at >= ? AND opened_at < ?", [ws, we]
    ).fetchall()[0][0]
    sla_clocks = cx["completed_clocks"] or 0
    sla_met = sla_clocks - (cx["breached_clocks"] or 0)
    return {
        "week": week,
        "contacts": contacts,
        "prev_contacts": prev_contacts,
        "daily": daily,
        "top_volume": top_volume,
        "top_dissatisfied": top_dissatisfied,
        "cx": cx,
        "sla": sla,
        "sla_attainment_pct": round(100.0 * sla_met / sla_clocks, 1) if sla_clocks else None,
        "issues": issues,
        "issues_by_dept": by_dept,
        "issues_opened": sum(v["opened"] for v in by_dept.values()),
        "issues_closed": sum(v["closed"] for v in by_dept.values()),
        "issues_verified": sum(v["verified"] for v in by_dept.values()),
        "issues_overdue": sum(v["overdue"] for v in by_dept.values()),
        "verified_standing": standing,
        "contacts_avoided": int(avoided + 0.5),  # half up
        "episodes": episodes,
        "episodes_opened": n_episodes,
    }


# ---------------------------------------------------------------- charts


@lru_cache(maxsize=1)
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    families = []
    for path in CJK_FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            families.append(font_manager.FontProperties(fname=path).get_name())
    if not families:
        raise ReportError(
            "no CJK font found (fonts-noto-cjk): run `make system-deps` so Chinese renders"
        )
    plt.rcParams["font.family"] = [*families, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return f"charts/{path.name}"


def draw_charts(con: duckdb.DuckDBPyConnection, data: dict[str, Any], out: Path) -> dict[str, Any]:
    plt = _plt()
    charts_dir = out / "charts"
    charts_dir.mkdir(parents=True, exist_ok=True)
    charts: dict[str, Any] = {}

    fig, ax = plt.subplots(figsize=(7, 2.6))
    days = [r["day"] for r in data["daily"]]
    ax.bar(
        [d.strftime("%m-%d %a") for d in days],
        [r["contacts"] for r in data["daily"]],
        color="#3b6ea5",
    )
    ax.set_title("每日联络量 Contacts per day (China time)")
    ax.tick_params(axis="x", labelsize=8)
    charts["daily"] = _save(fig, charts_dir / "daily_contacts.png")

    if data["issues_by_dept"]:
        fig, ax = plt.subplots(figsize=(7, 2.8))
        depts = list(data["issues_by_dept"])
        x = range(len(depts))
        for k, (key, colour) in enumerate(
            [
                ("opened", "#3b6ea5"),
                ("closed", "#6aa84f"),
                ("verified", "#38761d"),
                ("overdue", "#cc0000"),
            ]
        ):
            ax.bar(
                [i + (k - 1.5) * 0.2 for i in x],
                [data["issues_by_dept"][d][key] for d in depts],
                width=0.2,
                label=key,
                color=colour,
            )
        ax.set_xticks(list(x), depts, fontsize=8, rotation=15)
        ax.set_title("问题单 Issues by owner department")
        ax.legend(fontsize=7, ncols=4)
        charts["issues"] = _save(fig, charts_dir / "issues_by_department.png")

    if data["sla"]:
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(data["sla"]) + 1.0))
        names = [r["department_id"] for r in data["sla"]]
        vals = [r["attainment_pct"] for r in data["sla"]]
        ax.barh(names, vals, color=["#cc0000" if v < 80 else "#6aa84f" for v in vals])
        ax.set_xlim(0, 100)
        ax.set_title("解决时效达成率 Resolution SLA attainment %")
        ax.tick_params(axis="y", labelsize=8)
        charts["sla"] = _save(fig, charts_dir / "sla_attainment.png")

    for n, e in enumerate(data["episodes"]):
        start = e["opened_at"] - timedelta(hours=24)
        end = (e["resolved_at"] or e["opened_at"]) + timedelta(hours=12)
        if e["scenario_id"] == "untagged":
            where, params = (
                "scenario_id IS NULL AND domain = ? AND journey_stage = ?",
                [e["domain"], e["journey_stage"]],
            )
        elif e["scenario_id"] is None:  # a stage-level alert: the stage's contacts
            where, params = "domain = ? AND journey_stage = ?", [e["domain"], e["journey_stage"]]
        else:
            where, params = "scenario_id = ?", [e["scenario_id"]]
        rows = dict(
            con.execute(
                f"SELECT date_trunc('hour', event_time), count(*) FROM raw.contacts"
                f" WHERE {where} AND event_time >= ? AND event_time < ? GROUP BY 1",
                [*params, start, end],
            ).fetchall()
        )
        hours = []
        t = start.replace(minute=0, second=0, microsecond=0)
        while t < end:
            hours.append(t)
            t += timedelta(hours=1)
        fig, ax = plt.subplots(figsize=(7, 2.0))
        ax.plot(
            [h + LOCAL_OFFSET for h in hours],
            [rows.get(h, 0) for h in hours],
            drawstyle="steps-post",
            color="#3b6ea5",
            label="contacts / h",
        )
        ax.axhline(e["threshold"], color="#cc0000", linestyle="--", linewidth=1, label="threshold")
        ax.axvspan(
            e["opened_at"] - timedelta(hours=1) + LOCAL_OFFSET,
            (e["resolved_at"] or end) + LOCAL_OFFSET,
            color="#f4cccc",
            alpha=0.5,
            label="episode",
        )
        ax.set_title(f"{e['name_zh']} / {e['name_en']} (UTC+8)", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        ax.tick_params(labelsize=7)
        fig.autofmt_xdate()
        e["chart"] = _save(fig, charts_dir / f"breakpoint_{n + 1}.png")
    return charts


# ---------------------------------------------------------------- render


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise ReportError("no headless Chromium found: run `make system-deps` (Debian: chromium)")


def html_to_pdf(html: Path, pdf: Path, timeout_s: float = 120) -> None:
    with tempfile.TemporaryDirectory(prefix="voc-chromium-") as profile:
        cmd = [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise ReportError(f"Chromium could not print {html} to PDF: {proc.stderr[-500:]}")


def _num(value: float | None, digits: int = 0) -> str:
    """Thousands separators, rounded half up (12.5 -> 13, as the JSON says)."""
    if value is None:
        return "–"
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{q:,.{digits}f}"


def write_weekly_report(warehouse: Path, week_label: str | None, out_dir: Path) -> dict[str, Any]:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        week = parse_week(week_label) if week_label else last_full_week(con)
        data = gather(con, week)
        charts = draw_charts(con, data, out_dir)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    env.filters["num"] = _num
    html = env.get_template("weekly.html.j2").render(
        **data, charts=charts, generated_from=str(warehouse)
    )
    html_path = out_dir / "report.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = out_dir / "report.pdf"
    html_to_pdf(html_path, pdf_path)
    return {
        "html": str(html_path),
        "pdf": str(pdf_path),
        "week": week.label,
        "contacts": data["cx"]["contacts"],
        "fcr_rate": data["cx"]["fcr_rate"],
        "call_csat": data["cx"]["call_csat"],
        "ticket_csat": data["cx"]["ticket_csat"],
        "sla_attainment_pct": data["sla_attainment_pct"],
        "issues_opened": data["issues_opened"],
        "issues_closed": data["issues_closed"],
        "issues_verified": data["issues_verified"],
        "contacts_avoided": data["contacts_avoided"],
    }
