"""Alert delay in the Kafka streaming run: wall-clock seconds from the input
event that completes an alert's evidence to the alert record on voc.alerts
(voc.evaluation.alert_delay says which event that is).

A real broker (the project's script), `voc run --source kafka` in its own
process (Prism, streaming, publishing), and a replay of simulated streams paced
by event time: the first hour is sent at once (the job starts on it), the rest
at `--speed` simulated seconds per wall second (720: a day in two minutes), so the
job sees a live stream, faster than life; 30 s after the last record the bench
sends the job SIGINT (it drains and exits). Every alert whose completing event
was sent in the paced part is measured; its arrival is when a consumer of
voc.alerts polled it.

Prints: {"name": "alert_delay", "alerts": N, "delay_p50_s": ..., "delay_p95_s": ...,
"delay_max_s": ..., "by_kind": {...}, "days": D, "speed": S, "records": R}

With `--trace`, also "stages": where the delay goes, as seconds after the
completing event was sent (p50, p95 over the alerts): `stored` (the first
range file holding a record past the step's end + the disorder allowance
lands in the store), `stitched` (the last contact of the step lands in the
store's contacts), `inputs_frontier` / `frontier` / `judged` (the end of the
first loader round that saw every partition stored past the step; that and
every contact of the step stitched too; and that judged it: the job's log of
rounds) and `received`; and the rounds' length, the wall gap between them and
the largest partition backlog they saw (offsets not stored).

    python benchmarks/bench_alert_delay.py [--days 2] [--speed 720] [--seed 5] [--trace]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
from bench_kafka_e2e import free_port, log
from kafka import KafkaConsumer, KafkaProducer

from voc.contracts.streams import INPUT_STREAMS
from voc.evaluation.alert_delay import CompletingEvents, Received, Sent, delays, summary
from voc.kafka import broker
from voc.kafka.produce import open_source
from voc.kafka.topics import ALERTS, ensure_topics
from voc.pipeline.kafka_source import KafkaReadConfig
from voc.simulate import simulate

WARM_S = 3600  # event time sent at once, before the job starts
DRAIN_S = 30  # wall seconds the job keeps running after the last record is sent


def _epoch_s(value: str) -> float:
    """An alert's time as published (ISO 8601, UTC; the warehouse's TIMESTAMP
    comes out without an offset)."""
    t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


class AlertListener(threading.Thread):
    """Polls voc.alerts from the beginning and stamps each alert's arrival."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(daemon=True)
        self.consumer = KafkaConsumer(
            ALERTS,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        self.received: list[Received] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for records in self.consumer.poll(timeout_ms=100).values():
                now = time.time()
                for r in records:
                    a = orjson.loads(r.value)
                    end_s = _epoch_s(a["window_end"])
                    self.received.append(Received(a["alert_id"], a["kind"], end_s, now))
        self.consumer.close()


# `voc run` with the loader's rounds logged (one JSON line each) to stderr.
_TRACED_VOC = (
    "import logging, sys; "
    "logging.basicConfig(level=logging.WARNING); "
    "logging.getLogger('voc.warehouse.load').setLevel(logging.INFO); "
    "from voc.cli import main; sys.argv[0] = 'voc'; main()"
)


def _files(store: Path, table: str, column: str) -> list[tuple[float, float, float]]:
    """(oldest, newest event time, mtime) of each file of a store table."""
    import duckdb

    folder = store / table
    if not any(folder.glob("**/*.parquet")):
        return []
    rows = duckdb.sql(
        f"SELECT filename, epoch(min(CAST({column} AS TIMESTAMP))), "
        f"epoch(max(CAST({column} AS TIMESTAMP))) "
        f"FROM read_parquet('{folder}/**/*.parquet', filename = true) GROUP BY filename"
    ).fetchall()
    return [(lo, hi, Path(f).stat().st_mtime) for f, lo, hi in rows if lo is not None]


def _q(values: list[float]) -> dict:
    import statistics

    if not values:
        return {}
    if len(values) == 1:
        return {"p50": round(values[0], 2), "p95": round(values[0], 2)}
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(qs[49], 2), "p95": round(qs[94], 2)}


