"""The page-query layer without a browser: filters from arbitrary URL values,
snapshots, and the alert fallback used when a warehouse has no episodes."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.dashboards.conftest import copy_warehouse, sql
from voc_dashboard import queries as q
from voc_dashboard.snapshot import MissingMarts, SnapshotStore, list_snapshots, publish_from_file

CHOICES = q.Choices(
    domains=("express", "freight"),
    departments=(("finance", "财务", "Finance"),),
    channels=("call", "ticket"),
    first_day=date(2026, 1, 1),
    last_day=date(2026, 1, 7),
)
KEYS = ("start", "end", "domain", "department", "channel", "drill", "grain", "by", "lang")


@given(st.dictionaries(st.sampled_from(KEYS), st.text(max_size=300)))
def test_any_url_values_give_filters_the_data_holds(args):
    # GIVEN any values at all WHEN parsed
    f, rejected = q.parse_filters(args, CHOICES)
    # THEN every filter that is set is one of the choices, the dates stay in range
    assert f.domain in (None, *CHOICES.domains)
    assert f.department in (None, *CHOICES.department_ids)
    assert f.channel in (None, *CHOICES.channels)
    assert CHOICES.first_day <= f.start <= f.end <= CHOICES.last_day
    assert f.extra.get("grain", "day") in q.GRAINS
    assert f.extra.get("by", "domain") in q.DIMENSIONS
    assert set(rejected) <= set(KEYS)
    assert all(p.isprintable() and p for p in q.drill_path(f))


def test_a_hostile_value_is_rejected_not_used():
    f, rejected = q.parse_filters({"domain": "' OR 1=1 --", "start": "x" * 10_000}, CHOICES)
    assert (f.domain, f.start) == (None, CHOICES.first_day)
    assert sorted(rejected) == ["domain", "start"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("call me on 13812345678 or a@b.cn", "call me on 13********* or <EMAIL>"),
        ("@shop 订单 4567", "@*** 订单 4567"),
    ],
)
def test_texts_are_masked_for_display(text, shown):
    assert q.mask_text(text) == shown


@pytest.mark.slow
def test_without_episodes_open_alerts_follow_the_rearm_rule(demo_warehouse, tmp_path):
    # GIVEN a warehouse whose alert episodes were never synced
    wh = copy_warehouse(demo_warehouse, tmp_path / "noep")
    with duckdb.connect(str(wh)) as con:
        con.execute("DELETE FROM raw.alert_episodes")
    snap = publish_from_file(wh, tmp_path / "snap")
    # WHEN the Now page's query runs on its snapshot
    with duckdb.connect(str(snap), read_only=True) as cur:
        f, _ = q.parse_filters({}, q.choices(cur))
        shown = {a["alert_id"] for a in q.open_alerts(cur, f)}
        latest = q.latest_alerts(cur, f)
    # THEN the open alerts are the mart's alerts within 3 windows of the newest event
    newest = sql(
        wh,
        "SELECT max(t) FROM (SELECT max(event_time) t FROM raw.calls UNION ALL "
        "SELECT max(event_time) FROM raw.ticket_events UNION ALL "
        "SELECT max(event_time) FROM raw.app_events UNION ALL "
        "SELECT max(event_time) FROM raw.social_posts)",
    )[0][0]
    expected = {
        r[0]
        for r in sql(
            wh,
            "SELECT alert_id FROM fct_alerts WHERE window_end_at >= ? - 3 * "
            "(window_end_at - window_start_at)",
            [newest],
        )
    }
    assert shown == expected
    assert [a["alert_id"] for a in latest] == [
        r[0]
        for r in sql(
            wh, "SELECT alert_id FROM fct_alerts ORDER BY window_end_at DESC, alert_id LIMIT 5"
        )
    ]


def test_a_warehouse_without_marts_is_a_clear_error(tmp_path):
    wh = tmp_path / "raw_only.duckdb"
    duckdb.connect(str(wh)).close()
    with pytest.raises(MissingMarts, match="voc build"):
        SnapshotStore(wh, out_dir=tmp_path / "snap").start()
    assert list_snapshots(tmp_path / "snap") == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_alert_kind_is_shown_in_the_page_language(lang):
    # GIVEN every kind a detector can raise WHEN shown on the page
    from voc.detect.alerts import KINDS
    from voc_dashboard.i18n import v

    shown = {kind: v(kind, lang) for kind in KINDS}
    # THEN none is left as its raw id, and no two kinds read the same
    assert not [k for k, text in shown.items() if text == k], shown
    assert len(set(shown.values())) == len(KINDS), shown
