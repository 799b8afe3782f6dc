"""The dashboard: a Dash app over a SnapshotStore. The URL is the state: the
path is the page, the query string holds the filters (start, end, domain,
department, channel), page options (drill, grain, by) and the language (lang).
Every value read from it goes through queries.parse_filters first.

One callback draws a page from the URL; one writes the filter bar's values
back to the URL. The filter bar is built per page load from the query string.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

# Imported here, before the server's threads start: plotly's JSON encoder imports
# pandas lazily, and two request threads doing that at once saw a half-initialised
# module ("partially initialized module 'pandas' has no attribute 'NaT'").
import pandas  # noqa: F401
from dash import Dash, Input, Output, State, dcc, html
from flask import abort, has_request_context, request, send_from_directory

from voc_dashboard import queries as q
from voc_dashboard.i18n import LANGS, name, t, v
from voc_dashboard.snapshot import SnapshotStore

PAGES = ("now", "root-causes", "sla", "satisfaction", "issues")
PAGE_LABEL = {
    "now": "now",
    "root-causes": "root_causes",
    "sla": "sla",
    "satisfaction": "satisfaction",
    "issues": "issues",
}
FILTER_KEYS = ("start", "end", "domain", "department", "channel")
# The weekly issue-closure report (`voc report weekly --out DIR` writes
# DIR/report.html + charts/): the newest report.html under the reports folder.
REPORT_NAME = "report.html"
FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans", sans-serif'
GRAPH_CONFIG = {"displayModeBar": False}
LEDGER_SHOWN = 25


def _lang(args) -> str:
    lang = args.get("lang")
    return lang if lang in LANGS else "zh"


def _page(pathname: str | None) -> tuple[str, str | None]:
    """(page, argument): /sla -> ("sla", None), /alerts/<id> -> ("alert", id)."""
    path = (pathname or "/").strip("/") or "now"
    head, _, rest = path.partition("/")
    if head == "alerts" and rest:
        return "alert", unquote(rest)
    return (path if path in PAGES else "now"), None


def _args(search: str | None) -> dict[str, str]:
    return dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=False))


def _with(args: dict[str, str], **changes: str | None) -> str:
    merged = {**args, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v})


class Figure(dict):
    """A plotly figure as the plain dict dcc.Graph takes (plotly.graph_objects
    validates every property in Python: ~10x slower to build, and its first use
    loads the validators, which cost the first render of each page ~1 s).

    Axes get fixed margins; only an axis of long category labels (names of
    departments, scenarios, alert kinds) asks for `automargin`, which makes
    plotly lay the chart out again until the labels fit (a cost each chart paid
    on every first render when every axis had it)."""

    def __init__(self, height: int) -> None:
        axis = {"gridcolor": "#eceef2", "zerolinecolor": "#dde1e8"}
        super().__init__(
            data=[],
            layout={
                "height": height,
                "margin": {"l": 48, "r": 10, "t": 10, "b": 50},
                "font": {"family": FONT},
                "legend": {"orientation": "h", "y": -0.2},
                "plot_bgcolor": "#ffffff",
                "paper_bgcolor": "#ffffff",
                "xaxis": dict(axis),
                "yaxis": dict(axis),
            },
        )

    def add_bar(self, **trace) -> None:
        self["data"].append({"type": "bar", **trace})

    def add_scatter(self, **trace) -> None:
        self["data"].append({"type": "scatter", **trace})

    def update_layout(self, **changes) -> None:
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(self["layout"].get(key), dict):
                self["layout"][key] = {**self["layout"][key], **value}
            else:
                self["layout"][key] = value


def _fig(lang: str, height: int = 320) -> Figure:
    return Figure(height)


def _table(table_id: str, header: list[str], body: list[list], numeric: set[int] = frozenset()):
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(cell, className="num") if i in numeric else html.Td(cell)
                            for i, cell in enumerate(row)
                        ]
                    )
                    for row in body
                ]
            ),
        ],
        id=table_id,
        className="grid",
    )


def _pct(x) -> str:
    return "—" if x is None else f"{x:.1%}"


def _kpi(kpi_id: str, label: str, value: str, raw) -> html.Div:
    return html.Div(
        [html.Div(label, className="kpi-label"), html.Div(value, className="kpi-value")],
        id=kpi_id,
        className="kpi",
        **{"data-value": "" if raw is None else str(raw)},
    )


def _section(title: str, *children, section_id: str | None = None):
    kwargs = {"id": section_id} if section_id else {}
    return html.Section([html.H3(title), *children], className="card", **kwargs)


def _missing(mart: str, lang: str):
    return html.P(t("missing_mart", lang, mart=mart), className="missing")


# -- pages ------------------------------------------------------------------------------


def now_data(cur, f: q.Filters) -> dict:
    """What the Now page shows, from the snapshot (kept per version: RenderCache);
    the lag is measured against the clock when the page is drawn."""
    return {
        "status": q.now_status(cur),
        "alerts": q.open_alerts(cur, f),
        "latest": q.latest_alerts(cur, f),
        "cpm": q.contacts_per_minute(cur, f),
        "episodes": q.has_episodes(cur),
    }


def page_now(data: dict, lang: str, args: dict):
    status, alerts, latest, cpm = data["status"], data["alerts"], data["latest"], data["cpm"]
    counts = q.alert_counts(alerts)
    now = datetime.now(UTC).replace(tzinfo=None)
    newest = status["newest_event_at"]
    lag_s = None if newest is None else round((now - newest).total_seconds())

    fig_kind = _fig(lang, 260)
    for sev in sorted({c["severity"] for c in counts}):
        sub = [c for c in counts if c["severity"] == sev]
        fig_kind.add_bar(
            x=[v(c["alert_kind"], lang) for c in sub],
            y=[c["alerts"] for c in sub],
            name=v(sev, lang),
        )
    fig_kind.update_layout(barmode="stack", xaxis={"automargin": True})

    fig_cpm = _fig(lang)
    for domain in sorted({r["domain"] for r in cpm}):
        sub = [r for r in cpm if r["domain"] == domain]
        x = [r["minute_at"] for r in sub]
        fig_cpm.add_scatter(
            x=x, y=[r["contacts"] for r in sub], name=v(domain, lang), mode="lines", meta=domain
        )
        fig_cpm.add_scatter(
            x=x,
            y=[r["expected"] for r in sub],
            name=f"{v(domain, lang)} · {t('expected', lang)}",
            mode="lines",
            line={"dash": "dot"},
            meta=f"{domain}:expected",
        )

    def alert_link(a):
        """The alert's scenario; a link to its episode page when episodes exist."""
        label = name(a, "scenario_name", lang, "scenario_id")
        if not data["episodes"]:
            return label
        href = f"/alerts/{quote(a['alert_id'], safe='')}{_with(args)}"
        return dcc.Link(label, href=href, className="alert-link")

    alert_rows = [
        [
            v(a["alert_kind"], lang),
            v(a["severity"], lang),
            v(a["status"], lang),
            alert_link(a),
            f"{a['contact_count']} / {a['baseline_mean']} / {a['threshold']}",
            f"{a['window_start_at']:%m-%d %H:%M}–{a['window_end_at']:%H:%M}",
            a["owner"] or "—",
        ]
        for a in alerts
    ]
    return [
        html.Div(
            [
                _kpi("kpi-open-alerts", t("open_alerts", lang), str(len(alerts)), len(alerts)),
                _kpi(
                    "kpi-events-stored",
                    t("events_stored", lang),
                    f"{status['stored'] or 0:,}",
                    status["stored"],
                ),
                _kpi(
                    "kpi-dead-letter-rate",
                    t("dead_letter_rate", lang),
                    _pct(status["dead_letter_rate"]),
                    status["dead_letter_rate"],
                ),
                _kpi(
                    "kpi-newest-event",
                    t("newest_event", lang),
                    "—" if newest is None else f"{newest:%Y-%m-%d %H:%M:%S}",
                    newest,
                ),
                _kpi("kpi-lag", t("lag", lang), _duration(lag_s), lag_s),
            ],
            className="kpis",
        ),
        _section(
            t("open_alerts", lang),
            html.H4(t("alerts_by_kind", lang)),
            dcc.Graph(id="g-alert-kinds", figure=fig_kind, config=GRAPH_CONFIG)
            if counts
            else html.P(t("no_open_alerts", lang)),
            _table(
                "t-open-alerts",
                [t(k, lang) for k in ("kind", "severity", "status", "scenario")]
                + [
                    f"{t('count', lang)} / {t('baseline', lang)} / {t('threshold', lang)}",
                    t("window", lang),
                    t("owner", lang),
                ],
                alert_rows,
            ),
            html.H4(t("recent_alerts", lang)),
            _table(
                "t-latest-alerts",
                [
                    t("kind", lang),
                    t("status", lang),
                    t("scenario", lang),
                    t("count", lang),
                    t("window", lang),
                ],
                [
                    [
                        v(a["alert_kind"], lang),
                        v(a["status"], lang),
                        alert_link(a),
                        a["contact_count"],
                        f"{a['window_end_at']:%m-%d %H:%M}",
                    ]
                    for a in latest
                ],
                numeric={3},
            ),
        ),
        _section(
            t("contacts_per_minute", lang),
            html.P(f"{t('filters_apply', lang)} {t('domain_only', lang)}", className="note"),
            dcc.Graph(id="g-contacts-per-minute", figure=fig_cpm, config=GRAPH_CONFIG),
        ),
    ]


