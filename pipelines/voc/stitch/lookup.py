"""Stitch a batch of contacts from the stored journey events.

The same answer as `CustomerJourney.stitch` (the reference, kept Beam- and
DuckDB-free; a hypothesis test holds the two together), computed by one SQL
query over `raw.app_events` for a whole batch of contacts: the streaming job
keeps no journey events in runner state, only the contacts still waiting for
the watermark (DECISIONLOG.md, "Stitching").

In the job, `raw.app_events` is a `JourneyIndex`: an in-memory DuckDB table of
each worker's own, filled from the raw store's immutable Parquet files (read
once each), never the warehouse file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import duckdb
import pyarrow as pa

from voc.stitch.journey import Stitched
from voc.warehouse.store import RawStore, contiguous_end, parse_range

# (first offset, end offset) of every partition of the journey topic, keyed by
# the store's source name ("topic/partition/"); None: the broker is unknown.
Bounds = dict[str, tuple[int, int]]


class ContactAt(NamedTuple):
    """What stitching needs of a contact."""

    contact_id: str
    customer_id: str
    order_id: str | None
    event_time_us: int


# The stage is the latest event at or before the contact; with an order id,
# the latest of that order's own events when the order has any. Ties in time
# are broken by the same total order as CustomerJourney (None order id as '').
STITCH_SQL = """
with

candidates as (
    select
        due.contact_id,
        events.journey_stage,
        events.event_name,
        events.event_time,
        coalesce(events.order_id, '') as order_key,
        events.event_id,
        coalesce(events.order_id = due.order_id, false) as is_same_order,
        events.event_time >= due.contact_time - to_seconds($lookback_s) as is_recent
    from _voc_due as due
    inner join raw.app_events as events
        on
            events.customer_id = due.customer_id
            and events.event_time <= due.contact_time
),

scoped as (
    select
        *,
        bool_or(is_same_order) over (partition by contact_id) as has_order_events
    from candidates
),

final as (
    select
        contact_id,
        last(
            journey_stage
            order by event_time, order_key, journey_stage, event_name, event_id
        ) as journey_stage,
        list(
            event_name
            order by event_time desc, order_key desc, journey_stage desc,
            event_name desc, event_id desc
        ) filter (where is_recent) as recent_newest_first
    from scoped
    where is_same_order or not has_order_events
    group by contact_id
)

select
    contact_id,
    journey_stage,
    list_reverse(coalesce(recent_newest_first, [])[1:$recent_n]) as recent_events
from final
"""

_DUE = pa.schema(
    [
        ("contact_id", pa.string()),
        ("customer_id", pa.string()),
        ("order_id", pa.string()),
        ("contact_time", pa.timestamp("us")),
    ]
)


def stitch_from_warehouse(
    con: duckdb.DuckDBPyConnection,
    contacts: Sequence[ContactAt],
    *,
    lookback_s: int,
    recent_n: int,
) -> dict[str, Stitched]:
    """contact id -> Stitched for each contact; a contact whose customer has no
    journey event before it gets Stitched(None, ())."""
    out = {c.contact_id: Stitched(None, ()) for c in contacts}
    if not contacts:
        return out
    due = pa.table(
        [
            [c.contact_id for c in contacts],
            [c.customer_id for c in contacts],
            [c.order_id for c in contacts],
            pa.array([c.event_time_us for c in contacts], pa.int64()).cast(pa.timestamp("us")),
        ],
        schema=_DUE,
    )
    cur = con.cursor()
    try:
        cur.register("_voc_due", due)
        rows = cur.execute(STITCH_SQL, {"lookback_s": lookback_s, "recent_n": recent_n}).fetchall()
        cur.unregister("_voc_due")
    finally:
        cur.close()
    for contact_id, stage, recent in rows:
        out[contact_id] = Stitched(stage, tuple(recent))
    return out


_INDEX_DDL = """
create schema if not exists raw;
create table if not exists raw.app_events (
    event_id varchar primary key,
    customer_id varchar,
    order_id varchar,
    journey_stage varchar,
    event_name varchar,
    event_time timestamp
)
"""


class JourneyIndex:
    """The journey events of the raw store, in an in-memory DuckDB table of
    this process (unique by event id). Store files are immutable, so each is
    read once; `refresh` adds the files written since the last call.

    It also knows, per partition of the journey topic, which offsets its
    files cover and the newest event time in each: `frontier_us` says up to
    which event time every on-time journey event is in the index, from the
    store itself, whatever a runner's watermark says (DECISIONLOG.md,
    "Stitching")."""

    def __init__(self, store: str) -> None:
        self.store = RawStore(store)
        self.con = duckdb.connect()
        self.con.execute(_INDEX_DDL)
        self._seen: set[str] = set()
        # source -> [(first, last, newest event time µs or None)] of its range files
        self._ranges: dict[str, list[tuple[int, int, int | None]]] = {}

    def refresh(self) -> int:
        new = [f for f in self.store.files("app_events") if f.name not in self._seen]
        if not new:
            return 0
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in new)
        self.con.execute(
            "create or replace temp table _voc_new as "
            "select event_id, customer_id, order_id, journey_stage, event_name, "
            "cast(event_time as timestamp) as event_time, parse_filename(filename) as file "
            f"from read_parquet([{listed}], filename = true)"
        )
        self.con.execute(
            "insert or ignore into raw.app_events select * exclude (file) from _voc_new"
        )
        newest = dict(
            self.con.execute(
                "select file, epoch_us(max(event_time)) from _voc_new group by file"
            ).fetchall()
        )
        self.con.execute("drop table _voc_new")
        for f in new:
            r = parse_range(f)
            if r is not None:
                self._ranges.setdefault(r.source, []).append((r.first, r.last, newest.get(f.name)))
        self._seen.update(f.name for f in new)
        return len(new)

    def frontier_us(self, bounds: Bounds | None, max_out_of_order_us: int) -> float:
        """The event time (µs) before which every journey event that is on
        time by its partition's own order is in the index: the minimum, over
        the journey topic's partitions, of the newest event time of the files
        contiguous from its first one, minus the disorder bound. A partition
        stored up to its end offset (idle) follows the newest of all
        partitions instead, as the reader's idle rule does. `bounds` (from the
        broker) names every partition; None (an outage): only the partitions
        the index knows, none of them taken as idle. -inf while a partition
        has nothing to go by."""
        self.refresh()
        if bounds is None:
            bounds = {source: (ranges[0][0], 2**63) for source, ranges in self._ranges.items()}
        marks: list[tuple[int | None, bool]] = []
        for source, (begin, end) in bounds.items():
            ranges = sorted(self._ranges.get(source, ()))
            start = ranges[0][0] if ranges else begin
            pos = contiguous_end(((first, last) for first, last, _ in ranges), start)
            newest = max((t for _, last, t in ranges if last < pos and t is not None), default=None)
            marks.append((newest, pos >= end))
        overall = max((t for t, _ in marks if t is not None), default=None)
        frontier = float("inf")
        for newest, idle in marks:
            mark = overall if idle else newest
            if mark is None:
                return float("-inf")
            frontier = min(frontier, mark - max_out_of_order_us)
        return float("-inf") if not marks else frontier

    def stitch(self, contacts: Sequence[ContactAt], *, lookback_s: int, recent_n: int):
        self.refresh()
        return stitch_from_warehouse(self.con, contacts, lookback_s=lookback_s, recent_n=recent_n)

    def close(self) -> None:
        self.con.close()
