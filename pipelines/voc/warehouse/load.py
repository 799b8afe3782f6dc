"""Load the raw store's Parquet files into the warehouse's `raw.*` tables.

The job's workers only append files to the store; one process (the one that
launched the job, or `voc build`) copies what is new into the DuckDB file,
which stays the embedded home of the marts and of every query. `raw.<table>`
keeps its columns and its key, so dbt, the quality checks and the marts read
it as before.

Idempotent by id, and honest about conflicts: a record whose `event_id` is
already stored *with the same content* (a replay after a restart, a producer
retry) adds nothing; one whose content differs becomes a dead letter with
reason `conflict`, naming both records, and the first stored version stays
(DECISIONLOG.md, "Ids"). Which files were loaded is kept in
`voc_store.loaded_files`, so a file is read once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson

from voc.contracts.streams import INPUT_STREAMS
from voc.contracts.validate import dead_letter
from voc.warehouse.publish import PUBLISH_ERRORS, make_producer, publish_stored
from voc.warehouse.store import POSITION, RawStore, parse_range, to_arrow
from voc.warehouse.tables import RAW_TABLES, RawTable

log = logging.getLogger(__name__)
_LEDGER = "voc_store.loaded_files"
_INPUT_TABLES = frozenset(str(s) for s in INPUT_STREAMS)
# Dead letters first (a conflict found while loading a stream is one), then
# the streams, then what the job derived from them.
_ORDER = ("dead_letters", *sorted(_INPUT_TABLES), "contacts", "alerts")


@dataclass
class LoadReport:
    files: int = 0
    inserted: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    # table -> the names of the files this load listed in the ledger
    new_files: dict[str, list[str]] = field(default_factory=dict)


def _ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS voc_store")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {_LEDGER} "
        "(table_name VARCHAR, file_name VARCHAR, rows BIGINT, "
        "loaded_at TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (table_name, file_name))"
    )
    # The newest event time of a range file's rows: how far in event time its
    # partition is durable (voc.warehouse.detect judges a step once all are past it).
    con.execute(f"ALTER TABLE {_LEDGER} ADD COLUMN IF NOT EXISTS newest_event_time TIMESTAMP")


def _select(table: RawTable) -> str:
    return ", ".join(
        f"CAST({c.name} AS {c.sql_type}) AS {c.name}"
        if c.sql_type in ("TIMESTAMP", "JSON")
        else c.name
        for c in table.columns
    )


def load_store(con: duckdb.DuckDBPyConnection, store: RawStore) -> LoadReport:
    """Copy every file of `store` not loaded yet into `raw.*`; see the module docstring."""
    _ensure_ledger(con)
    report = LoadReport()
    for name in _ORDER:
        files = store.files(name)
        if not files:
            continue
        done = {
            r[0]
            for r in con.execute(
                f"SELECT file_name FROM {_LEDGER} WHERE table_name = ?", [name]
            ).fetchall()
        }
        new = [f for f in files if f.name not in done]
        if not new:
            continue
        table = RAW_TABLES[name]
        if name in _INPUT_TABLES:
            n, conflicts = _load_stream(con, table, new)
            report.conflicts += conflicts
        else:
            n = _load_plain(con, table, new)
        report.files += len(new)
        report.inserted[name] = report.inserted.get(name, 0) + n
        report.new_files[name] = [f.name for f in new]
    return report


def _read(table: RawTable, files: list[Path], *, positions: bool) -> str:
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    extra = f", {POSITION}, filename AS _file" if positions else ""
    return f"SELECT {_select(table)}{extra} FROM read_parquet([{listed}], filename = true)"


def _record(con, table: str, files: list[Path], newest: str | None = None) -> None:
    """List `files` as loaded; `newest` (a query of (_file, newest event time))
    gives each range file its newest event time. One statement (executemany
    costs a round trip per file)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _voc_files AS SELECT unnest(?::VARCHAR[]) AS path",
        [[str(f) for f in files]],
    )
    times = f"({newest})" if newest else "(SELECT NULL AS _file, NULL::TIMESTAMP AS newest)"
    con.execute(
        f"INSERT OR IGNORE INTO {_LEDGER} (table_name, file_name, rows, newest_event_time) "
        "SELECT ?, parse_filename(f.path), 0, t.newest "
        f"FROM _voc_files AS f LEFT JOIN {times} AS t ON t._file = f.path",
        [table],
    )
    con.execute("DROP TABLE _voc_files")