def page_alert(cur, lang: str, episode_id: str, args: dict):
    """One alert episode: what an owner's link opens (voc alerts sync writes
    <dashboard>/alerts/<episode_id> into every notification)."""
    ep = q.episode(cur, episode_id)
    back = dcc.Link(f"← {t('now', lang)}", href=f"/now{_with(args)}", id="back-now")
    if ep is None:
        return [back, html.P(t("unknown_alert", lang), id="alert-missing")]
    evidence = json.loads(ep["evidence"] or "{}")
    counts = evidence.get("counts_vs_expected", [])
    fig = _fig(lang, 280)
    fig.add_bar(
        x=[c["window_start"] for c in counts],
        y=[c["count"] for c in counts],
        name=t("count", lang),
        meta="count",
    )
    fig.add_scatter(
        x=[c["window_start"] for c in counts],
        y=[c["expected"] for c in counts],
        name=t("expected", lang),
        mode="lines",
        line={"dash": "dot"},
        meta="expected",
    )
    examples = evidence.get("examples", [])
    stages = evidence.get("affected_stages", {})
    orders = evidence.get("affected_orders", {})
    return [
        back,
        html.H2(
            name(ep, "scenario_name", lang, "scenario_id"),
            id="alert-title",
            **{"data-episode": ep["episode_id"]},
        ),
        html.Div(
            [
                _kpi("kpi-alert-status", t("status", lang), v(ep["status"], lang), ep["status"]),
                _kpi(
                    "kpi-alert-severity",
                    t("severity", lang),
                    v(ep["severity"], lang),
                    ep["severity"],
                ),
                _kpi(
                    "kpi-alert-owner",
                    t("owner", lang),
                    ep["owner_department"] or "—",
                    ep["owner_department"],
                ),
                _kpi("kpi-alert-peak", t("count", lang), str(ep["peak_count"]), ep["peak_count"]),
                _kpi(
                    "kpi-alert-threshold",
                    t("threshold", lang),
                    f"{ep['threshold']:.1f}",
                    ep["threshold"],
                ),
            ],
            className="kpis",
        ),
        _section(
            t("evidence", lang),
            dcc.Graph(id="g-alert-evidence", figure=fig, config=GRAPH_CONFIG),
            html.P(
                f"{t('window', lang)}: {ep['opened_at']:%Y-%m-%d %H:%M} – "
                f"{ep['last_window_end']:%Y-%m-%d %H:%M} UTC · "
                f"{t('stage', lang)}: {', '.join(f'{k} {n}' for k, n in stages.items())}"
                f" · {t('orders', lang)}: {orders.get('count', 0)}",
                className="note",
            ),
        ),
        _section(
            t("examples", lang),
            _table(
                "t-alert-examples",
                [t("channel", lang), t("text_masked", lang)],
                [[v(e.get("channel"), lang), q.mask_text(e.get("text"))] for e in examples],
            ),
        ),
    ]


