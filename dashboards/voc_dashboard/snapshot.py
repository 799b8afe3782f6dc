"""Snapshots: how the dashboard reads a warehouse that a stream is writing.

DuckDB lets one process open a file for writing, and while it does no other
process can open it at all (not even read-only). So the dashboard never reads
the warehouse file while serving: it reads files published beside it
(`<warehouse>.dashboard/`), each written under a temporary name and renamed
into place (a reader never sees half of one), each with its own name (DuckDB
caches database instances by path inside a process):

- a *snapshot* (`snapshot-<ns>.duckdb`): the marts the pages use plus the live
  figures computed from the raw tables (contacts per minute, dead letters,
  newest event time, alerts not yet in a mart);
- a *live file* (`live-<ns>.duckdb`): the live figures only. A writer that
  holds the file for a whole run (the Kafka run's store loader) publishes one
  snapshot on its first round and a live file on every round after: the marts
  cannot change while it holds the file (no `voc build` can open it), the raw
  tables change every round, and copying the marts every round would cost the
  run a copy of every mart (seconds on a 10x warehouse) for nothing.

The dashboard publishes a snapshot itself, every `refresh_s` when the
warehouse file changed and no writer holds it, by attaching it read-only. It
serves from an in-memory DuckDB that attaches the newest snapshot and the
newest live file published after it (views name each table in the one that
is freshest). Every page states when what it shows was published (staleness)
and the Now page the data's lag.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from voc_dashboard.marts import CONTACT_TEXT_COLUMNS, OPTIONAL, REQUIRED

SNAPSHOT_PREFIX = "snapshot-"
LIVE_PREFIX = "live-"
KEEP_SNAPSHOTS = 3
# How far back the live per-minute counts go: the Now page compares the last
# hour with the same hour on up to 7 earlier days.
LIVE_DAYS = 8
INPUT_STREAMS = ("calls", "ticket_events", "app_events", "social_posts")
# Untagged texts clustered per snapshot (newest first): k-means on TF-IDF costs
# ~1 s for 500 texts on a busy 2-core machine, ~17 s for 1,800.
CLUSTER_MAX_TEXTS = 500
# ... and at most this often: while a stream writes, every snapshot has new
# untagged contacts, and re-clustering each second would starve the pages.
CLUSTER_EVERY_S = 60.0


def snapshot_dir(warehouse: Path | str) -> Path:
    """Where the snapshots of `warehouse` live: `<warehouse>.dashboard/`."""
    w = Path(warehouse)
    return w.with_name(w.name + ".dashboard")


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relations(con: duckdb.DuckDBPyConnection, catalog: str) -> set[tuple[str, str]]:
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = ?",
        [catalog],
    ).fetchall()
    return {(s, t) for s, t in rows}


class MissingMarts(RuntimeError):
    """The warehouse has no dbt marts yet (run `voc build`)."""


def publish(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    out_dir: Path,
    publisher: str,
    *,
    marts: bool = True,
) -> Path:
    """Write one snapshot (`marts`) or live file (not `marts`) of the warehouse
    attached as `catalog` on `con` into `out_dir`; return its path. Reads happen
    in one transaction, so the copy is consistent even while the same process
    keeps inserting."""
    out_dir.mkdir(parents=True, exist_ok=True)
    present = _relations(con, catalog)
    missing = [rel for rel in REQUIRED.values() if ("main", rel) not in present]
    if marts and missing:
        raise MissingMarts(
            f"the warehouse has no {', '.join(missing)}: build the marts with `voc build`"
        )
    prefix = SNAPSHOT_PREFIX if marts else LIVE_PREFIX
    stamp = time.time_ns()
    final = out_dir / f"{prefix}{stamp}.duckdb"
    tmp = out_dir / f".{prefix}{stamp}.tmp"
    alias = f"voc_snap_{stamp}"
    src = f"{_ident(catalog)}.main"
    raw = f"{_ident(catalog)}.raw"
    optional = [n for n, rel in OPTIONAL.items() if ("main", rel) in present] if marts else []
    con.execute(f"ATTACH {_quote(tmp)} AS {alias}")
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            fingerprint = []
            if marts:
                for name, rel in REQUIRED.items():
                    cols = "*" if name != "contact_texts" else ", ".join(CONTACT_TEXT_COLUMNS)
                    con.execute(f"CREATE TABLE {alias}.{name} AS SELECT {cols} FROM {src}.{rel}")
                for name in optional:
                    con.execute(f"CREATE TABLE {alias}.{name} AS FROM {src}.{OPTIONAL[name]}")
                # What the marts hold, to tell a new `voc build` from a snapshot
                # republished because only the raw tables moved (RenderCache keys).
                # Not the contact texts: a view on the raw contacts, they grow with
                # every load, and a contact's text never changes.
                for name in [n for n in [*REQUIRED, *optional] if n != "contact_texts"]:
                    fingerprint.append(
                        con.execute(
                            f"SELECT '{name}', count(*), bit_xor(hash(x)) FROM {alias}.{name} AS x"
                        ).fetchall()[0]
                    )
            _publish_live(con, raw, alias, present)
            newest = con.execute(f"SELECT max(newest_event_at) FROM {alias}.live_streams")
            newest_at = newest.fetchall()[0][0]
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute(
            f"CREATE TABLE {alias}._snapshot AS SELECT ?::TIMESTAMP AS published_at, "
            "? AS publisher, ?::TIMESTAMP AS newest_event_at, ? AS optional_marts, "
            "? AS marts_version",
            [
                datetime.now(UTC).replace(tzinfo=None),
                publisher,
                newest_at,
                json.dumps(optional),
                hashlib.sha1(repr(fingerprint).encode()).hexdigest()[:16],
            ],
        )
    finally:
        con.execute(f"DETACH {alias}")
    os.replace(tmp, final)
    _prune(out_dir)
    return final


def _publish_live(
    con: duckdb.DuckDBPyConnection, raw: str, alias: str, present: set[tuple[str, str]]
) -> None:
    """Live figures from the raw tables (the marts are only as fresh as the last
    `voc build`; the pipeline writes raw rows as it goes)."""
    parts = []
    for stream in INPUT_STREAMS:
        if ("raw", stream) in present:
            parts.append(
                f"SELECT '{stream}' AS stream, count(*) AS rows, max(event_time) AS "
                f"newest_event_at, max(_loaded_at) AS newest_loaded_at, "
                f"count(*) FILTER (WHERE _loaded_at >= (SELECT max(_loaded_at) FROM "
                f"{raw}.{stream}) - INTERVAL 1 HOUR) AS rows_last_hour FROM {raw}.{stream}"
            )
    con.execute(
        f"CREATE TABLE {alias}.live_streams AS "
        f"WITH s AS ({' UNION ALL '.join(parts)}), "
        f"d AS (SELECT stream, count(*) AS dead_letters, max(_loaded_at) AS newest_dl_at "
        f"FROM {raw}.dead_letters GROUP BY stream) "
        "SELECT s.*, coalesce(d.dead_letters, 0) AS dead_letters FROM s "
        "LEFT JOIN d USING (stream)"
    )
    con.execute(
        f"CREATE TABLE {alias}.live_dead_letters AS SELECT stream, reason, _loaded_at "
        f"AS loaded_at FROM {raw}.dead_letters "
        f"WHERE _loaded_at >= (SELECT max(_loaded_at) FROM {raw}.dead_letters) - INTERVAL 1 DAY"
    )
    con.execute(
        f"CREATE TABLE {alias}.live_minutes AS "
        f"WITH newest AS (SELECT max(event_time) AS t FROM {raw}.contacts) "
        "SELECT domain, date_trunc('minute', event_time) AS minute_at, "
        "count(*) AS contacts "
        f"FROM {raw}.contacts, newest "
        f"WHERE event_time > newest.t - INTERVAL {LIVE_DAYS} DAY GROUP BY ALL"
    )
    con.execute(
        f"CREATE TABLE {alias}.live_alerts AS SELECT alert_id, kind AS alert_kind, domain, "
        "journey_stage, coalesce(scenario_id, 'untagged') AS scenario_id, "
        "window_start AS window_start_at, window_end AS window_end_at, "
        "count AS contact_count, baseline_mean, threshold, suggested_owner, "
        f"_loaded_at AS loaded_at FROM {raw}.alerts"
    )
    # Alert episodes (voc alerts sync): the loop's own state table, rebuilt from
    # raw.alerts; open / acknowledged / resolved with owner and evidence.
    con.execute(
        f"CREATE TABLE {alias}.live_episodes (episode_id VARCHAR, kind VARCHAR, "
        "domain VARCHAR, journey_stage VARCHAR, scenario_id VARCHAR, owner_department "
        "VARCHAR, severity VARCHAR, status VARCHAR, opened_at TIMESTAMP, last_window_end "
        "TIMESTAMP, resolved_at TIMESTAMP, peak_count BIGINT, expected_so_far DOUBLE, "
        "threshold DOUBLE, evidence VARCHAR)"
    )
    if ("raw", "alert_episodes") in present:
        con.execute(
            f"INSERT INTO {alias}.live_episodes SELECT episode_id, kind, domain, "
            "journey_stage, scenario_id, owner_department, severity, status, opened_at, "
            "last_window_end, resolved_at, peak_count, expected_so_far, threshold, "
            f"evidence::VARCHAR FROM {raw}.alert_episodes"
        )


def _prune(out_dir: Path) -> None:
    """Keep the newest KEEP_SNAPSHOTS of each kind; a live file older than the
    newest snapshot is never read again. (A reader that still has a file open
    keeps reading it: unlinking does not take it away.)"""
    snaps, lives = list_snapshots(out_dir), list_snapshots(out_dir, LIVE_PREFIX)
    newest = _stamp(snaps[-1]) if snaps else -1
    old = snaps[:-KEEP_SNAPSHOTS] + [
        p for i, p in enumerate(lives) if i < len(lives) - KEEP_SNAPSHOTS or _stamp(p) < newest
    ]
    for path in old:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _stamp(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


def list_snapshots(out_dir: Path, prefix: str = SNAPSHOT_PREFIX) -> list[Path]:
    """Published snapshots (or live files), oldest first (names carry a
    nanosecond stamp)."""
    if not out_dir.is_dir():
        return []
    return sorted(out_dir.glob(f"{prefix}*.duckdb"), key=_stamp)


class WriterSnapshots:
    """Called by a writer that holds the warehouse (the Kafka run's store loader,
    after each round) with its own connection: the first call once the marts
    exist publishes a snapshot, later ones a live file, at most every `every_s`
    seconds, so the dashboard stays live while no other process can open the
    file. A live file costs a few aggregates over the raw tables (DECISIONLOG,
    Dashboard: staleness)."""

    def __init__(self, warehouse: Path | str, every_s: float = 5.0) -> None:
        self.out_dir = snapshot_dir(warehouse)
        self.every_s = every_s
        self._last = float("-inf")
        self.published = 0
        self.seconds = 0.0  # spent publishing, for the run's own accounting

    def __call__(self, con: duckdb.DuckDBPyConnection) -> Path | None:
        if time.monotonic() - self._last < self.every_s:
            return None
        self._last = started = time.monotonic()
        cur = con.cursor()
        try:
            catalog = cur.execute("SELECT current_database()").fetchall()[0][0]
            if ("main", REQUIRED["contacts"]) not in _relations(cur, catalog):
                return None  # no marts built yet: nothing the pages could show
            path = publish(
                cur,
                catalog,
                self.out_dir,
                publisher=f"writer pid {os.getpid()}",
                marts=self.published == 0,
            )
        finally:
            cur.close()
        self.published += 1
        self.seconds += time.monotonic() - started
        return path


def is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def publish_from_file(warehouse: Path, out_dir: Path | None = None) -> Path:
    """Snapshot a warehouse no other process is writing. Raises duckdb.IOException
    (see is_lock_conflict) when a writer holds it."""
    out_dir = out_dir or snapshot_dir(warehouse)
    with duckdb.connect() as con:
        con.execute(f"ATTACH {_quote(warehouse)} AS wh (READ_ONLY)")
        return publish(con, "wh", out_dir, publisher="dashboard")


def _open_views(snap: Path, live: Path | None) -> tuple[duckdb.DuckDBPyConnection, SnapshotInfo]:
    """An in-memory database attaching `snap` and `live` read-only, with one view
    per table named as the pages' queries name it, on the live file's table
    where it has one (the live figures and their `_snapshot` row)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_quote(snap)} AS snap (READ_ONLY)")
        sources = {t: "snap" for _, t in _relations(con, "snap")}
        if live is not None:
            con.execute(f"ATTACH {_quote(live)} AS live (READ_ONLY)")
            sources |= {t: "live" for _, t in _relations(con, "live")}
        for table, db in sorted(sources.items()):
            con.execute(f"CREATE VIEW {_ident(table)} AS FROM {db}.main.{_ident(table)}")
        shown = con.execute(
            "SELECT published_at, publisher, newest_event_at FROM _snapshot"
        ).fetchall()[0]
        marts_at, optional, marts_version = con.execute(
            "SELECT published_at, optional_marts, marts_version FROM snap.main._snapshot"
        ).fetchall()[0]
    except BaseException:
        con.close()
        raise
    info = SnapshotInfo(snap, live, *shown, tuple(json.loads(optional)), marts_at, marts_version)
    return con, info


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path  # the snapshot (marts and live figures)
    live_path: Path | None  # a live file published after it, whose live figures are shown
    published_at: datetime  # of the live figures shown (the live file's, else the snapshot's)
    publisher: str
    newest_event_at: datetime | None
    optional_marts: tuple[str, ...]
    marts_published_at: datetime  # of the snapshot: the marts are as of then
    # a fingerprint of what the marts hold: changes only when they do (live figures aside)
    marts_version: str

    @property
    def version(self) -> tuple[str, str | None]:
        """Changes whenever anything a page shows may have changed."""
        return self.path.name, self.live_path.name if self.live_path else None