def stages(store: Path, job_log: Path, sent, measured, disorder_s: float, step_s: int = 300):
    """Where each measured alert's delay went (see the module docstring)."""
    inputs = [f for s in INPUT_STREAMS for f in _files(store, str(s), "event_time")]
    contacts = _files(store, "contacts", "event_time")
    rounds = [
        orjson.loads(line.split("detector round ", 1)[1])
        for line in job_log.read_text().splitlines()
        if "detector round " in line
    ]
    events = CompletingEvents(sent, disorder_s)
    out: dict[str, list[float]] = {}

    def add(name: str, at: float | None, done: float) -> None:
        if at is not None:
            out.setdefault(name, []).append(at - done)

    for alert, delay in measured:
        end = alert.window_end_s
        done = events.completed_at(end)
        past = [m for _, hi, m in inputs if hi >= end + disorder_s]
        add("stored", min(past, default=None), done)
        step = [m for lo, hi, m in contacts if lo < end and hi >= end - step_s]
        add("stitched", max(step, default=None), done)
        for name, upto in (
            ("inputs_frontier", lambda r: _at(r["inputs_until"])),
            ("frontier", lambda r: min(_at(r["inputs_until"]), _at(r["contacts_until"]))),
            ("judged", lambda r: _at(r["judged_until"])),
        ):
            add(name, next((r["end"] for r in rounds if upto(r) >= end), None), done)
        out.setdefault("received", []).append(delay)
    report = {name: _q(sorted(v)) for name, v in out.items()}
    lengths = sorted(r["end"] - r["start"] for r in rounds)
    gaps = sorted(b["start"] - a["end"] for a, b in zip(rounds, rounds[1:], strict=False))
    backlog = sorted(r["backlog"] for r in rounds if r.get("backlog") is not None)
    report["rounds"] = {
        "count": len(rounds),
        "seconds": _q(lengths),
        "gap_s": _q(gaps),
        "backlog": _q(backlog),
    }
    return report