def _duration(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if abs(seconds) < 120:
        return f"{seconds} s"
    if abs(seconds) < 7200:
        return f"{seconds // 60} min"
    if abs(seconds) < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _hbar(fig_id: str, rows: list[dict], x_key: str, lang: str, text=None):
    fig = _fig(lang, 40 + 24 * max(len(rows), 3))
    fig.add_bar(
        y=[name(r, "scenario_name", lang, "scenario_id") for r in rows][::-1],
        x=[r[x_key] for r in rows][::-1],
        orientation="h",
        customdata=[r["scenario_id"] for r in rows][::-1],
        text=None if text is None else [text(r) for r in rows][::-1],
    )
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 30}, yaxis={"automargin": True})
    return dcc.Graph(id=fig_id, figure=fig, config=GRAPH_CONFIG)


def page_root_causes(cur, f: q.Filters, lang: str, store: SnapshotStore, args: dict):
    top = q.top_scenarios(cur, f)
    growth = q.growing_scenarios(cur, f)
    dissatisfied = q.dissatisfied_scenarios(cur, f)
    path = q.drill_path(f)
    crumbs = [dcc.Link(t("drill_top", lang), href=_with(args, drill=None), id="drill-0")]
    for i, part in enumerate(path):
        crumbs += [
            " → ",
            dcc.Link(
                v(part, lang), href=_with(args, drill="|".join(path[: i + 1])), id=f"drill-{i + 1}"
            ),
        ]
    if len(path) < len(q.DRILL_LEVELS):
        children = q.drill_children(cur, f)
        drill_body = _table(
            "t-drill",
            [t(q.DRILL_LEVELS[len(path)], lang), t("contacts", lang), t("dissatisfied", lang)],
            [
                [
                    dcc.Link(
                        r["name_" + lang] or v(r["key"], lang),
                        href=_with(args, drill="|".join([*path, str(r["key"])])),
                        className="drill-link",
                    ),
                    r["contacts"],
                    r["dissatisfied"],
                ]
                for r in children
            ],
            numeric={1, 2},
        )
    else:
        contacts = q.drill_contacts(cur, f)
        drill_body = _table(
            "t-drill-contacts",
            [
                "id",
                t("channel", lang),
                t("stage", lang),
                t("journey", lang),
                t("text_masked", lang),
            ],
            [
                [
                    r["contact_id"],
                    v(r["channel"], lang),
                    r["journey_stage"] or "—",
                    " → ".join(r["recent_events"] or []),
                    r["contact_text"],
                ]
                for r in contacts
            ],
        )
    clusters = store.clusters()
    if clusters is None:
        cluster_body = html.P(t("clustering", lang), id="clusters-pending")
    else:
        cluster_body = _table(
            "t-clusters",
            ["#", t("size", lang), t("share", lang), t("examples", lang)],
            [
                [
                    c.cluster_id,
                    c.size,
                    _pct(c.share),
                    html.Ul([html.Li(q.mask_text(e)[:120]) for e in c.examples]),
                ]
                for c in clusters[:10]
            ],
            numeric={1, 2},
        )
    return [
        html.Div(
            [
                _section(t("top_volume", lang), _hbar("g-top-volume", top, "contacts", lang)),
                _section(
                    t("top_growth", lang),
                    _hbar("g-top-growth", growth, "growth", lang),
                ),
                _section(
                    t("top_dissatisfied", lang),
                    _hbar(
                        "g-top-dissatisfied",
                        dissatisfied,
                        "dissatisfied_rate",
                        lang,
                        text=lambda r: f"{r['dissatisfied']}/{r['rated']}",
                    ),
                ),
            ],
            className="cols3",
        ),
        _section(
            t("drill", lang), html.Div(crumbs, className="crumbs"), drill_body, section_id="drill"
        ),
        _section(t("untagged_clusters", lang), cluster_body),
    ]


