"""Where the learning loop keeps its state in the warehouse (schema `labels`),
and the CSV round trip an analyst labels in a spreadsheet. Pure DuckDB, no Beam.

    labels.untagged_clusters  one row per contact of the latest `voc untagged`
                              clustering: cluster_id, contact_id, name, clustered_at
    labels.contact_labels     one row per labelled contact (the latest label
                              wins): contact_id, scenario_id, text, language,
                              domain, source, labelled_at

After every change the overlay beside the warehouse (<warehouse>.labels.yaml,
voc.learning.examples) is rewritten from labels.contact_labels: the table is
the record, the overlay what the next run's tagger reads."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from voc.learning.examples import LabelledExample, overlay_path_for, write_overlay

DDL = (
    "CREATE SCHEMA IF NOT EXISTS labels",
    """CREATE TABLE IF NOT EXISTS labels.untagged_clusters (
        cluster_id INTEGER NOT NULL,
        contact_id VARCHAR PRIMARY KEY,
        name VARCHAR,
        clustered_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS labels.contact_labels (
        contact_id VARCHAR PRIMARY KEY,
        scenario_id VARCHAR NOT NULL,
        text VARCHAR NOT NULL,
        language VARCHAR,
        domain VARCHAR,
        source VARCHAR,
        labelled_at TIMESTAMP NOT NULL
    )""",
)
CSV_LABEL_COLUMN = "scenario_id"


class LabelError(ValueError):
    """Labels that cannot be stored; the message lists every problem, nothing was written."""


@dataclass(frozen=True)
class LabelRequest:
    contact_id: str
    scenario_id: str
    source: str


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for sql in DDL:
        con.execute(sql)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def save_clusters(
    con: duckdb.DuckDBPyConnection, assignments: Sequence[tuple[int, str, str]]
) -> None:
    """Replace the stored clustering with (cluster_id, contact_id, name) rows."""
    ensure_tables(con)
    now = _now()
    con.execute("BEGIN")
    con.execute("DELETE FROM labels.untagged_clusters")
    con.executemany(
        "INSERT INTO labels.untagged_clusters VALUES (?, ?, ?, ?)",
        [(c, contact, name, now) for c, contact, name in assignments],
    )
    con.execute("COMMIT")


def cluster_members(con: duckdb.DuckDBPyConnection, cluster_id: int) -> list[str]:
    ensure_tables(con)
    return [
        r[0]
        for r in con.execute(
            "SELECT contact_id FROM labels.untagged_clusters WHERE cluster_id = ? "
            "ORDER BY contact_id",
            [cluster_id],
        ).fetchall()
    ]


def add_labels(
    con: duckdb.DuckDBPyConnection, requests: Sequence[LabelRequest], known_scenarios
) -> int:
    """Store labels (all or none): every scenario must be in the catalog and
    every contact in raw.contacts. Returns how many contacts were labelled."""
    ensure_tables(con)
    problems = [
        f"{r.source}: unknown scenario id '{r.scenario_id}'"
        for r in requests
        if r.scenario_id not in known_scenarios
    ]
    ids = sorted({r.contact_id for r in requests})
    found = {}
    if ids:
        con.execute("CREATE OR REPLACE TEMP TABLE wanted (contact_id VARCHAR)")
        con.executemany("INSERT INTO wanted VALUES (?)", [(i,) for i in ids])
        found = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT c.contact_id, c.text, c.language, c.domain FROM raw.contacts c "
                "JOIN wanted USING (contact_id)"
            ).fetchall()
        }
    problems += [
        f"{r.source}: no contact '{r.contact_id}' in raw.contacts"
        for r in requests
        if r.contact_id not in found
    ]
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise LabelError(f"{len(problems)} problem(s), nothing labelled:\n  {shown}{more}")
    latest = {r.contact_id: r for r in requests}  # a contact labelled twice: the last wins
    now = _now()
    con.execute("BEGIN")
    con.executemany(
        "INSERT OR REPLACE INTO labels.contact_labels VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (r.contact_id, r.scenario_id, *found[r.contact_id], r.source, now)
            for r in latest.values()
        ],
    )
    con.execute("COMMIT")
    return len(latest)


def labelled_examples(con: duckdb.DuckDBPyConnection) -> list[LabelledExample]:
    ensure_tables(con)
    return [
        LabelledExample(r[1], r[2], r[3] or "zh", r[0], r[4] or "", r[5].isoformat() + "Z")
        for r in con.execute(
            "SELECT contact_id, scenario_id, text, language, source, labelled_at "
            "FROM labels.contact_labels ORDER BY contact_id"
        ).fetchall()
    ]


def sync_overlay(con: duckdb.DuckDBPyConnection, warehouse: Path) -> tuple[Path, int]:
    """Rewrite the overlay beside the warehouse from the labels table."""
    path = overlay_path_for(warehouse)
    return path, write_overlay(path, labelled_examples(con))


# -- CSV round trip -------------------------------------------------------------


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    with Path(path).open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def read_label_csv(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[list[LabelRequest], int]:
    """Label requests from a CSV an analyst filled in: a `scenario_id` column and,
    per row, a `contact_id`, or `contact_ids` (';'-separated), or a `cluster_id`
    of the stored clustering. Rows with a blank scenario_id are skipped (returned
    as the second value); a row naming no contact is an error."""
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = set(reader.fieldnames or ())
        if CSV_LABEL_COLUMN not in columns or not columns & {
            "contact_id",
            "contact_ids",
            "cluster_id",
        }:
            raise LabelError(
                f"{path}: needs a '{CSV_LABEL_COLUMN}' column and one of contact_id, "
                f"contact_ids, cluster_id (found: {', '.join(sorted(columns)) or 'none'})"
            )
        requests: list[LabelRequest] = []
        blank = 0
        problems = []
        for line, row in enumerate(reader, start=2):
            scenario = (row.get(CSV_LABEL_COLUMN) or "").strip()
            if not scenario:
                blank += 1
                continue
            where = f"{Path(path).name}:{line}"
            ids = [(row.get("contact_id") or "").strip()]
            ids += [(x or "").strip() for x in (row.get("contact_ids") or "").split(";")]
            ids = [i for i in ids if i]
            if not ids and (row.get("cluster_id") or "").strip():
                try:
                    ids = cluster_members(con, int(row["cluster_id"]))
                except ValueError:
                    problems.append(f"{where}: cluster_id '{row['cluster_id']}' is not a number")
                    continue
            if not ids:
                problems.append(
                    f"{where}: names no contact (contact_id, contact_ids or cluster_id)"
                )
            requests += [LabelRequest(i, scenario, where) for i in ids]
    if problems:
        raise LabelError(
            f"{len(problems)} problem(s), nothing labelled:\n  " + "\n  ".join(problems[:20])
        )
    return requests, blank