def _at(value) -> float:
    """A logged event time: None (nothing yet) is -inf; "inf" is inf."""
    return float("-inf") if value is None else float(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=2, help="simulated days (default 2)")
    parser.add_argument("--speed", type=float, default=720.0, help="event s per wall s")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--trace", action="store_true", help="where the delay goes (stages)")
    parser.add_argument("--job-log", type=Path, help="keep the job's log (stderr) here")
    args = parser.parse_args()
    voc = Path(sys.executable).with_name("voc")
    disorder_s = KafkaReadConfig("", "", ()).max_out_of_order_s
    with tempfile.TemporaryDirectory(prefix="bench-alert-delay-") as tmp:
        tmp = Path(tmp)
        home = tmp / "kafka"
        home.mkdir()
        (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
        info = broker.start(home, port=free_port(), controller_port=free_port(), timeout_s=120)
        job = None
        try:
            ensure_topics(info.bootstrap)
            simulate(tmp / "streams", days=args.days, seed=args.seed, scale=1.0)
            records = list(open_source(tmp / "streams").records)
            first_ms = next(r.timestamp_ms for r in records if r.timestamp_ms is not None)
            listener = AlertListener(info.bootstrap)
            listener.start()
            producer = KafkaProducer(bootstrap_servers=info.bootstrap, acks="all", linger_ms=0)
            sent: list[tuple] = []  # (future, topic, event ms, sent wall s)
            last_ms = first_ms
            warm = 0
            for r in records:
                last_ms = r.timestamp_ms if r.timestamp_ms is not None else last_ms
                if last_ms - first_ms >= WARM_S * 1000:
                    break
                now = time.time()
                future = producer.send(r.topic, value=r.value, key=r.key, timestamp_ms=last_ms)
                sent.append((future, r.topic, last_ms, now))
                warm += 1
            producer.flush()
            job_log = args.job_log or tmp / "job.log"
            command = [sys.executable, "-c", _TRACED_VOC] if args.trace else [str(voc)]
            job = subprocess.Popen(
                [
                    *command,
                    "run",
                    "--source=kafka",
                    f"--bootstrap={info.bootstrap}",
                    f"--warehouse={tmp / 'wh.duckdb'}",
                    "--json",
                ],
                stdout=subprocess.DEVNULL,
                stderr=job_log.open("w"),
            )
            store = tmp / "wh.raw"
            deadline = time.time() + 300
            while not any(store.glob("app_events/**/*.parquet")):
                if job.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"the job did not start: {job_log.read_text()[-2000:]}")
                time.sleep(0.5)
            log(f"job reading ({warm:,} warm-up records); pacing the rest at {args.speed:g}x")
            paced_from = time.time()
            start_ms = last_ms
            for i, r in enumerate(records[warm:]):
                ts = r.timestamp_ms if r.timestamp_ms is not None else last_ms
                # The clock follows event time, but a record stamped far ahead
                # of its neighbours (the simulator's disorder) does not move it.
                last_ms = max(last_ms, min(ts, last_ms + 60_000))
                if i % 5000 == 0:
                    log(f"{i:,} paced records sent, job running: {job.poll() is None}")
                wait = paced_from + (last_ms - start_ms) / 1000 / args.speed - time.time()
                if wait > 0:
                    time.sleep(wait)
                now = time.time()
                future = producer.send(r.topic, value=r.value, key=r.key, timestamp_ms=ts)
                sent.append((future, r.topic, ts, now))
            producer.flush()
            producer.close()
            paced_s = time.time() - paced_from
            log(f"sent {len(sent):,} paced records in {paced_s:.0f} s")
            # The job runs until told to stop (SIGINT: readers stop, the rest
            # drains), not until idle: a partition quiet for a simulated night
            # is idle for many wall seconds at this pace, and a reader that
            # finished on it stopped reading for good (every earlier run of this
            # bench measured a job whose app-event readers had quit).
            time.sleep(DRAIN_S)
            job.send_signal(signal.SIGINT)
            job_error = None
            if job.wait(timeout=900) != 0:
                lines = job_log.read_text().strip().splitlines()
                job_error = next((x for x in reversed(lines) if "Error" in x), "exit code")
                log(f"the job failed: {job_log.read_text()[-3000:]}")
            time.sleep(5)  # the last alerts the job published on its way out
            listener.stop.set()
            listener.join(timeout=10)
            rows = [Sent(topic, f.get().partition, ts, at) for f, topic, ts, at in sent]
            measured = delays(rows, listener.received, disorder_s, after_s=paced_from)
            traced = stages(store, job_log, rows, measured, disorder_s) if args.trace else None
        finally:
            if job is not None and job.poll() is None:
                job.kill()
            broker.stop(home)
    report = summary(measured)
    if traced is not None:
        report["stages"] = traced
    print(
        json.dumps(
            {
                "name": "alert_delay",
                **report,
                "alerts_on_topic": len(listener.received),
                # When alerts arrived, in seconds after pacing began (it took `paced_s`):
                # all of them late means the job's lag, not the steps, set the delay.
                "arrivals_s": [
                    round(min((a.received_s for a in listener.received), default=0) - paced_from),
                    round(max((a.received_s for a in listener.received), default=0) - paced_from),
                ],
                "paced_s": round(paced_s),
                "days": args.days,
                "speed": args.speed,
                "records": len(records),
                "load_average": round(os.getloadavg()[0], 1),
                # A job that failed measures only the alerts it published before.
                "job_error": job_error,
            }
        )
    )
    return 1 if job_error else 0


if __name__ == "__main__":
    sys.exit(main())
