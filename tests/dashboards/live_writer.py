"""A writer process for the live test. Every `--every-s` seconds it stores one
more app event and one more contact, each a minute of event time after the
last, in one of two ways:

- `--mode turns`: opens the file read-write with voc.warehouse.duck.open_warehouse
  (which waits while a reader holds it), writes, keeps it `--hold-s`, closes;
- `--mode holds`: keeps one connection for the whole run, as the Kafka run's
  store loader (voc.warehouse.load.StoreLoader) does, and after each write calls
  the same hook the loader calls (voc_dashboard.snapshot.WriterSnapshots).

    python -m tests.dashboards.live_writer WAREHOUSE STOP_FILE [--mode M] [--every-s S]

Prints "ready" after its first write, and on exit one JSON line: writes made and
how many times it found the file held by a reader and waited. Each write's event
time and the wall time it became durable go to STOP_FILE.writes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from voc.warehouse import duck
from voc_dashboard.snapshot import WriterSnapshots


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("stop_file", type=Path)
    ap.add_argument("--every-s", type=float, default=0.5)
    ap.add_argument("--hold-s", type=float, default=0.3)
    ap.add_argument("--mode", choices=("turns", "holds"), default="turns")
    ap.add_argument("--snapshot-s", type=float, default=1.0)
    args = ap.parse_args()
    held = duck.open_warehouse(args.warehouse) if args.mode == "holds" else None
    snapshots = WriterSnapshots(args.warehouse, every_s=args.snapshot_s)

    waits = 0
    connect = duckdb.connect

    def counting_connect(*a, **kw):
        nonlocal waits
        try:
            return connect(*a, **kw)
        except duckdb.IOException:
            waits += 1
            raise

    duck.duckdb.connect = counting_connect  # count the lock waits open_warehouse rides out
    writes = 0
    newest = None
    while not args.stop_file.exists():
        with contextlib.nullcontext(held) if held else duck.open_warehouse(args.warehouse) as con:
            if newest is None:
                newest = con.execute(
                    "SELECT greatest((SELECT max(event_time) FROM raw.app_events), "
                    "(SELECT max(event_time) FROM raw.contacts))"
                ).fetchall()[0][0]
            writes += 1
            at = newest + timedelta(minutes=writes)
            con.execute(
                "INSERT INTO raw.app_events (event_id, event_time, domain, customer_id, "
                "journey_stage, event_name) VALUES (?, ?, 'freight', 'live-c', 'order', "
                "'order_created')",
                [f"live-app-{writes}", at],
            )
            con.execute(
                "INSERT INTO raw.contacts (contact_id, channel, event_time, domain, text, "
                "recent_events, is_late, confidence, method, evidence) VALUES "
                "(?, 'call', ?, 'freight', '还是没人接单', [], false, 0, 'untagged', '')",
                [f"live-contact-{writes}", at],
            )
            if held:
                snapshots(con)
            else:
                time.sleep(args.hold_s)
        # committed and closed: from now on a reader may see it
        with args.stop_file.with_suffix(".writes").open("a") as log:
            log.write(f"{at:%Y-%m-%d %H:%M:%S} {time.time()}\n")
        if writes == 1:
            print("ready", flush=True)
        time.sleep(args.every_s)
    if held:
        held.close()
    print(
        json.dumps({"writes": writes, "lock_waits": waits, "snapshots": snapshots.published}),
        flush=True,
    )


if __name__ == "__main__":
    main()
