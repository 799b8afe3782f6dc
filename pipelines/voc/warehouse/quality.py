"""great-expectations suites that guard the raw contracts before dbt builds the marts.

The column rules are derived from the same JSON Schemas as the raw tables
(voc.warehouse.tables): a required field must not be null, an `enum` becomes a
value set, `minimum`/`maximum` a range, a date-time a sane range of years, the
table's key must be unique. On top of those, the rules JSON Schema states with
if/then (a `rated` ticket event carries a rating, a `created` one a channel) and
the catalog's scenario ids (read from raw.scenarios when it exists).

Why check what the pipeline already validated: rows can reach the raw tables by
other doors (a backfill by SQL, an older pipeline version, a hand fix), and a mart
built on them would be silently wrong. Each table is read once into pandas (only
the columns the suite needs) and validated with an ephemeral context, so a check of
~100k rows takes a few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from voc.contracts.validate import load_schema
from voc.warehouse.tables import RAW_SCHEMA, RAW_TABLES, RawTable

# Event times outside these years are a unit or parsing error (epoch 0, ms read as s).
EARLIEST_EVENT_TIME = datetime(2000, 1, 1)
LATEST_EVENT_TIME = datetime(2100, 1, 1)
UNTAGGED = "untagged"


@dataclass(frozen=True)
class ExpectationFailure:
    table: str
    expectation: str  # e.g. "expect_column_values_to_be_between"
    column: str | None
    kwargs: dict[str, Any]
    unexpected_count: int | None = None
    unexpected_examples: tuple[Any, ...] = ()
    error: str | None = None  # the expectation itself could not run

    def describe(self) -> str:
        args = {
            k: v
            for k, v in self.kwargs.items()
            if k not in ("column", "batch_id", "condition_parser", "row_condition")
        }
        condition = self.kwargs.get("row_condition")
        if isinstance(condition, dict) and "column" in condition:
            args["where"] = (
                f"{condition['column'].get('name')} {condition.get('operator')} "
                f"{condition.get('parameter')!r}"
            )
        what = f"raw.{self.table}.{self.column}" if self.column else f"raw.{self.table}"
        if self.error:
            return f"{what}: {self.expectation} {args} could not run: {self.error}"
        examples = ", ".join(repr(v) for v in self.unexpected_examples[:5])
        return f"{what}: {self.expectation} {args}: {self.unexpected_count} unexpected" + (
            f" (e.g. {examples})" if examples else ""
        )


@dataclass(frozen=True)
class TableReport:
    table: str
    rows: int
    expectations_run: int
    failures: tuple[ExpectationFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class QualityReport:
    warehouse: Path
    tables: dict[str, TableReport] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables.values())

    @property
    def failures(self) -> tuple[ExpectationFailure, ...]:
        return tuple(f for t in self.tables.values() for f in t.failures)

    @property
    def expectations_run(self) -> int:
        return sum(t.expectations_run for t in self.tables.values())

    def summary(self) -> str:
        head = (
            f"raw quality {'OK' if self.ok else 'FAILED'}: {self.expectations_run} "
            f"expectations on {len(self.tables)} tables of {self.warehouse}"
        )
        return "\n  ".join([head, *(f.describe() for f in self.failures)])

    def __str__(self) -> str:
        return self.summary()

    def raise_if_failed(self) -> None:
        if not self.ok:
            raise RawQualityError(self)


class RawQualityError(ValueError):
    """The raw tables break their contracts; the message lists every failed expectation."""

    def __init__(self, report: QualityReport) -> None:
        self.report = report
        super().__init__(report.summary())


@dataclass(frozen=True)
class Rule:
    """One expectation, kept as plain data so suites are easy to read and test."""

    expectation: str  # great_expectations.expectations class name
    kwargs: dict[str, Any]
    where: tuple[str, Any] | None = None  # only rows where column == value

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def columns(self) -> tuple[str, ...]:
        cols = [self.kwargs.get("column"), self.where[0] if self.where else None]
        return tuple(c for c in cols if c)

    def build(self) -> Any:
        import great_expectations.expectations as gxe
        from great_expectations.expectations.row_conditions import Column

        kwargs = dict(self.kwargs)
        if self.where:
            kwargs["row_condition"] = Column(self.where[0]) == self.where[1]
        return getattr(gxe, self.expectation)(**kwargs)


def rules_for(table: RawTable, scenario_ids: Iterable[str] | None = None) -> list[Rule]:
    """The expectations guarding one raw table: schema-derived plus cross-field rules."""
    schema = load_schema(table.schema_name)
    required = set(schema["required"])
    rules = [Rule("ExpectColumnValuesToBeUnique", {"column": table.key})]
    for name, prop in schema["properties"].items():
        if name not in table.column_names:
            continue
        branch, nullable = _non_null_branch(prop)
        # Free text, arrays and objects are left to the DDL's NOT NULL: reading them
        # into pandas costs more than the check is worth (and arrays are unhashable,
        # which sends great-expectations' batch fingerprint down a slow pickle path).
        is_bulky = branch.get("type") in ("array", "object") or (
            branch.get("type") == "string" and not ({"enum", "pattern", "format"} & branch.keys())
        )
        if name in required and not nullable and not is_bulky:
            rules.append(Rule("ExpectColumnValuesToNotBeNull", {"column": name}))
        if "enum" in branch:
            rules.append(
                Rule("ExpectColumnValuesToBeInSet", {"column": name, "value_set": branch["enum"]})
            )
        if branch.get("format") == "date-time":
            rules.append(
                Rule(
                    "ExpectColumnValuesToBeBetween",
                    {
                        "column": name,
                        "min_value": EARLIEST_EVENT_TIME,
                        "max_value": LATEST_EVENT_TIME,
                    },
                )
            )
        if branch.get("type") in ("integer", "number") and (
            "minimum" in branch or "maximum" in branch
        ):
            rules.append(
                Rule(
                    "ExpectColumnValuesToBeBetween",
                    {
                        "column": name,
                        "min_value": branch.get("minimum"),
                        "max_value": branch.get("maximum"),
                    },
                )
            )
    rules += _conditional_rules(table.name)
    if scenario_ids is not None:
        ids = sorted(scenario_ids)
        if table.name == "contacts":
            # Null is "untagged" on a contact; any id must be in the catalog.
            rules.append(
                Rule("ExpectColumnValuesToBeInSet", {"column": "scenario_id", "value_set": ids})
            )
        elif table.name == "alerts":
            rules.append(
                Rule(
                    "ExpectColumnValuesToBeInSet",
                    {"column": "scenario_id", "value_set": [*ids, UNTAGGED]},
                )
            )
    return rules


def check_raw(warehouse: Path, tables: Iterable[str] | None = None) -> QualityReport:
    """Run the raw-contract suites on `warehouse` (all raw stream/output tables by default).

    A table that does not exist is reported as a failure. The DuckDB connection is
    opened read-only and closed before returning.
    """
    import great_expectations as gx  # imported lazily: ~3 s

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    warehouse = Path(warehouse)
    names = list(RAW_TABLES) if tables is None else list(tables)
    frames: dict[str, Any] = {}
    missing: list[str] = []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        existing = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                [RAW_SCHEMA],
            ).fetchall()
        }
        scenario_ids = (
            [
                r[0]
                for r in con.execute(f"SELECT scenario_id FROM {RAW_SCHEMA}.scenarios").fetchall()
            ]
            if "scenarios" in existing
            else None
        )
        table_rules: dict[str, list[Rule]] = {}
        for name in names:
            if name not in existing:
                missing.append(name)
                continue
            table_rules[name] = rules_for(RAW_TABLES[name], scenario_ids)
            columns = sorted({c for rule in table_rules[name] for c in rule.columns})
            frames[name] = con.execute(f"SELECT {', '.join(columns)} FROM {RAW_SCHEMA}.{name}").df()
    finally:
        con.close()

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = _progress_bars_off()
    source = context.data_sources.add_pandas("voc_raw")
    reports: dict[str, TableReport] = {}
    for name in missing:
        reports[name] = TableReport(
            name,
            0,
            0,
            (
                ExpectationFailure(
                    name, "table_exists", None, {}, error=f"{RAW_SCHEMA}.{name} does not exist"
                ),
            ),
        )
    for name, rules in table_rules.items():
        reports[name] = _validate(gx, context, source, name, frames[name], rules)
    return QualityReport(warehouse, {n: reports[n] for n in names})


def _validate(
    gx: Any, context: Any, source: Any, table: str, frame: Any, rules: list[Rule]
) -> TableReport:
    suite = context.suites.add(
        gx.ExpectationSuite(name=f"raw_{table}", expectations=[r.build() for r in rules])
    )
    batch = (
        source.add_dataframe_asset(name=table)
        .add_batch_definition_whole_dataframe("all_rows")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(suite, result_format="SUMMARY")
    failures = []
    for r in result.results:
        if r.success:
            continue
        config = r.expectation_config
        details = r.result or {}
        error = (r.exception_info or {}).get("exception_message") if r.exception_info else None
        failures.append(
            ExpectationFailure(
                table=table,
                expectation=config.type,
                column=config.kwargs.get("column"),
                kwargs=dict(config.kwargs),
                unexpected_count=details.get("unexpected_count"),
                unexpected_examples=tuple(details.get("partial_unexpected_list") or ()),
                error=error or None,
            )
        )
    return TableReport(table, len(frame), len(rules), tuple(failures))


def _conditional_rules(table: str) -> list[Rule]:
    """The ticket_event schema's if/then requirements, as row-conditioned expectations."""
    if table != "ticket_events":
        return []

    def when(event_type: str, column: str) -> Rule:
        return Rule(
            "ExpectColumnValuesToNotBeNull", {"column": column}, where=("event_type", event_type)
        )

    return [
        when("created", "channel"),
        when("created", "language"),
        when("rated", "rating"),
        when("assigned", "department"),
        when("assigned", "tier"),
        when("escalated", "department"),
        when("escalated", "tier"),
    ]


def _non_null_branch(prop: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The property's non-null schema and whether null is allowed (oneOf [T, null])."""
    if "oneOf" not in prop:
        return prop, False
    branches = [b for b in prop["oneOf"] if b.get("type") != "null"]
    nullable = len(branches) < len(prop["oneOf"])
    return (branches[0] if len(branches) == 1 else {}), nullable


def _progress_bars_off() -> Any:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    return ProgressBarsConfig(globally=False, metric_calculations=False)