def page_sla(cur, f: q.Filters, lang: str, store: SnapshotStore, args: dict):
    clock = q.sla_clock(cur)
    attain = q.sla_attainment(cur, f, clock)
    backlog = q.sla_backlog(cur, f, clock)
    depts = {d[0]: (d[1] if lang == "zh" else d[2]) for d in q.choices(cur).departments}
    fig_att = _fig(lang)
    for tier in sorted({r["tier"] for r in attain}):
        sub = [r for r in attain if r["tier"] == tier]
        fig_att.add_bar(
            x=[depts.get(r["department_id"], r["department_id"]) for r in sub],
            y=[r["attainment"] for r in sub],
            customdata=[r["department_id"] for r in sub],
            name=tier,
            meta=tier,
        )
    fig_att.update_layout(
        barmode="group",
        xaxis={"automargin": True},
        yaxis={"tickformat": ".0%", "range": [0, 1]},
    )
    fig_back = _fig(lang)
    for dept in sorted({r["department_id"] for r in backlog}):
        sub = [r for r in backlog if r["department_id"] == dept]
        fig_back.add_scatter(
            x=[r["day"] for r in sub],
            y=[r["open_tickets"] for r in sub],
            name=depts.get(dept, dept),
            mode="lines+markers",
            meta=dept,
        )
    has_escalations = q.has_table(cur, "ticket_escalations")
    paths = q.escalation_paths(cur, f, clock) if has_escalations else []
    has_comp = q.has_table(cur, "compensations")
    return [
        html.P(
            f"{t('clock', lang)}: "
            + t("clock_business" if clock == "business" else "clock_calendar", lang),
            id="sla-clock",
            className="note",
            **{"data-clock": clock},
        ),
        _section(
            t("attainment", lang),
            dcc.Graph(id="g-sla-attainment", figure=fig_att, config=GRAPH_CONFIG),
            _pivot(
                "t-sla-attainment",
                attain,
                "tier",
                depts,
                lang,
                lambda r: f"{_pct(r['attainment'])} ({r['met']}/{r['met'] + r['breached']})",
            ),
        ),
        _section(
            t("backlog", lang), dcc.Graph(id="g-sla-backlog", figure=fig_back, config=GRAPH_CONFIG)
        ),
        _section(
            t("escalations", lang),
            html.P(t("escalations_note", lang), className="note"),
            _pivot(
                "t-escalations",
                paths,
                "path",
                depts,
                lang,
                lambda r: f"{r['tickets']} ({t('breached', lang)} {r['breached']})",
            )
            if has_escalations
            else _missing("fct_ticket_escalations", lang),
        ),
        _section(
            t("compensation", lang),
            _compensation(q.compensation(cur, f), depts, lang)
            if has_comp
            else _missing("fct_compensations", lang),
        ),
    ]


