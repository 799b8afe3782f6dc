"""stitch_from_warehouse gives what the reference CustomerJourney.stitch gives."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voc.contracts.validate import from_micros
from voc.stitch.journey import CustomerJourney, JourneyStep, Stitched
from voc.stitch.lookup import ContactAt, stitch_from_warehouse
from voc.warehouse.duck import open_warehouse, upsert
from voc.warehouse.tables import RAW_TABLES

S = 1_000_000
CUSTOMERS = ("cus-1", "cus-2")
ORDERS = (None, "o1", "o2")


@pytest.fixture(scope="module")
def con():
    c = open_warehouse(":memory:")
    yield c
    c.close()


def store(con: duckdb.DuckDBPyConnection, steps: list[tuple[str, JourneyStep]]) -> None:
    con.execute("DELETE FROM raw.app_events")
    upsert(
        con,
        RAW_TABLES["app_events"],
        [
            {
                "event_id": s.event_id,
                "event_time": from_micros(s.ts_us),
                "domain": "ecommerce",
                "customer_id": customer,
                "order_id": s.order_id,
                "journey_stage": s.stage,
                "event_name": s.event_name,
            }
            for customer, s in steps
        ],
    )


steps_st = st.lists(
    st.tuples(
        st.sampled_from(CUSTOMERS),
        st.integers(0, 20),  # coarse times: ties are common
        st.sampled_from(("order", "payment", "shipping")),
        st.sampled_from(("a", "b", "c")),
        st.sampled_from(ORDERS),
    ),
    max_size=25,
)
contacts_st = st.lists(
    st.tuples(st.sampled_from(CUSTOMERS), st.integers(0, 22), st.sampled_from(ORDERS)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(raw_steps=steps_st, raw_contacts=contacts_st, lookback=st.sampled_from((1, 5, 100)))
def test_the_warehouse_query_matches_the_reference(con, raw_steps, raw_contacts, lookback):
    # GIVEN journey events of two customers, stored in the warehouse
    steps = [
        (cus, JourneyStep(t * 60 * S, stage, name, order, f"app-{i}"))
        for i, (cus, t, stage, name, order) in enumerate(raw_steps)
    ]
    store(con, steps)
    contacts = [
        ContactAt(f"c-{i}", cus, order, t * 60 * S)
        for i, (cus, t, order) in enumerate(raw_contacts)
    ]
    # WHEN the contacts are stitched by the query
    got = stitch_from_warehouse(con, contacts, lookback_s=lookback * 60, recent_n=3)
    # THEN each gets what the in-memory reference says
    for c in contacts:
        journey = CustomerJourney.of(s for cus, s in steps if cus == c.customer_id)
        want = journey.stitch(c.event_time_us, c.order_id, lookback_s=lookback * 60, recent_n=3)
        assert got[c.contact_id] == want, c


def test_a_customer_with_no_events_gets_no_stage(con):
    store(con, [])
    got = stitch_from_warehouse(
        con, [ContactAt("c-1", "cus-9", None, 10 * S)], lookback_s=60, recent_n=5
    )
    assert got == {"c-1": Stitched(None, ())}
