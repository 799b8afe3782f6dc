"""Which input event completes an alert's evidence, and the delay from it."""

from __future__ import annotations

from voc.evaluation.alert_delay import CompletingEvents, Received, Sent, delays, summary

DISORDER_S = 600


def test_the_evidence_is_complete_with_the_first_record_past_the_window_end():
    # GIVEN records on two partitions; a window ending at t=1000 s needs event
    # time >= 1600 s (the disorder allowance) on some partition, the others caught up
    sent = [
        Sent("voc.app_events", 0, 1_500_000, 10.0),
        Sent("voc.calls", 0, 1_200_000, 10.5),
        Sent("voc.app_events", 0, 1_600_000, 11.0),  # the first past it
        Sent("voc.calls", 0, 1_900_000, 12.0),
    ]
    events = CompletingEvents(sent, DISORDER_S)
    # THEN that record completes it
    assert events.completed_at(1000) == 11.0
    assert events.completed_at(1200) == 12.0
    # AND a window nobody passed is never complete
    assert events.completed_at(5000) is None


def test_an_older_record_after_a_newer_one_completes_nothing():
    # GIVEN a partition whose third record is older than its second
    sent = [
        Sent("t", 0, 1_000_000, 1.0),
        Sent("t", 0, 2_000_000, 2.0),
        Sent("t", 0, 1_700_000, 3.0),
    ]
    # THEN a window needing 1.7e6 ms was complete with the second record (the watermark moved then)
    assert CompletingEvents(sent, DISORDER_S).completed_at(1100) == 2.0


def test_delays_count_only_alerts_completed_in_the_paced_part():
    sent = [Sent("t", 0, 1_000_000, 1.0), Sent("t", 0, 5_000_000, 50.0)]
    early = Received("a1", "emotion_escalation", 100, 3.5)  # completed by the record sent at 1 s
    late = Received("a2", "contact_spike", 2000, 52.5)  # completed by the record sent at 50 s
    measured = delays(sent, [early, late], DISORDER_S, after_s=10.0)
    assert measured == [(late, 2.5)]
    report = summary(measured)
    assert report["alerts"] == 1 and report["delay_p95_s"] == 2.5
    assert report["by_kind"] == {"contact_spike": {"alerts": 1, "delay_p50_s": 2.5}}
