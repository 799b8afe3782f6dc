"""Routing file validation, channel payload shapes, and episode logic."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml

from voc.alerting.channels import render
from voc.alerting.episodes import AlertRow, build_episodes
from voc.alerting.routing import RoutingError, parse_routing

MINIMAL = """
channels:
  ops-hook: {type: webhook, url: "http://127.0.0.1:8080/hook"}
routes:
  - match: {}          # every department and severity
    channels: [ops-hook]
"""


def test_the_issue_minimal_file_routes_everything_to_its_hook():
    routing = parse_routing(yaml.safe_load(MINIMAL))
    facts = {"department": "finance", "severity": "critical", "transition": "opened"}
    assert routing.channels_for(facts) == ["ops-hook"]
    assert routing.setting("ops-hook", "max_attempts") == 5


def test_first_matching_route_wins_unless_continue():
    doc = yaml.safe_load(
        """
channels:
  a: {type: feishu, url: "https://example.invalid/a", secret: s}
  b: {type: dingtalk, url: "https://example.invalid/b"}
  c: {type: slack, url: "https://example.invalid/c"}
routes:
  - match: {department: payment_ops, severity: [high, critical]}
    channels: [a]
    continue: true
  - match: {department: [payment_ops, finance]}
    channels: [b]
  - match: {}
    channels: [c]