def _pivot(table_id: str, data: list[dict], col_key: str, depts: dict, lang: str, cell):
    """Departments down, `col_key` values across, `cell(row)` in each cell."""
    cols = sorted({r[col_key] for r in data})
    by = {(r["department_id"], r[col_key]): r for r in data}
    body = [
        [depts.get(d, d)] + [cell(by[(d, c)]) if (d, c) in by else "—" for c in cols]
        for d in sorted({r["department_id"] for r in data})
    ]
    return _table(table_id, [t("department", lang), *cols], body, numeric=set(range(1, 99)))


def _compensation(comp: dict[str, list[dict]], depts: dict, lang: str):
    """Hours from request to payment of the paid claims against the 2 h target,
    and per department the share paid within it."""
    by_dept, hours = comp["by_department"], comp["hours"]
    target = by_dept[0]["target_hours"] if by_dept else None
    fig = _fig(lang, 260)
    fig.add_bar(
        x=[r["hours_from"] + q.COMPENSATION_BIN_H / 2 for r in hours],
        y=[r["claims"] for r in hours],
        width=q.COMPENSATION_BIN_H * 0.9,
        name=t("claims_paid", lang),
        meta="paid",
    )
    if target is not None:
        fig.update_layout(
            shapes=[
                {
                    "type": "line",
                    "x0": target,
                    "x1": target,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"color": "#c0392b", "dash": "dash"},
                }
            ]
        )
    fig.update_layout(xaxis={"title": {"text": t("hours_to_pay", lang)}})
    return html.Div(
        [
            dcc.Graph(id="g-compensation-hours", figure=fig, config=GRAPH_CONFIG),
            _table(
                "t-compensations",
                [
                    t("department", lang),
                    t("claims", lang),
                    t("paid", lang),
                    t("within_target", lang),
                    t("median_hours", lang),
                    t("p90_hours", lang),
                    t("amount_cny", lang),
                ],
                [
                    [
                        depts.get(r["department_id"], r["department_id"]),
                        r["claims"],
                        r["paid"],
                        f"{_pct(r['within_target_rate'])} ({r['within_target']}/{r['decided']})",
                        _num(r["median_hours_to_pay"]),
                        _num(r["p90_hours_to_pay"]),
                        _num(r["amount_cny"]),
                    ]
                    for r in by_dept
                ],
                numeric={1, 2, 3, 4, 5, 6},
            ),
        ]
    )


def _num(x) -> str:
    return "—" if x is None else f"{x:,.2f}"