def _load_plain(con, table: RawTable, files: list[Path]) -> int:
    names = ", ".join(table.column_names)
    con.execute("BEGIN")
    try:
        n = con.execute(
            f"INSERT OR IGNORE INTO {table.qualified} ({names}) "
            f"SELECT {names} FROM ({_read(table, files, positions=False)})"
        ).fetchall()[0][0]
        _record(con, table.name, files)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return n


def _load_stream(con, table: RawTable, files: list[Path]) -> tuple[int, int]:
    """Insert the first version of each new id; a version whose content differs
    from the stored (or the first new) one becomes a conflict dead letter."""
    key, names = table.key, ", ".join(table.column_names)
    con.execute("BEGIN")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _voc_new AS "
            f"SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _file, {POSITION}) AS _rn "
            f"FROM ({_read(table, files, positions=True)})"
        )
        # Versions that differ from what is kept: the stored row, else the
        # first new one. Same content (a replay) is no conflict.
        cols = table.column_names
        kept_content = "struct_pack(" + ", ".join(cols) + ")"
        new_content = "struct_pack(" + ", ".join(f"n.{c}" for c in cols) + ")"
        conflicts = con.execute(
            f"""
            WITH kept AS (
                SELECT {key}, {kept_content} AS content, NULL AS _file, NULL::BIGINT AS _pos
                FROM {table.qualified} WHERE {key} IN (SELECT {key} FROM _voc_new)
                UNION ALL
                SELECT {key}, {kept_content}, _file, {POSITION} FROM _voc_new
                WHERE _rn = 1 AND {key} NOT IN (SELECT {key} FROM {table.qualified})
            )
            SELECT n.{key}, to_json({new_content}), n._file, n.{POSITION}, k._file, k._pos
            FROM _voc_new AS n JOIN kept AS k ON n.{key} = k.{key}
            WHERE NOT (n._file IS NOT DISTINCT FROM k._file AND n.{POSITION} = k._pos)
              AND {new_content} IS DISTINCT FROM k.content
            ORDER BY n._file, n.{POSITION}
            """
        ).fetchall()
        n = con.execute(
            f"INSERT OR IGNORE INTO {table.qualified} ({names}) "
            f"SELECT {names} FROM _voc_new WHERE _rn = 1"
        ).fetchall()[0][0]
        if conflicts:
            _store_conflicts(con, table.name, conflicts)
        _record(
            con,
            table.name,
            files,
            "SELECT _file, max(event_time) AS newest FROM _voc_new GROUP BY _file",
        )
        con.execute("DROP TABLE _voc_new")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return n, len(conflicts)


def _source(file: str | None, position: int | None) -> str:
    if file is None:
        return "the warehouse"
    r = parse_range(Path(file))
    return f"{r.source}{position}" if r else f"{Path(file).name}#{position}"


def _store_conflicts(con, stream: str, rows) -> None:
    letters = []
    for event_id, payload, file, pos, kept_file, kept_pos in rows:
        where = _source(file, pos)
        reason = (
            f"conflict: event_id {event_id} is already stored with different content "
            f"(kept: {_source(kept_file, kept_pos)}); this version is not stored"
        )
        raw = orjson.dumps(orjson.loads(payload))
        letters.append(dead_letter(stream, where, reason, raw, kind="conflict").to_dict())
    insert_rows(con, "dead_letters", letters)


def insert_rows(con, table_name: str, rows: list[dict]) -> int:
    """Insert rows in their schema's shape (as the store holds them) into
    `raw.<table_name>`, keeping what is stored under the same id; the number
    inserted."""
    table = RAW_TABLES[table_name]
    con.register("_voc_rows", to_arrow(table, rows))
    try:
        return con.execute(
            f"INSERT OR IGNORE INTO {table.qualified} ({', '.join(table.column_names)}) "
            f"SELECT {_select(table)} FROM _voc_rows"
        ).fetchall()[0][0]
    finally:
        con.unregister("_voc_rows")