"""
    )
    r = parse_routing(doc, departments={"payment_ops", "finance", "sales"})
    assert r.channels_for({"department": "payment_ops", "severity": "high"}) == ["a", "b"]
    assert r.channels_for({"department": "payment_ops", "severity": "low"}) == ["b"]
    assert r.channels_for({"department": "sales", "severity": "high"}) == ["c"]
    assert r.setting("b", "rate_per_minute") == 20.0  # DingTalk's own limit


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {
                "channels": {"x": {"type": "webhook", "url": "ftp://h"}},
                "routes": [{"channels": ["x"]}],
            },
            "channels.x.url: Value error, must start with http://",
        ),
        (
            {
                "channels": {"x": {"type": "pager", "url": "http://h"}},
                "routes": [{"channels": ["x"]}],
            },
            "channels.x: Input tag 'pager' found using 'type' does not match",
        ),
        (
            {
                "channels": {"x": {"type": "webhook", "url": "http://h"}},
                "routes": [{"channels": ["y"]}],
            },
            "routes.0.channels: unknown channel 'y' (defined: x)",
        ),
        (
            {
                "channels": {"x": {"type": "webhook", "url": "http://h"}},
                "routes": [{"match": {"severity": "urgent"}, "channels": ["x"]}],
            },
            "unknown severity 'urgent'",
        ),
        (
            {
                "channels": {"x": {"type": "webhook", "url": "http://h"}},
                "routes": [{"match": {"department": "nobody"}, "channels": ["x"]}],
            },
            "routes.0.match.department: 'nobody' is not a catalog department",
        ),
        (
            {
                "channels": {"x": {"type": "webhook", "url": "http://h", "colour": 1}},
                "routes": [{"channels": ["x"]}],
            },
            "channels.x.colour: Extra inputs are not permitted",
        ),
        ({"channels": {}, "routes": []}, "channels: Dictionary should have at least 1 item"),
    ],
)
def test_invalid_routing_files_get_clear_errors(doc, message):
    with pytest.raises(RoutingError) as e:
        parse_routing(doc, "routing.yaml", departments={"finance"})
    assert str(e.value).startswith("routing.yaml: invalid routing file")
    assert message in str(e.value)


PAYLOAD = {
    "transition": "opened",
    "episode_id": "ep-1",
    "kind": "contact_spike",
    "key": "ecommerce|payment|ecommerce.payment.failed",
    "domain": "ecommerce",
    "journey_stage": "payment",
    "scenario_id": "ecommerce.payment.failed",
    "owner_department": "payment_ops",
    "severity": "high",
    "peak_count": 40,
    "baseline_mean": 2.0,
    "threshold": 9.0,
    "contacts_so_far": 90,
    "expected_so_far": 6.0,
    "opened_at": "2026-11-17T07:00:00Z",
    "resolved_at": None,
    "link": "http://dash/alerts/ep-1",
    "evidence": {
        "scenario_name_zh": "支付失败",
        "scenario_name_en": "Payment failed",
        "examples": [{"text": "付款一直失败 payment keeps failing", "language": "zh"}],
        "affected_orders": {"count": 12, "sample": ["o1", "o2"]},
        "affected_stages": {"payment": 80},
    },
}


@pytest.mark.parametrize("kind", ["webhook", "feishu", "dingtalk", "wecom", "slack"])
def test_every_channel_payload_carries_the_key_and_the_evidence(kind):
    body = render(kind, PAYLOAD, "voc-abc")
    text = str(body)
    assert "voc-abc" in text and "支付失败" in text
    if kind != "webhook":
        assert "付款一直失败" in text and "http://dash/alerts/ep-1" in text
    shape = {
        "webhook": lambda b: b["idempotency_key"] == "voc-abc",
        "feishu": lambda b: b["msg_type"] == "interactive" and b["card"]["header"]["template"],
        "dingtalk": lambda b: b["msgtype"] == "markdown" and b["markdown"]["title"],
        "wecom": lambda b: b["msgtype"] == "markdown" and b["markdown"]["content"],
        "slack": lambda b: b["blocks"][0]["type"] == "header" and b["text"],
    }[kind]
    assert shape(body)


T0 = datetime(2026, 11, 16)
H = timedelta(hours=1)


def _alert(i: int, start: datetime, count: int) -> AlertRow:
    return AlertRow(
        f"a{i}", "contact_spike", "k", "d", "s", "x.y.z", start, start + H, count, 1.0, 6.0, "ops"
    )


def test_an_episode_opens_once_updates_on_new_peaks_and_resolves_after_three_quiet_windows():
    # GIVEN a key whose level rises 8 -> 13 -> 30, then falls back
    counts = {"k": {T0 + i * H: n for i, n in enumerate([8, 13, 30, 7, 2, 1, 1, 9, 1])}}
    # WHEN built from one alert (at the first window) and a late duplicate alert
    eps = build_episodes([_alert(1, T0, 8), _alert(2, T0 + 2 * H, 30)], counts, T0 + 9 * H)
    # THEN one episode: opened, updated at 13 (>= 1.5 x 8) and 30, resolved after 3 quiet hours
    assert len(eps) == 1
    ep = eps[0]
    assert [t.transition for t in ep.transitions] == ["opened", "updated", "updated", "resolved"]
    assert ep.peak_count == 30 and ep.contacts_so_far == 8 + 13 + 30 + 7
    assert ep.resolved_at == T0 + 7 * H
    assert ep.alert_ids == ["a1", "a2"]
    # AND an alert after the resolution starts a second episode
    eps = build_episodes([_alert(1, T0, 8), _alert(3, T0 + 7 * H, 9)], counts, T0 + 9 * H)
    assert len(eps) == 2 and eps[1].status == "open"


def test_an_episode_without_enough_data_after_it_stays_open():
    counts = {"k": {T0: 10, T0 + H: 12}}
    (ep,) = build_episodes([_alert(1, T0, 10)], counts, T0 + 3 * H)
    assert ep.status == "open" and [t.transition for t in ep.transitions] == ["opened"]


def test_alerts_on_five_minute_steps_count_in_their_hour_and_stage_alerts_resolve():
    # GIVEN two alerts of one key raised on 5-minute steps inside hours 0 and 1
    step = timedelta(minutes=5)
    a1 = AlertRow(
        "a1",
        "contact_spike",
        "d|s|*",
        "d",
        "s",
        None,
        T0 + 10 * step,
        T0 + 11 * step,
        4,
        0.1,
        6.0,
        "ops",
    )
    a2 = AlertRow(
        "a2",
        "contact_spike",
        "d|s|*",
        "d",
        "s",
        None,
        T0 + H + 2 * step,
        T0 + H + 3 * step,
        5,
        0.1,
        6.0,
        "ops",
    )
    counts = {"d|s|*": {T0: 9, T0 + H: 12, T0 + 2 * H: 1, T0 + 3 * H: 0, T0 + 4 * H: 1}}
    # WHEN built
    (ep,) = build_episodes([a1, a2], counts, T0 + 6 * H)
    # THEN one episode over the hour grid: both alerts in it, resolved after 3 quiet hours
    assert ep.alert_ids == ["a1", "a2"] and ep.peak_count == 12
    assert ep.windows[0][0] == T0 and ep.resolved_at == T0 + 5 * H
    # AND a kind without a contact level resolves 3 windows after its last alert
    f1 = AlertRow(
        "f1", "funnel_drop", "d|s|*", "d", "s", None, T0 + step, T0 + 2 * step, 40, 80.0, 5.0, "ops"
    )
    (fe,) = build_episodes([f1], {}, T0 + 6 * H)
    assert fe.resolved_at == T0 + 4 * H and fe.status == "resolved"


def test_an_alert_with_a_long_evidence_window_never_resolves_before_it_opened():
    # GIVEN a repeat loop: first contact at T0, the third (the alert) 50 hours later
    loop = AlertRow(
        "r1", "repeat_loop", "d|s|c1", "d", "s", "x.y.z", T0, T0 + 50 * H, 3, 0.0, 3.0, "cs"
    )
    # WHEN built with a day of data after it
    (ep,) = build_episodes([loop], {}, T0 + 80 * H)
    # THEN it opens when the alert is raised and resolves 3 quiet windows after that
    assert ep.opened_at == T0 + 50 * H
    assert ep.resolved_at == T0 + 53 * H
    assert [t.transition for t in ep.transitions] == ["opened", "resolved"]
