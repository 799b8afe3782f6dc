from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from voc.warehouse.quality import RawQualityError, check_raw


def test_good_fixture_passes_every_expectation(raw_warehouse: Path):
    # GIVEN the hand-written fixture warehouse
    # WHEN the raw suites run
    report = check_raw(raw_warehouse)

    # THEN every table passes and every table was checked
    assert report.ok, report.summary()
    assert set(report.tables) == {
        "calls",
        "ticket_events",
        "app_events",
        "social_posts",
        "contacts",
        "alerts",
        "dead_letters",
    }
    assert report.tables["ticket_events"].rows == 18
    assert all(t.expectations_run > 0 for t in report.tables.values())


def test_bad_rows_inserted_by_sql_are_flagged(raw_warehouse: Path):
    # GIVEN rows that bypassed the schema: a rating of 9, an unknown priority, a
    # 1970 timestamp, a rated event without a rating, an unknown scenario id
    con = duckdb.connect(str(raw_warehouse))
    con.execute("UPDATE raw.ticket_events SET rating = 9 WHERE event_id = 'te-late-4'")
    con.execute(
        "INSERT INTO raw.ticket_events (event_id, event_time, domain, ticket_id, customer_id,"
        " event_type, priority) VALUES ('bad-1', '1970-01-01', 'freight', 'T-X', 'c9',"
        " 'rated', 'asap')"
    )
    con.execute(
        "UPDATE raw.contacts SET scenario_id = 'no.such.scenario' WHERE contact_id = 'call-2'"
    )
    con.close()

    # WHEN the raw suites run
    report = check_raw(raw_warehouse)

    # THEN each problem is reported against its column, and the rest still pass
    assert not report.ok
    failed = {(f.table, f.column, f.expectation) for f in report.failures}
    assert failed == {
        ("ticket_events", "rating", "expect_column_values_to_be_between"),
        ("ticket_events", "rating", "expect_column_values_to_not_be_null"),
        ("ticket_events", "priority", "expect_column_values_to_be_in_set"),
        ("ticket_events", "event_time", "expect_column_values_to_be_between"),
        ("contacts", "scenario_id", "expect_column_values_to_be_in_set"),
    }
    rating = next(f for f in report.failures if f.column == "rating" and "between" in f.expectation)
    assert rating.unexpected_count == 1 and 9 in rating.unexpected_examples
    assert report.tables["calls"].ok
    with pytest.raises(RawQualityError, match="raw.ticket_events.rating"):
        report.raise_if_failed()


def test_missing_table_is_a_failure_and_connection_is_closed(raw_warehouse: Path):
    # GIVEN a warehouse without raw.alerts
    con = duckdb.connect(str(raw_warehouse))
    con.execute("DROP TABLE raw.alerts")
    con.close()

    # WHEN the raw suites run
    report = check_raw(raw_warehouse)

    # THEN the missing table is reported
    assert not report.tables["alerts"].ok
    assert "does not exist" in report.failures[0].describe()
    # AND the file is free for a writer again
    duckdb.connect(str(raw_warehouse)).close()