def _trace(started: float, judged) -> str:
    """One round as a JSON line (benchmarks/bench_alert_delay.py --trace):
    wall start and end, how far in event time inputs, contacts and judgement are."""

    def finite(x):  # JSON has no infinity
        return x if x is None or abs(x) != float("inf") else str(x)

    return orjson.dumps(
        {
            "start": started,
            "end": time.time(),
            "inputs_until": finite(judged.inputs_until_s),
            "contacts_until": finite(judged.contacts_until_s),
            "judged_until": judged.judged_until_s,
            "alerts": judged.alerts,
            "waiting_for": judged.waiting_for,
            "backlog": judged.backlog,
        }
    ).decode()


class StoreLoader:
    """Loads the store into the warehouse in a process of its own, started by
    the launching process (the only one that opens the DuckDB file), so the
    marts can be built and breakpoints judged while a streaming job runs; with
    `publish_to`, then publishes what was stored (voc.warehouse.publish).

    Its own process, not a thread of the launcher: the launcher runs the
    job's in-process SDK worker, and a loader thread (detection most of all)
    took the GIL from it; a process gets the machine's other core
    (DECISIONLOG "Throughput"). It dies with the launcher (a killed job
    leaves no loader holding the file), and a stop lets it finish its round.

    A round runs as soon as a file lands in the store (checked every
    `poll_s`: the folders' modification times), but, while the input has a
    backlog, no sooner after the last round than `min_gap_s` and four times
    that round's length (at most `interval_s`), so rounds take at most a
    fifth of the time while the job catches up; and at least every
    `interval_s` (the detector's bounds move with the broker, not only with
    files). When the detector's last round found every input partition
    stored to within `live_backlog` offsets of its end (live: the job keeps
    up with the producers), the next round may start one round's length
    after the last: alerts trail the stored records by about a round, not
    by `min_gap_s`."""

    def __init__(
        self,
        warehouse: str | Path,
        store: RawStore,
        interval_s: float = 5.0,
        publish_to: str | None = None,
        after_load=None,
        detector=None,
        poll_s: float = 0.25,
        min_gap_s: float = 5.0,
        live_backlog: int = 2000,
    ) -> None:
        """`after_load(con)`, if given, runs after each round on the loader's own
        connection (the dashboard's snapshots: no other process can open the
        file while the run holds it); its errors are logged, never fatal. It
        runs in the loader's process: it must pickle, and its attributes come
        back to this copy when the loader stops. `detector`
        (voc.warehouse.detect.StoredDetector) judges what each round loaded,
        before it is published; its saved state is in the warehouse."""
        self.warehouse, self.store, self.interval_s = str(warehouse), store, interval_s
        self.poll_s = min(poll_s, interval_s)
        self.min_gap_s = min(min_gap_s, interval_s)
        self.live_backlog = live_backlog
        self.publish_to = publish_to
        self.detector = detector
        self.after_load = after_load
        self._proc = None
        self.error: BaseException | None = None
        self.log_level = log.getEffectiveLevel()  # its process logs its rounds as this one

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_proc"}

    def __enter__(self) -> StoreLoader:
        import pickle
        import subprocess
        import sys

        settings = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _LOADER_MAIN, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._proc.stdin.write(len(settings).to_bytes(8, "big") + settings)
        self._proc.stdin.flush()
        return self

    def __exit__(self, *exc) -> None:
        import pickle

        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.write(_STOP)
            proc.stdin.close()
        except OSError:  # it has ended already
            pass
        result = proc.stdout.read()
        proc.wait()
        try:
            error, after_load = pickle.loads(result)
        except Exception:  # noqa: BLE001 - no result: it died
            self.error = RuntimeError(f"the store loader process ended with code {proc.returncode}")
            return
        self.error = self.error or error
        if after_load is not None and self.after_load is not None:
            vars(self.after_load).update(vars(after_load))

    def _loop(self, stop: threading.Event) -> None:
        from voc.warehouse.duck import open_warehouse

        producer = None
        # One connection for the run: opening the file (and checkpointing it
        # on close) every round cost more than the loading (profile, DECISIONLOG).
        con = open_warehouse(self.warehouse)
        last_round, gap, seen = time.monotonic(), 0.0, self._folders()
        try:
            while not stop.wait(self.poll_s):
                now = time.monotonic()
                if now - last_round < max(gap, self.interval_s if self._folders() == seen else 0):
                    continue
                seen = self._folders()  # before the round: a file landing during it starts the next
                try:
                    started = time.time()
                    judged = None
                    if self.detector is not None:
                        judged = self.detector.run(con, load=lambda: load_store(con, self.store))
                    else:
                        load_store(con, self.store)
                    if judged is not None and log.isEnabledFor(logging.INFO):
                        log.info("detector round %s", _trace(started, judged))
                    if self.publish_to:
                        producer = producer or make_producer(self.publish_to)
                        publish_stored(con, producer)
                    if self.after_load is not None:
                        try:
                            self.after_load(con)
                        except Exception as exc:  # noqa: BLE001 - a reader's copy, not the run
                            log.warning("after loading the store: %s", exc)
                except PUBLISH_ERRORS as exc:
                    # A broker outage: the rows stay unpublished until the next round.
                    log.warning("publishing stored alerts and dead letters: %s; retrying", exc)
                except Exception as exc:  # noqa: BLE001 - kept and raised after the run
                    self.error = exc
                    return
                last_round = time.monotonic()
                took = last_round - now
                live = judged is not None and judged.backlog is not None
                if live and judged.backlog <= self.live_backlog:
                    gap = min(self.interval_s, took)
                else:
                    gap = min(self.interval_s, max(self.min_gap_s, 4 * took))
        finally:
            con.close()
            if producer is not None:
                producer.close()
            if self.detector is not None and hasattr(self.detector.bounds, "close"):
                self.detector.bounds.close()

    def _folders(self) -> tuple:
        """The store folders' modification times: a new file changes its folder's."""
        out = []
        for name in _ORDER:
            try:
                out.append(os.stat(self.store.table_dir(name)).st_mtime_ns)
            except OSError:
                out.append(None)
        return tuple(out)


