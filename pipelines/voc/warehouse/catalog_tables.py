"""Load the scenario catalog into the warehouse as raw.scenarios, raw.departments and
raw.journey_stages, so dbt builds dim_scenarios from the same catalog the tagger used.

The three tables are replaced on every load (the catalog is small and the file is the
source of truth); `_loaded_at` is kept for symmetry with the stream tables.
Department and stage Chinese names are not on `Catalog`, so they are read from the
catalog's YAML file (`catalog.source`) when it is available.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from voc.catalog import PRIORITIES, Catalog
from voc.warehouse.tables import RAW_SCHEMA

CATALOG_TABLE_DDL: dict[str, str] = {
    "scenarios": f"""
CREATE OR REPLACE TABLE {RAW_SCHEMA}.scenarios (
    scenario_id VARCHAR NOT NULL PRIMARY KEY,
    domain VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    name_zh VARCHAR NOT NULL,
    name_en VARCHAR NOT NULL,
    description_zh VARCHAR NOT NULL,
    description_en VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    sla_hours_urgent DOUBLE NOT NULL,
    sla_hours_high DOUBLE NOT NULL,
    sla_hours_normal DOUBLE NOT NULL,
    sla_hours_low DOUBLE NOT NULL,
    is_guarantee BOOLEAN NOT NULL,
    keywords_zh VARCHAR[] NOT NULL,
    keywords_en VARCHAR[] NOT NULL,
    _loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
)""",
    "departments": f"""
CREATE OR REPLACE TABLE {RAW_SCHEMA}.departments (
    department_id VARCHAR NOT NULL PRIMARY KEY,
    name_zh VARCHAR,
    name_en VARCHAR NOT NULL,
    _loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
)""",
    "journey_stages": f"""
CREATE OR REPLACE TABLE {RAW_SCHEMA}.journey_stages (
    domain VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    name_zh VARCHAR NOT NULL,
    name_en VARCHAR NOT NULL,
    expected_minutes BIGINT NOT NULL,
    stage_order BIGINT NOT NULL,
    _loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (domain, stage)
)""",
}


def load_catalog_tables(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> dict[str, int]:
    """Replace raw.scenarios, raw.departments and raw.journey_stages with `catalog`.

    Returns rows written per table name (unqualified). Runs in one transaction, so a
    reader never sees a half-loaded catalog.
    """
    department_zh = _department_zh_names(catalog)
    scenarios = [
        (
            s.id,
            s.domain,
            s.stage,
            s.category,
            s.name_zh,
            s.name_en,
            s.description_zh,
            s.description_en,
            s.owner,
            s.severity,
            *(float(s.sla_hours[p]) for p in PRIORITIES),
            s.is_guarantee,
            list(s.keywords_zh),
            list(s.keywords_en),
        )
        for s in catalog.scenarios
    ]
    departments = [
        (dept_id, department_zh.get(dept_id), name_en)
        for dept_id, name_en in catalog.departments.items()
    ]
    stage_order: dict[str, int] = {}
    stages = []
    for st in catalog.stages:
        # Stage order is the order stages are listed within their domain (1-based):
        # the catalog lists each domain's journey from first step to last.
        stage_order[st.domain] = stage_order.get(st.domain, 0) + 1
        stages.append(
            (st.domain, st.id, st.name_zh, st.name_en, st.expected_minutes, stage_order[st.domain])
        )

    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    con.execute("BEGIN TRANSACTION")
    try:
        for ddl in CATALOG_TABLE_DDL.values():
            con.execute(ddl)
        _insert(con, "scenarios", _SCENARIO_COLUMNS, scenarios)
        _insert(con, "departments", ("department_id", "name_zh", "name_en"), departments)
        _insert(
            con,
            "journey_stages",
            ("domain", "stage", "name_zh", "name_en", "expected_minutes", "stage_order"),
            stages,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {
        "scenarios": len(scenarios),
        "departments": len(departments),
        "journey_stages": len(stages),
    }


_SCENARIO_COLUMNS = (
    "scenario_id",
    "domain",
    "stage",
    "category",
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    "owner",
    "severity",
    *(f"sla_hours_{p}" for p in PRIORITIES),
    "is_guarantee",
    "keywords_zh",
    "keywords_en",
)


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
) -> None:
    if not rows:
        return
    # One Arrow table, one INSERT: executemany runs a statement per row (1.2 s
    # for the 1,411-scenario catalog, on every pipeline start).
    transposed = zip(*rows, strict=True)  # every row has every column
    batch = pa.table({name: list(values) for name, values in zip(columns, transposed, strict=True)})
    names = ", ".join(columns)
    con.register("_voc_catalog_rows", batch)
    try:
        con.execute(
            f"INSERT INTO {RAW_SCHEMA}.{table} ({names}) SELECT {names} FROM _voc_catalog_rows"
        )
    finally:
        con.unregister("_voc_catalog_rows")


def _department_zh_names(catalog: Catalog) -> dict[str, str]:
    return catalog.department_names_zh
