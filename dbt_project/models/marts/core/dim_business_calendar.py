"""One row per date: the Chinese business calendar (workday, public holiday,
make-up workday, promotion day) from voc.calendar, which reads the
chinese-calendar package (no hand-typed holiday list).

A dbt Python model so that the calendar has one implementation, shared with the
simulator's SLA truth (voc.sla) and the detector. Dates run from 2025-01-01 (or
the first year in the data, if earlier) to the end of the year after the last
event, so that an SLA clock still running at the end of the data has working
days to count.
"""

import datetime as dt

import pandas as pd

from voc import calendar


def model(dbt, session):
    dbt.config(materialized="table")
    years = [2025, 2026]
    # dbt reads ref() arguments from the source text: they must be literals.
    timed = (
        (dbt.ref("stg_voc__ticket_events"), "event_at"),
        (dbt.ref("stg_voc__calls"), "called_at"),
        (dbt.ref("stg_voc__social_posts"), "posted_at"),
    )
    for relation, column in timed:
        span = relation.aggregate(f"min(year({column})), max(year({column}))").fetchall()
        first, last = span[0]
        years += [y for y in (first, last) if y is not None]
    rows = calendar.business_days(dt.date(min(years), 1, 1), dt.date(max(years) + 1, 12, 31))
    frame = pd.DataFrame([r._asdict() for r in rows])
    frame["date_day"] = pd.to_datetime(frame["date_day"]).dt.date
    return frame