_LOADER_MAIN = "from voc.warehouse.load import _loader_main; _loader_main()"
# What the launcher writes to the loader's stdin to stop it; end of input
# without it means the launcher died.
_STOP = b"stop"


def _die_with(parent: int) -> None:
    """Be killed when the launcher dies, however (Linux: PR_SET_PDEATHSIG)."""
    import contextlib
    import ctypes
    import signal

    # Not Linux: the end of its input (_loader_main) still stops it.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _loader_main() -> None:
    """The loader's process: settings from stdin, rounds until the launcher
    says stop (or dies), then (error, after_load) pickled on stdout."""
    import pickle
    import signal
    import sys

    _die_with(int(sys.argv[1]))
    # The launcher stops it (stdin), after the job's drain: a terminal's
    # Ctrl-C reaches the whole process group, and the loader must not die of it
    # under the draining job (DECISIONLOG "Kafka delivery", "Ctrl-C drains").
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the result
    stdin = sys.stdin.buffer
    loader: StoreLoader = pickle.loads(stdin.read(int.from_bytes(stdin.read(8), "big")))
    logging.basicConfig(level=logging.WARNING)
    log.setLevel(loader.log_level)
    stop = threading.Event()

    def watch() -> None:
        if stdin.read() != _STOP:
            os._exit(1)  # the launcher died: end now, as a thread of it would have
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    loader._loop(stop)
    try:
        result = pickle.dumps((loader.error, loader.after_load))
    except Exception:  # noqa: BLE001 - an error or hook that does not pickle
        result = pickle.dumps((RuntimeError(repr(loader.error)), None))
    out.write(result)
    out.close()
