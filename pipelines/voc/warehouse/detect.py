"""Breakpoint detection over what the warehouse holds: the streaming job's
detector (DECISIONLOG.md, "Kafka delivery and watermark", "Breakpoints").

The BreakpointEngine (voc.detect.engine) is fed from `raw.app_events`,
`raw.social_posts` and `raw.contacts` in the process that loads the raw store,
one 5-minute step at a time, and judges a step only once everything that
belongs to it is stored:

- every input partition is durable, contiguously from the consumer group's
  floor, up to a record at least `max_out_of_order_s` newer than the step's
  end (the reader's watermark rule, read from the store instead of from a
  runner), or up to its end offset (an idle partition follows the newest
  event time of all of them); and
- every contact record of the step (a call, a ticket opened without a call,
  a post) is in `raw.contacts`, i.e. was stitched and tagged.

The engine and how far it was fed are saved in the warehouse in the same
transaction as the alerts they raised (`voc_store.detector_state`), so a
process killed at any moment resumes exactly where its last committed round
ended: what it judges after a restart is what an uninterrupted run judges,
from the same stored rows in the same order, and alerts are neither lost
nor raised twice (their ids are (kind, key, episode start)). Because it
reads the store that every job instance appends to, one detector sees all
partitions however many instances read them. State that cannot be read back
(another engine version, another catalog) is dropped and rebuilt from the
warehouse from the start: the result is the same, only slower.

Nothing here imports Beam.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from voc.contracts.streams import INPUT_STREAMS
from voc.detect.alerts import to_row
from voc.detect.engine import BreakpointEngine, DetectCatalog, EngineParams
from voc.warehouse.load import insert_rows
from voc.warehouse.store import contiguous_end, parse_range

log = logging.getLogger(__name__)

_STATE = "voc_store.detector_state"
_LEDGER = "voc_store.loaded_files"
# Bump when the engine's pickled shape changes: old state is then rebuilt.
ENGINE_VERSION = "7"  # 3: repeat returns carry a stated count; 4: rate keys carry a CUSUM;
# 5: waiting steps carry their pile-up state (entries keyed by where they came from);
# 6: waiting steps keep their pile-up arrays beside the entries (64e9538);
# 7: repeat returns carry the problem their ticket link names
FAR_FUTURE_S = 2**40  # "the input has ended": close every step that has records

# (topic, partition) -> (first offset the job reads from, end offset now)
Bounds = dict[tuple[str, int], tuple[int, int]]

# The contact records of a step: one definition with recovery (voc.pipeline.recover).
_CONTACT_RECORDS = """
    SELECT event_id, event_time FROM raw.calls WHERE true{since}
    UNION ALL
    SELECT event_id, event_time FROM raw.ticket_events
    WHERE event_type = 'created' AND source_contact_id IS NULL{since}
    UNION ALL
    SELECT event_id, event_time FROM raw.social_posts WHERE true{since}
"""
_ISO = "strftime(event_time, '%Y-%m-%dT%H:%M:%S.%f') || 'Z' AS event_time"
# What the engine reads of each table (voc.pipeline.detect keeps the same fields).
_FEEDS = (
    ("app_events", "app", "event_id, event_name, domain, journey_stage, order_id, session_id"),
    ("social_posts", "social", "event_id, domain, sentiment"),
    (
        "contacts",
        "contact",
        "contact_id, channel, domain, customer_id, order_id, ticket_id, related_ticket_id, "
        "text, journey_stage, scenario_id, method",
    ),
)
_KIND_ORDER = {"app": 0, "social": 1, "contact": 2}
_STREAM_OF = {"app": "app_events", "social": "social_posts", "contact": "contact"}


def _timestamp(epoch_s: int) -> str:
    """A naive UTC TIMESTAMP literal, as the raw tables store times (DuckDB's
    to_timestamp gives a TIMESTAMPTZ, compared in the session's time zone)."""
    return f"TIMESTAMP '{datetime.fromtimestamp(int(epoch_s), UTC):%Y-%m-%d %H:%M:%S}'"


@dataclass
class DetectRound:
    fed: int = 0  # records fed to the engine this round
    alerts: int = 0  # alerts stored this round
    judged_until_s: int | None = None  # every step ending at or before this is judged
    complete: bool = False  # the input has ended and every step with records is judged
    waiting_for: str = ""  # what holds the next step back
    # event time (epoch s) up to which every input partition / every contact is stored
    inputs_until_s: float | None = None
    contacts_until_s: float | None = None
    # the most offsets any input partition has beyond what is stored (None: unknown)
    backlog: int | None = None


@dataclass
class _State:
    engine: BreakpointEngine
    fed_until_s: int | None = None  # records before this were fed
    closed_all: bool = False  # the last round closed every step (end of input)


def fingerprint(catalog: DetectCatalog, params: EngineParams) -> str:
    """Of what the engine's judgement depends on besides the rows (the
    detector's view of the catalog, its parameters, its version)."""
    parts = {}
    for f in fields(catalog):
        v = getattr(catalog, f.name)
        parts[f.name] = (
            sorted(v.items())
            if isinstance(v, dict)
            else sorted(v)
            if isinstance(v, frozenset)
            else v
        )
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(parts).encode())
    h.update(repr(params).encode())
    h.update(ENGINE_VERSION.encode())
    return h.hexdigest()