class SnapshotStore:
    """The dashboard's view: the newest snapshot, re-read every `refresh_s`
    seconds; refreshed from the warehouse itself when no writer holds it."""

    def __init__(self, warehouse: Path, refresh_s: float = 10.0, out_dir: Path | None = None):
        self.warehouse = Path(warehouse)
        self.out_dir = out_dir or snapshot_dir(self.warehouse)
        self.reports_dir: Path | None = None  # the weekly reports the Issues page links
        self.refresh_s = refresh_s
        self.writer_active = False
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._retired: list[duckdb.DuckDBPyConnection] = []
        self._info: SnapshotInfo | None = None
        self._source_stamp: tuple | None = None
        self._clusters: list = []
        self._clusters_key: tuple | None = None
        self._clustering = False
        self._clustered_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Called (in the refresh thread) after switching to newer files: the app
        # draws the default pages ahead of the first screen that asks for them.
        self.on_switch = None

    # -- refreshing -------------------------------------------------------------------
    def _warehouse_stamp(self) -> tuple:
        stamp = []
        for p in (self.warehouse, self.warehouse.with_name(self.warehouse.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                st = p.stat()
                stamp.append((st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def refresh(self) -> None:
        """Publish from the warehouse if it changed and is free; then switch to
        the newest snapshot on disk (ours or a writer's)."""
        stamp = self._warehouse_stamp()
        if stamp != self._source_stamp or not list_snapshots(self.out_dir):
            try:
                publish_from_file(self.warehouse, self.out_dir)
                self._source_stamp = stamp
                self.writer_active = False
                self.last_error = None
            except duckdb.Error as exc:
                if not is_lock_conflict(exc):
                    raise
                self.writer_active = True
        switched = self._switch_to_newest()
        if self._con is not None:
            self.clusters()  # start clustering a new set of untagged contacts early
        if switched and self.on_switch is not None:
            self.on_switch()

    def clusters(self) -> list | None:
        """Untagged clusters of the current snapshot (voc.tagging.cluster), or
        None while they are being computed for a new set of untagged contacts."""
        with self.cursor() as cur:
            key = cur.execute(
                "SELECT count(*), max(contacted_at) FROM contacts WHERE scenario_id = 'untagged'"
            ).fetchall()[0]
        with self._lock:
            if self._clusters_key == key:
                return self._clusters
            if self._clustering:
                return self._clusters if self._clusters_key is not None else None
            if (
                self._clusters_key is not None
                and time.monotonic() - self._clustered_at < CLUSTER_EVERY_S
            ):
                return self._clusters
            self._clustering = True
            self._clustered_at = time.monotonic()
        threading.Thread(target=self._cluster, args=(key,), daemon=True).start()
        return None

    def clusters_blocking(self, timeout_s: float = 120) -> list:
        deadline = time.monotonic() + timeout_s
        while (found := self.clusters()) is None:
            if time.monotonic() > deadline:
                raise TimeoutError("untagged clustering did not finish")
            time.sleep(0.1)
        return found

    def _cluster(self, key: tuple) -> None:
        from voc.tagging.cluster import cluster_texts

        try:
            with self.cursor() as cur:
                rows = cur.execute(
                    "SELECT t.contact_text, c.domain FROM contacts c "
                    "JOIN contact_texts t USING (contact_id) "
                    "WHERE c.scenario_id = 'untagged' AND t.contact_text IS NOT NULL "
                    "ORDER BY c.contacted_at DESC, c.contact_id LIMIT ?",
                    [CLUSTER_MAX_TEXTS],
                ).fetchall()
            found = cluster_texts([r[0] for r in rows], [r[1] for r in rows]) if rows else []
            with self._lock:
                self._clusters, self._clusters_key = found, key
        finally:
            with self._lock:
                self._clustering = False

    def _switch_to_newest(self) -> bool:
        snaps = list_snapshots(self.out_dir)
        if not snaps:
            return False
        lives = [
            p for p in list_snapshots(self.out_dir, LIVE_PREFIX) if _stamp(p) > _stamp(snaps[-1])
        ]
        snap, live = snaps[-1], (lives[-1] if lives else None)
        if self._info and (self._info.path, self._info.live_path) == (snap, live):
            return False
        try:
            con, info = _open_views(snap, live)
        except duckdb.IOException:
            # pruned between listing and opening (a writer keeps only the newest
            # few live files): the next round finds the newer one
            return False
        with self._lock:
            # The previous connection may still serve a render's cursor: close
            # the one before it instead.
            if self._con is not None:
                self._retired.append(self._con)
            self._con, self._info = con, info
            while len(self._retired) > 1:
                self._retired.pop(0).close()
        return True

    def start(self, wait_s: float = 30.0) -> SnapshotStore:
        """First snapshot: waits up to `wait_s` while a writer holds the warehouse
        (a stream may hold it for moments at a time) unless a snapshot is on disk."""
        deadline = time.monotonic() + wait_s
        self.refresh()
        while self._info is None and self.writer_active and time.monotonic() < deadline:
            time.sleep(0.2)
            self.refresh()
        if self._info is None and self.writer_active:
            raise MissingMarts(
                f"{self.warehouse} is held by a writing process and no snapshot of it "
                f"is in {self.out_dir}: start the dashboard once the run has published "
                "one, or before it starts"
            )
        if self._info is None:
            raise MissingMarts(f"no snapshot of {self.warehouse} could be made or found")
        self._thread = threading.Thread(target=self._loop, name="voc-refresh", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self.refresh()
            except Exception as exc:  # keep serving the last good snapshot
                self.last_error = f"{type(exc).__name__}: {exc}"

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        with self._lock:
            for con in [*self._retired, self._con]:
                if con is not None:
                    con.close()
            self._con, self._retired = None, []

    # -- reading ----------------------------------------------------------------------
    @property
    def info(self) -> SnapshotInfo:
        assert self._info is not None, "start() first"
        return self._info

    @property
    def clusters_version(self) -> tuple | None:
        """Changes when the untagged clusters shown change."""
        return self._clusters_key

    @contextlib.contextmanager
    def reading(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, SnapshotInfo]]:
        """A cursor on the current snapshot (read-only, for one page render) and
        the description of what it reads, taken together."""
        with self._lock:
            assert self._con is not None and self._info is not None, "start() first"
            cur, info = self._con.cursor(), self._info
        try:
            yield cur, info
        finally:
            cur.close()

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.reading() as (cur, _):
            yield cur
