"""Raw warehouse tables, derived from the JSON Schemas so that the two never drift.

Each stream and output schema becomes one table in the `raw` schema of the DuckDB
file, keyed by its id column; `_loaded_at` records when the row first landed
(dbt source freshness reads it). Types map JSON Schema -> DuckDB:
string -> VARCHAR, date-time -> TIMESTAMP (UTC, naive), integer -> BIGINT,
number -> DOUBLE, boolean -> BOOLEAN, array of strings -> VARCHAR[], object -> JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voc.contracts.validate import load_schema

RAW_SCHEMA = "raw"


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    nullable: bool


@dataclass(frozen=True)
class RawTable:
    name: str
    schema_name: str
    key: str
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        return f"{RAW_SCHEMA}.{self.name}"

    def ddl(self) -> str:
        cols = [
            f"    {c.name} {c.sql_type}{'' if c.nullable else ' NOT NULL'}" for c in self.columns
        ]
        cols.append("    _loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp")
        cols.append(f"    PRIMARY KEY ({self.key})")
        return f"CREATE TABLE IF NOT EXISTS {self.qualified} (\n" + ",\n".join(cols) + "\n)"

    def added_columns_ddl(self, existing: set[str]) -> list[str]:
        """ALTER statements for the schema's optional fields that a table created
        by an earlier version lacks (a new optional field is added, never
        rewritten; rows already stored read it as null)."""
        return [
            f"ALTER TABLE {self.qualified} ADD COLUMN {c.name} {c.sql_type}"
            for c in self.columns
            if c.name not in existing and c.nullable
        ]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _sql_type(prop: dict[str, Any]) -> tuple[str, bool]:
    """Return (DuckDB type, nullable) for one JSON Schema property."""
    if "oneOf" in prop:
        branches = [b for b in prop["oneOf"] if b.get("type") != "null"]
        nullable = len(branches) < len(prop["oneOf"])
        sql, inner_nullable = _sql_type(branches[0])
        return sql, nullable or inner_nullable
    if "const" in prop:
        return "VARCHAR", False
    kind = prop.get("type")
    if kind == "string":
        return ("TIMESTAMP" if prop.get("format") == "date-time" else "VARCHAR"), False
    if kind == "integer":
        return "BIGINT", False
    if kind == "number":
        return "DOUBLE", False
    if kind == "boolean":
        return "BOOLEAN", False
    if kind == "array":
        return "VARCHAR[]", False
    if kind == "object":
        return "JSON", False
    raise ValueError(f"no DuckDB type for JSON Schema property {prop}")


def table_from_schema(table: str, schema_name: str, key: str) -> RawTable:
    schema = load_schema(schema_name)
    required = set(schema["required"])
    columns = []
    for name, prop in schema["properties"].items():
        if name == "schema_version":
            continue
        sql, nullable = _sql_type(prop)
        columns.append(Column(name, sql, nullable or name not in required))
    return RawTable(table, schema_name, key, tuple(columns))


RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        table_from_schema("calls", "call", "event_id"),
        table_from_schema("ticket_events", "ticket_event", "event_id"),
        table_from_schema("app_events", "app_event", "event_id"),
        table_from_schema("social_posts", "social_post", "event_id"),
        table_from_schema("contacts", "tagged_contact", "contact_id"),
        table_from_schema("alerts", "alert", "alert_id"),
        table_from_schema("dead_letters", "dead_letter", "dead_letter_id"),
    )
}
