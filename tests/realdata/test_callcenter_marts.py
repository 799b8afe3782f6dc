"""The real Anonymous Bank call-centre log (shared/data/callcenter_anonymous_bank,
33,344 calls in February 1999) replayed through the pipeline into the marts:
each call's queue wait and outcome in fct_calls, and each day's offered calls,
abandonment rate and average speed of answer in fct_call_queue_daily, equal an
independent computation straight from the file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.realdata.replay import replay_into_marts
from voc.kafka import callcenter
from voc.paths import REPO_DIR

BANK_LOG = (
    REPO_DIR.parent
    / "shared"
    / "data"
    / "callcenter_anonymous_bank"
    / "data_anonymous_bank_february.txt"
)


def _expected_from_the_log() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per call and per Asia/Shanghai day, from the file alone with polars: the
    field notes' definitions (HANG = the caller hung up; q_start 0:00:00 = never
    queued; PHANTOM = a virtual call to ignore), the clock times read as Israel
    time."""
    log = pl.read_csv(BANK_LOG, separator="\t", infer_schema_length=0)
    log = log.filter(pl.col("outcome") != "PHANTOM").with_columns(
        ("bank-" + pl.col("vru+line") + "-" + pl.col("call_id")).alias("call_id"),
        pl.col("q_time").cast(pl.Int64).alias("queue_wait_s"),
        (pl.col("outcome") == "AGENT").alias("answered"),
        ((pl.col("outcome") == "HANG") & (pl.col("q_start") != "0:00:00")).alias("abandoned"),
        ("19" + pl.col("date") + " " + pl.col("vru_entry"))
        .str.to_datetime("%Y%m%d %H:%M:%S")
        .dt.replace_time_zone("Asia/Jerusalem")
        .dt.convert_time_zone("Asia/Shanghai")
        .dt.date()
        .alias("date_day"),
    )
    daily = log.group_by("date_day").agg(
        (pl.col("answered") | pl.col("abandoned")).sum().alias("offered"),
        pl.col("abandoned").sum().alias("abandoned"),
        pl.col("queue_wait_s").filter(pl.col("answered")).mean().alias("asa_s"),
    )
    daily = daily.with_columns((pl.col("abandoned") / pl.col("offered")).alias("rate"))
    return log.select("call_id", "queue_wait_s", "answered", "abandoned"), daily


@pytest.mark.slow
def test_bank_call_log_replay_matches_the_file(tmp_path: Path):
    if not BANK_LOG.is_file():
        pytest.skip(f"{BANK_LOG} not present")
    import duckdb

    # GIVEN the log converted row by row into call records (voc.kafka.callcenter)
    converted = list(callcenter.convert(callcenter.read_rows(BANK_LOG), BANK_LOG.name))
    records = [r for r in converted if isinstance(r, dict)]
    refused = [r for r in converted if not isinstance(r, dict)]
    assert len(records) + len(refused) == 33344
    assert {r.reason.split(": ", 1)[1].split(",")[0] for r in refused} == {"PHANTOM"}
    # WHEN they run through the pipeline and the marts are built
    warehouse = replay_into_marts(tmp_path, "calls", records)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        calls = pl.DataFrame(
            con.execute(
                "select call_id, queue_wait_s, is_answered, is_abandoned from main.fct_calls"
            ).fetchall(),
            schema=["call_id", "queue_wait_s_right", "is_answered", "is_abandoned"],
            orient="row",
        )
        days = pl.DataFrame(
            con.execute(
                "select date_day, offered_calls, abandoned_calls, abandonment_rate,"
                " avg_answer_wait_s from main.fct_call_queue_daily"
            ).fetchall(),
            schema=[
                "date_day",
                "offered_calls",
                "abandoned_calls",
                "abandonment_rate",
                "avg_answer_wait_s",
            ],
            orient="row",
        )
    per_call, per_day = _expected_from_the_log()
    # THEN every call of the log but the phantoms is in the marts, once
    assert calls.height == per_call.height == 33066
    joined = per_call.join(calls, on="call_id", how="inner")
    assert joined.height == 33066
    # AND its queue wait and whether it was answered or abandoned are the file's
    assert (joined["queue_wait_s"] == joined["queue_wait_s_right"]).all()
    assert (joined["answered"] == joined["is_answered"]).all()
    assert (joined["abandoned"] == joined["is_abandoned"]).all()
    assert joined["abandoned"].sum() > 3000
    # AND each day's offered calls, abandonment rate and average speed of answer
    # equal the file's (30 Shanghai days: the evening's calls are the next day there)
    both = per_day.join(days, on="date_day", how="full", coalesce=True)
    assert both.height == days.height == per_day.height
    assert (both["offered"] == both["offered_calls"]).all()
    assert (both["abandoned"] == both["abandoned_calls"]).all()
    assert ((both["rate"] - both["abandonment_rate"]).abs() < 1e-12).all()
    assert ((both["asa_s"] - both["avg_answer_wait_s"]).abs() < 1e-9).all()