def page_satisfaction(cur, f: q.Filters, lang: str, store: SnapshotStore, args: dict):
    grain = f.extra.get("grain", "day")
    by = f.extra.get("by", "domain")
    series = q.satisfaction_series(cur, f)
    totals = q.satisfaction_totals(cur, f)
    option_links = html.Div(
        [
            html.Span(f"{t('grain', lang)}: "),
            *[
                dcc.Link(
                    t(g, lang),
                    href=_with(args, grain=g),
                    id=f"grain-{g}",
                    className="opt on" if g == grain else "opt",
                )
                for g in q.GRAINS
            ],
            html.Span(f"  {t('by', lang)}: "),
            *[
                dcc.Link(
                    t(d, lang),
                    href=_with(args, by=d),
                    id=f"by-{d}",
                    className="opt on" if d == by else "opt",
                )
                for d in q.DIMENSIONS
            ],
        ],
        className="options",
    )
    graphs = []
    nps = q.has_nps(cur)
    for metric in ("call_csat", "ticket_csat", "fcr", "repeat_rate", "nps"):
        if metric == "nps" and not nps:
            continue
        fig = _fig(lang, 260)
        for grp in sorted({str(r["grp"]) for r in series}):
            sub = [r for r in series if str(r["grp"]) == grp]
            fig.add_scatter(
                x=[r["period"] for r in sub],
                y=[r[metric] for r in sub],
                name=v(grp, lang),
                mode="lines+markers",
                meta=grp,
            )
        fig.update_layout(
            yaxis={"tickformat": ".0%"} if metric != "nps" else {"range": [-100, 100]},
            xaxis={"tickformat": "%m-%d"},
        )
        graphs.append(
            _section(
                t(metric, lang),
                dcc.Graph(id=f"g-{metric.replace('_', '-')}", figure=fig, config=GRAPH_CONFIG),
            )
        )
    return [
        option_links,
        html.Div(
            [
                _kpi(
                    "kpi-call-csat",
                    t("call_csat", lang),
                    _pct(totals["call_csat"]),
                    totals["call_csat"],
                ),
                _kpi(
                    "kpi-ticket-csat",
                    t("ticket_csat", lang),
                    _pct(totals["ticket_csat"]),
                    totals["ticket_csat"],
                ),
                _kpi("kpi-fcr", t("fcr", lang), _pct(totals["fcr"]), totals["fcr"]),
                _kpi(
                    "kpi-repeat-rate",
                    t("repeat_rate", lang),
                    _pct(totals["repeat_rate"]),
                    totals["repeat_rate"],
                ),
                _kpi(
                    "kpi-nps",
                    t("nps", lang),
                    "—" if totals["nps"] is None else f"{totals['nps']:+.1f}",
                    totals["nps"],
                ),
                _kpi(
                    "kpi-contacts",
                    t("contacts", lang),
                    f"{totals['contacts']:,}",
                    totals["contacts"],
                ),
            ],
            className="kpis",
        ),
        html.Div(graphs, className="cols2"),
        html.P(
            t("nps_note", lang, n=totals["nps_responses"] or 0) if nps else t("nps_none", lang),
            id="nps-note" if nps else "nps-none",
            className="note",
        ),
    ]


def page_issues(cur, f: q.Filters, lang: str, store: SnapshotStore, args: dict):
    ledger = q.issue_ledger(cur, f)
    report = find_report(store.reports_dir)
    link = (
        html.A(
            t("weekly_report", lang),
            href=f"/report/{REPORT_NAME}",
            id="weekly-report",
            target="_blank",
        )
        if report
        else html.P(t("no_report", lang), id="weekly-report-missing", className="note")
    )
    if ledger is None:
        return [_section(t("issue_ledger", lang), link, _missing("fct_issues", lang))]
    totals = q.issue_totals(ledger)
    # The newest LEDGER_SHOWN rows unless the URL asks for all (?rows=all): every
    # cell is a component the browser's Dash renderer builds one by one (~100
    # rows took 6-10 s to draw with the machine busy); the totals are of all.
    shown = ledger if args.get("rows") == "all" else ledger[:LEDGER_SHOWN]
    more = (
        dcc.Link(t("show_all", lang, n=len(ledger)), href=_with(args, rows="all"), id="ledger-all")
        if len(shown) < len(ledger)
        else None
    )
    depts = {d[0]: (d[1] if lang == "zh" else d[2]) for d in q.choices(cur).departments}
    return [
        html.Div(
            [
                _kpi("kpi-issues", t("issues", lang), str(totals["issues"]), totals["issues"]),
                _kpi("kpi-issues-open", v("open", lang), str(totals["open"]), totals["open"]),
                _kpi(
                    "kpi-issues-overdue",
                    t("overdue", lang),
                    str(totals["overdue"]),
                    totals["overdue"],
                ),
                _kpi(
                    "kpi-issues-verified",
                    t("verified", lang),
                    str(totals["verified"]),
                    totals["verified"],
                ),
                _kpi(
                    "kpi-contacts-avoided",
                    t("contacts_avoided", lang),
                    f"{totals['contacts_avoided_per_week']:,}",
                    totals["contacts_avoided_per_week"],
                ),
            ],
            className="kpis",
        ),
        _section(
            t("issue_ledger", lang),
            link,
            _table(
                "t-issues",
                [
                    "id",
                    t("issue_title", lang),
                    t("scenario", lang),
                    t("owner", lang),
                    t("status", lang),
                    t("overdue", lang),
                    t("rate_ratio", lang),
                    t("contacts_avoided", lang),
                    t("fix_due", lang),
                ],
                [
                    [
                        r["issue_id"],
                        r["title"],
                        name(r, "scenario_name", lang, "scenario_id"),
                        depts.get(r["owner_department_id"], r["owner_department_id"]),
                        v(r["status"], lang),
                        "⚠" if r["is_overdue"] else "",
                        "—" if r["rate_ratio"] is None else f"{r['rate_ratio']:.2f}",
                        r["contacts_avoided_per_week"],
                        "—" if r["fix_due_at"] is None else f"{r['fix_due_at']:%Y-%m-%d %H:%M}",
                    ]
                    for r in shown
                ],
                numeric={6, 7},
            ),
            more,
        ),
    ]


