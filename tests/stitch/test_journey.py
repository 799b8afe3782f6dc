from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voc.stitch.journey import CustomerJourney, JourneyStep

S = 1_000_000


def journey(*steps):
    j = CustomerJourney()
    for s in steps:
        j.add(JourneyStep(*s))
    return j


def test_stage_is_the_latest_event_before_the_contact_even_if_added_out_of_order():
    # GIVEN events added out of event-time order
    j = journey((300 * S, "shipping", "shipped", "o1"), (100 * S, "order", "order_created", "o1"))
    j.add(JourneyStep(200 * S, "payment", "payment_failed", "o1"))
    # WHEN a contact at t=250 is stitched
    s = j.stitch(250 * S, "o1", lookback_s=3600, recent_n=5)
    # THEN the stage is the one at t=200 and the later event is not used
    assert s.journey_stage == "payment"
    assert s.recent_events == ("order_created", "payment_failed")


def test_the_orders_own_events_decide_the_stage():
    j = journey((100 * S, "after_sale", "refund_requested", "o1"), (200 * S, "order", "cart", "o2"))
    assert j.stitch(300 * S, "o1", lookback_s=3600, recent_n=5).journey_stage == "after_sale"
    assert j.stitch(300 * S, None, lookback_s=3600, recent_n=5).journey_stage == "order"


def test_lookback_limits_recent_events_but_not_the_stage():
    j = journey((0, "order", "order_created", None))
    s = j.stitch(7200 * S, None, lookback_s=3600, recent_n=5)
    assert s.journey_stage == "order"
    assert s.recent_events == ()


def test_no_events_before_contact_means_no_stage():
    j = journey((500 * S, "order", "order_created", None))
    assert j.stitch(100 * S, None, lookback_s=3600, recent_n=5).journey_stage is None


steps = st.lists(
    st.tuples(
        st.integers(0, 10_000),
        st.sampled_from(["order", "payment", "shipping"]),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from([None, "o1", "o2"]),
    ),
    max_size=40,
)


@given(steps, st.integers(0, 10_000), st.integers(0, 10_000))
def test_pruning_never_changes_the_stage_of_a_later_contact(raw, cut, contact):
    # GIVEN any journey, pruned at any point before the contact
    full = journey(*[(t * S, *rest) for t, *rest in raw])
    pruned = journey(*[(t * S, *rest) for t, *rest in raw])
    cut = min(cut, contact)
    pruned.prune(cut * S)
    # THEN the stage at contact time is unchanged
    for order in (None, "o1", "o2"):
        a = full.stitch(contact * S, order, lookback_s=10**6, recent_n=3).journey_stage
        b = pruned.stitch(contact * S, order, lookback_s=10**6, recent_n=3).journey_stage
        assert a == b


def test_a_replayed_event_counts_once():
    # GIVEN the same journey event twice (recovered and replayed after a restart)
    step = JourneyStep(100 * S, "order", "payment_failed", "o1", "app-1")
    j = CustomerJourney.of([step, step, JourneyStep(50 * S, "order", "cart", "o1", "app-0")])
    j.add(step)
    # THEN it is in the journey once
    assert j.stitch(200 * S, "o1", lookback_s=3600, recent_n=5).recent_events == (
        "cart",
        "payment_failed",
    )
