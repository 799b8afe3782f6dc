from __future__ import annotations

import duckdb

from voc.catalog import load_catalog
from voc.warehouse.catalog_tables import load_catalog_tables


def test_load_catalog_tables_writes_one_row_per_scenario_department_and_stage():
    # GIVEN the default catalog and an empty in-memory warehouse
    catalog = load_catalog()
    con = duckdb.connect()

    # WHEN the catalog is loaded twice (a re-run replaces, never appends)
    load_catalog_tables(con, catalog)
    counts = load_catalog_tables(con, catalog)

    # THEN each table holds exactly the catalog's rows
    assert counts == {
        "scenarios": len(catalog.scenarios),
        "departments": len(catalog.departments),
        "journey_stages": len(catalog.stages),
    }
    for table, expected in counts.items():
        assert con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0] == expected


def test_scenario_rows_carry_sla_hours_keywords_and_chinese_names():
    # GIVEN the default catalog loaded into a warehouse
    catalog = load_catalog()
    con = duckdb.connect()
    load_catalog_tables(con, catalog)
    first = catalog.scenarios[0]

    # WHEN one scenario and its owner are read back
    row = con.execute(
        "SELECT sla_hours_urgent, sla_hours_low, keywords_zh, owner, is_guarantee "
        "FROM raw.scenarios WHERE scenario_id = ?",
        [first.id],
    ).fetchone()
    dept_zh = con.execute(
        "SELECT name_zh FROM raw.departments WHERE department_id = ?", [first.owner]
    ).fetchone()[0]

    # THEN they match the catalog, and departments have their Chinese names
    assert row == (
        first.sla_hours["urgent"],
        first.sla_hours["low"],
        list(first.keywords_zh),
        first.owner,
        first.is_guarantee,
    )
    assert dept_zh


def test_journey_stages_are_numbered_in_catalog_order_within_each_domain():
    # GIVEN the default catalog loaded into a warehouse
    catalog = load_catalog()
    con = duckdb.connect()
    load_catalog_tables(con, catalog)

    # WHEN the first domain's stages are read in stage_order
    domain = catalog.domains[0]
    stages = con.execute(
        "SELECT stage FROM raw.journey_stages WHERE domain = ? ORDER BY stage_order", [domain]
    ).fetchall()

    # THEN the order is the catalog's journey order
    assert [s for (s,) in stages] == [st.id for st in catalog.stages_of(domain)]