def find_report(reports_dir: Path | None) -> Path | None:
    if reports_dir is None or not reports_dir.is_dir():
        return None
    found = [
        p for p in reports_dir.rglob(REPORT_NAME) if len(p.relative_to(reports_dir).parts) <= 3
    ]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


RENDER = {
    "root-causes": page_root_causes,
    "sla": page_sla,
    "satisfaction": page_satisfaction,
    "issues": page_issues,
}


class RenderCache:
    """What a page drew, by what it depends on: the page, the URL's arguments
    and the version of the data the page reads. The marts change only when a
    new snapshot is published (a `voc build`), the Now page's live figures with
    every live file; so a page is computed once per version however many
    screens ask for it, and the default pages are drawn ahead, as soon as a
    version arrives (`warm`). Least recently used entries go first."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = make()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


def data_version(page: str, info, store: SnapshotStore):
    """The version of the data `page` shows (see RenderCache); None: do not keep."""
    if page in ("now", "alert"):
        return info.version
    if page == "root-causes":
        clusters = store.clusters_version
        return None if clusters is None else (info.marts_version, clusters)
    if page == "issues":
        return info.marts_version, str(find_report(store.reports_dir))
    return info.marts_version


# -- app --------------------------------------------------------------------------------


def create_app(store: SnapshotStore, reports_dir: Path | None = None) -> Dash:
    # `voc demo` writes <work dir>/report/report.html beside the warehouse
    reports_dir = reports_dir if reports_dir is not None else store.warehouse.parent
    store.reports_dir = reports_dir
    app = Dash(
        __name__,
        title="VOC Loop",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        assets_folder=str(Path(__file__).parent / "assets"),
    )

    def layout():
        # Dash fetches the layout with a second request (/_dash-layout) made by the
        # page itself: the page's own query string is in its Referer.
        args = {}
        if has_request_context():
            referrer = request.referrer or ""
            args = _args(urlsplit(referrer).query) if referrer else dict(request.args)
        lang = _lang(args)
        with store.reading() as (cur, info):
            ch = choices(cur, info)
        f, _ = q.parse_filters(args, ch)

        def dropdown(key: str, options: list[tuple[str, str]], value):
            return html.Label(
                [
                    html.Span(t(key, lang)),
                    dcc.Dropdown(
                        id=f"f-{key}",
                        options=[{"label": label, "value": val} for val, label in options],
                        value=value,
                        placeholder=t("all", lang),
                        clearable=True,
                        searchable=False,
                    ),
                ],
                className="filter",
            )

        def day_input(key: str, value):
            return html.Label(
                [
                    html.Span(t(key, lang)),
                    dcc.Input(
                        id=f"f-{key}",
                        type="date",
                        value=value.isoformat(),
                        min=ch.first_day.isoformat(),
                        max=ch.last_day.isoformat(),
                        debounce=True,
                    ),
                ],
                className="filter",
            )

        return html.Div(
            [
                dcc.Location(id="url", refresh=False),
                html.Header(
                    [
                        html.H1(t("title", lang)),
                        html.Nav(id="nav"),
                        html.Div(id="lang-switch", className="lang"),
                    ]
                ),
                html.Div(
                    [
                        day_input("start", f.start),
                        day_input("end", f.end),
                        dropdown("domain", [(d, v(d, lang)) for d in ch.domains], f.domain),
                        dropdown(
                            "department",
                            [(d[0], d[1] if lang == "zh" else d[2]) for d in ch.departments],
                            f.department,
                        ),
                        dropdown("channel", [(c, v(c, lang)) for c in ch.channels], f.channel),
                    ],
                    className="filters",
                ),
                html.Div(id="status", className="status"),
                html.Main(id="page"),
                dcc.Interval(id="tick", interval=int(store.refresh_s * 1000), disabled=True),
            ],
            lang="zh-CN" if lang == "zh" else "en",
        )

    app.layout = layout
    renders = itertools.count(1)  # tells a test (or a wallboard) that a new render landed
    cache = RenderCache()

    def choices(cur, info) -> q.Choices:
        return cache.get(("choices", info.marts_version), lambda: q.choices(cur))

    def body(page: str, arg: str | None, args: dict[str, str]) -> tuple[list, list[str]]:
        """(page body, rejected filter names) for the URL `page`/`arg`?`args`."""
        lang = _lang(args)
        with store.reading() as (cur, info):
            f, rejected = q.parse_filters(args, choices(cur, info))

            version = data_version(page, info, store)
            if page == "now":
                # the data is kept; the page is drawn each time (its lag runs with the clock)
                data = cache.get((page, f.key(), version), lambda: now_data(cur, f))
                return page_now(data, lang, args), rejected

            def draw():
                if page == "alert":
                    return page_alert(cur, lang, arg, args)
                return RENDER[page](cur, f, lang, store, args)

            if version is None:
                return draw(), rejected
            key = (page, arg, tuple(sorted(args.items())), version)
            return cache.get(key, draw), rejected

    def warm() -> None:
        for page in PAGES:
            body(page, None, {})

    store.on_switch = warm

    @app.callback(
        Output("url", "search"),
        [Input(f"f-{k}", "value") for k in FILTER_KEYS],
        State("url", "search"),
        prevent_initial_call=True,
    )
    def filters_to_url(start, end, domain, department, channel, search):
        args = _args(search)
        changes = dict(zip(FILTER_KEYS, (start, end, domain, department, channel), strict=True))
        if changes.get("domain") != args.get("domain"):
            changes["drill"] = None  # a drill path belongs to its business filter
        return _with(args, **changes)

    @app.callback(
        Output("page", "children"),
        Output("nav", "children"),
        Output("lang-switch", "children"),
        Output("status", "children"),
        Output("tick", "disabled"),
        Input("url", "pathname"),
        Input("url", "search"),
        Input("tick", "n_intervals"),
    )
    def render(pathname, search, _tick):
        started = time.perf_counter()
        args = _args(search)
        lang = _lang(args)
        page, arg = _page(pathname)
        page_body, rejected = body(page, arg, args)
        nav = [
            dcc.Link(
                t(PAGE_LABEL[p], lang),
                href=f"/{p}{_with(args)}",
                id=f"nav-{p}",
                className="on" if p == page or (page == "alert" and p == "now") else "",
            )
            for p in PAGES
        ]
        switch = [
            html.A("中文", href=f"/{page}{_with(args, lang='zh')}", id="lang-zh"),
            " | ",
            html.A("English", href=f"/{page}{_with(args, lang='en')}", id="lang-en"),
        ]
        info = store.info
        now = datetime.now(UTC).replace(tzinfo=None)
        age_s = max(0, round((now - info.published_at).total_seconds()))
        status = [
            html.Span(
                f"{t('snapshot', lang)}: {t('published', lang)} "
                f"{info.published_at:%Y-%m-%d %H:%M:%S} UTC · {t('age', lang)} "
                f"{_duration(age_s)} · {t('refresh_every', lang, s=int(store.refresh_s))}",
                id="staleness",
                **{
                    "data-age-s": str(age_s),
                    "data-publisher": info.publisher,
                    "data-published-at": info.published_at.isoformat(),
                },
            ),
            html.Span(
                f" · {t('marts_as_of', lang)} {info.marts_published_at:%Y-%m-%d %H:%M:%S} UTC",
                id="marts-as-of",
            )
            if info.live_path is not None
            else None,
            html.Span(f" · {t('writer_active', lang)}", id="writer-active")
            if store.writer_active
            else None,
            html.Span(
                f" · {t('rejected', lang)}: {', '.join(sorted(set(rejected)))}",
                id="rejected",
                className="warn",
            )
            if rejected
            else None,
            html.Span(
                "",
                id="page-ready",
                **{
                    "data-page": page,
                    "data-render": str(next(renders)),
                    "data-ms": f"{(time.perf_counter() - started) * 1000:.0f}",
                },
            ),
        ]
        return page_body, nav, switch, status, page != "now"

    server = app.server

    @server.route("/report/<path:name>")
    def weekly_report(name: str):
        report = find_report(reports_dir)
        if report is None:
            abort(404)
        return send_from_directory(report.parent, name)  # refuses paths outside it

    return app


def serve(
    warehouse: Path, host: str, port: int, refresh_s: float, reports_dir: Path | None = None
) -> None:
    store = SnapshotStore(warehouse, refresh_s=refresh_s).start()
    app = create_app(store, reports_dir)
    # the first snapshot arrived before the app existed: draw its pages meanwhile
    threading.Thread(target=store.on_switch, name="voc-warm", daemon=True).start()
    try:
        app.run(host=host, port=port, debug=False)
    finally:
        store.stop()