def _ensure_state_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS voc_store")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {_STATE} (name VARCHAR PRIMARY KEY, fingerprint VARCHAR, "
        "fed_until_s BIGINT, closed_all BOOLEAN, engine BLOB, "
        "saved_at TIMESTAMP DEFAULT current_timestamp)"
    )


@dataclass
class StoredDetector:
    """Judges the warehouse's stored rows step by step; see the module docstring.

    `bounds()` returns every input partition's (floor, end offset), or None
    when it cannot tell (a broker outage): then no new step is judged.

    A contact record not stitched yet holds its step back however long it
    takes: what is judged never depends on the wall clock or the machine's
    speed. (It used to stop holding after 300 wall seconds, so on a loaded
    machine, with stitching minutes behind the store in a backfill, steps
    were judged without their contacts and the alerts differed from a quiet
    run's.) A record a runner dropped is stitched by the recovery of the next
    start or the reconciliation at the end of a run; meanwhile `waiting_for`
    names it."""

    catalog: DetectCatalog
    bounds: Callable[[], Bounds | None]
    params: EngineParams = field(default_factory=EngineParams)
    max_out_of_order_s: float = 600.0
    name: str = "breakpoints"
    _state: _State | None = None
    # Per partition, the newest event time of all partitions when it was last
    # seen stored to its end: its mark does not fall back below that when a
    # new record of it is on its way (see _inputs_frontier).
    _idle_marks: dict[tuple[str, int], float] = field(default_factory=dict)
    # The input range files listed in the ledger, read once: (table, source)
    # -> (first, last, newest event time), sorted. None: read the whole ledger
    # at the next round (first round, after an error, or a load that did not
    # say which files it listed).
    _ranges: dict[tuple[str, str], list] | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------ the state

    def _load(self, con: duckdb.DuckDBPyConnection) -> _State:
        if self._state is not None:
            return self._state
        _ensure_state_table(con)
        fp = fingerprint(self.catalog, self.params)
        row = con.execute(
            f"SELECT fingerprint, fed_until_s, closed_all, engine FROM {_STATE} WHERE name = ?",
            [self.name],
        ).fetchone()
        state = None
        if row is not None and row[0] == fp:
            try:
                state = _State(pickle.loads(row[3]), row[1], bool(row[2]))
            except Exception as exc:  # noqa: BLE001 - any unreadable state is rebuilt
                log.warning("detector state unreadable (%s): rebuilding from the warehouse", exc)
        elif row is not None:
            log.warning("detector state of another engine or catalog: rebuilding")
        self._state = state or _State(BreakpointEngine(self.catalog, self.params))
        return self._state

    def _save(self, con, state: _State, alerts: list[dict]) -> int:
        con.execute("BEGIN")
        try:
            n = insert_rows(con, "alerts", alerts) if alerts else 0
            con.execute(
                f"INSERT OR REPLACE INTO {_STATE} "
                "(name, fingerprint, fed_until_s, closed_all, engine, saved_at) "
                "VALUES (?, ?, ?, ?, ?, current_timestamp)",
                [
                    self.name,
                    fingerprint(self.catalog, self.params),
                    state.fed_until_s,
                    state.closed_all,
                    pickle.dumps(state.engine, protocol=pickle.HIGHEST_PROTOCOL),
                ],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return n

    # -------------------------------------------------------- the frontier

    def _inputs_frontier(self, con, bounds: Bounds, *, final: bool) -> tuple[float, str, int]:
        """The event time up to which every input partition is stored, what
        holds it, and the largest backlog (offsets not stored) of a partition."""
        from voc.kafka.topics import stream_of_topic
        from voc.warehouse.store import kafka_source

        files = self._ranges
        newest_of: dict[tuple[str, int], float | None] = {}
        complete: dict[tuple[str, int], bool] = {}
        backlog = 0
        for (topic, partition), (start, end) in bounds.items():
            source = (str(stream_of_topic(topic)), kafka_source(topic, partition))
            ranges = files.get(source, ())
            pos = contiguous_end(((first, last) for first, last, _ in ranges), start)
            newest_of[(topic, partition)] = max(
                (t for _, last, t in ranges if last < pos and t is not None), default=None
            )
            complete[(topic, partition)] = pos >= end
            backlog = max(backlog, end - pos)
        if not bounds:
            return float("-inf"), "the input topics", backlog
        if final and all(complete.values()):
            return float("inf"), "", backlog
        known = [t for t in newest_of.values() if t is not None]
        overall = max(known, default=None)
        frontier, waiting = float("inf"), ""
        for tp, newest in newest_of.items():
            # A sparse partition stored to its end follows the others (the idle
            # rule); when its next record is produced but not stored yet, its
            # mark stays where the idle rule had put it, not back at its own
            # newest record (hours old for a quiet partition): a record of it
            # older than that is late either way (the steps before were
            # judged). Only the live path takes this: in a backfill a partition
            # is stored to its end once, when it is read whole.
            if complete[tp] and overall is not None:
                self._idle_marks[tp] = max(self._idle_marks.get(tp, overall), overall)
            mark = overall if complete[tp] else newest
            floor = self._idle_marks.get(tp)
            if floor is not None and (mark is None or mark < floor):
                mark = floor
            t = float("-inf") if mark is None else mark - self.max_out_of_order_s
            if t < frontier:
                frontier, waiting = t, f"partition {tp[0]}/{tp[1]}"
        return frontier, waiting, backlog

    def _read_ledger(self, con, names: dict[str, list[str]] | None) -> None:
        """Add the input range files listed in the ledger to `_ranges`: those
        named (a round's load), or, with None, all (the ledger grows with
        every read, and parsing it whole every round grew without bound)."""
        tables = [str(s) for s in INPUT_STREAMS]
        if names is None or self._ranges is None:
            self._ranges, listed = {}, None
        else:
            listed = [n for t in tables for n in names.get(t, ())]
            if not listed:
                return
        sql = (
            f"SELECT table_name, file_name, epoch(newest_event_time) FROM {_LEDGER} "
            "WHERE table_name IN (SELECT unnest(?::VARCHAR[]))"
        )
        params: list = [tables]
        if listed is not None:
            sql += " AND file_name IN (SELECT unnest(?::VARCHAR[]))"
            params.append(listed)
        for table, name, newest in con.execute(sql, params).fetchall():
            r = parse_range(Path(name))
            if r is not None:
                bisect.insort(
                    self._ranges.setdefault((table, r.source), []), (r.first, r.last, newest)
                )

    def _contacts_frontier(self, con, since_s: int | None) -> tuple[float, str]:
        """The event time of the oldest contact record not stitched yet."""
        since = "" if since_s is None else f" AND event_time >= {_timestamp(since_s)}"
        row = con.execute(
            f"SELECT r.event_id, epoch(r.event_time) FROM ({_CONTACT_RECORDS.format(since=since)}) "
            f"AS r WHERE r.event_id NOT IN (SELECT contact_id FROM raw.contacts WHERE true{since}) "
            "ORDER BY r.event_time, r.event_id LIMIT 1"
        ).fetchone()
        if row is None:
            return float("inf"), ""
        return row[1], f"contact {row[0]} (not stitched yet)"

    # -------------------------------------------------------------- a round

    def run(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        final: bool = False,
        load: Callable[[], object] | None = None,
    ) -> DetectRound:
        """Judge every step that is complete in the warehouse now, store the
        alerts and the engine in one transaction. `load` (loading the store
        into the warehouse) runs after the partition bounds are read, so a
        floor the group committed is never past what is loaded. `final`: the
        job's input has ended (its readers finished); when every partition
        is stored to its end offset, every step with records is judged."""
        try:
            return self._run(con, final=final, load=load)
        except Exception:
            self._state = None  # the saved state is the truth; re-read it
            self._ranges = None  # and the ledger
            raise

    def _run(self, con, *, final: bool, load) -> DetectRound:
        out = DetectRound()
        bounds = self.bounds()
        loaded = load() if load is not None else None
        self._read_ledger(con, getattr(loaded, "new_files", None))
        state = self._load(con)
        out.judged_until_s = state.fed_until_s
        if bounds is None:
            out.waiting_for = "the broker (partition end offsets)"
            return out
        f_in, w_in, out.backlog = self._inputs_frontier(con, bounds, final=final)
        f_c, w_c = self._contacts_frontier(con, state.fed_until_s)
        frontier, out.waiting_for = (f_in, w_in) if f_in <= f_c else (f_c, w_c)
        out.inputs_until_s, out.contacts_until_s = f_in, f_c
        step_s = self.params.step_s
        if frontier == float("inf"):
            until_s, advance_to = None, FAR_FUTURE_S
        elif frontier == float("-inf"):
            return out
        else:
            until_s = int(frontier // step_s) * step_s
            advance_to = until_s
            if state.fed_until_s is not None and until_s <= state.fed_until_s:
                return out
        engine = state.engine
        items = []
        for table, kind, cols in _FEEDS:
            where = []
            if state.fed_until_s is not None:
                where.append(f"event_time >= {_timestamp(state.fed_until_s)}")
            if until_s is not None:
                where.append(f"event_time < {_timestamp(until_s)}")
            sql = f"SELECT {cols}, {_ISO}, epoch_us(event_time) FROM raw.{table}"
            if where:
                sql += " WHERE " + " AND ".join(where)
            cur = con.execute(sql)
            names = [d[0] for d in cur.description][:-1]
            for row in cur.fetchall():
                rec = dict(zip(names, row[:-1], strict=True))
                key = rec.get("event_id") or rec.get("contact_id")
                items.append((row[-1], _KIND_ORDER[kind], key, kind, rec))
        if until_s is None and not items and state.closed_all:
            out.complete = True
            return out
        # A fixed order (time, stream, id): every run feeds the engine alike.
        items.sort(key=lambda x: x[:3])
        for _, _, _, kind, rec in items:
            engine.add(_STREAM_OF[kind], rec)
        raised = engine.advance(advance_to)
        if until_s is not None:
            state.fed_until_s, state.closed_all = until_s, False
        else:
            newest = max((x[0] // 1_000_000 for x in items), default=None)
            if newest is not None:
                state.fed_until_s = max(state.fed_until_s or 0, (newest // step_s + 1) * step_s)
            state.closed_all, out.complete = True, True
        out.fed = len(items)
        out.alerts = self._save(con, state, [to_row(a) for a in raised])
        out.judged_until_s = state.fed_until_s
        return out


class KafkaBounds:
    """`bounds` for StoredDetector from the broker: every input partition's
    floor (the group's committed offset, else the earliest offset: where a
    reader of this group starts) and end offset. On a broker outage, the
    last bounds read, or None before any. One consumer for the run (`close`)."""

    def __init__(self, bootstrap: str, group_id: str) -> None:
        from voc.kafka.clients import PartitionOffsets
        from voc.kafka.topics import topic_for

        self.offsets = PartitionOffsets(bootstrap, [topic_for(s) for s in INPUT_STREAMS], group_id)
        self.last: Bounds | None = None

    def __call__(self) -> Bounds | None:
        try:
            self.last = self.offsets.read()
        except Exception as exc:  # noqa: BLE001 - an outage: judge nothing new
            log.warning("partition bounds unavailable (%s)", exc)
        return self.last

    def close(self) -> None:
        self.offsets.close()
