"""Build the dbt marts (staging -> intermediate -> marts, with their tests) in-process.

dbt runs through `dbtRunner` in this Python process. Its target/ and logs/ go under
the warehouse file's folder (`<warehouse dir>/dbt_target`, `<warehouse dir>/dbt_logs`)
so the repository stays clean and two warehouses can be built side by side. The
warehouse path reaches profiles.yml through the VOC_WAREHOUSE environment variable,
set for the duration of the call and restored afterwards.

dbt-duckdb opens the warehouse file read-write: no other process may hold it open
(DuckDB allows one writer) while the marts build.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from voc.paths import DBT_PROJECT_DIR

MART_PREFIXES = ("fct_", "dim_")
MART_SCHEMA = "main"

# dbt's in-process runner keeps global state (flags, adapters, env); one build at a
# time per process.
_DBT_LOCK = threading.Lock()


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    resource_type: str
    status: str  # success, error, fail, warn, pass, skipped, ...
    message: str | None = None
    failures: int | None = None


@dataclass(frozen=True)
class DbtBuildResult:
    success: bool
    nodes: tuple[NodeResult, ...]
    target_path: Path
    log_path: Path
    exception: str | None = None

    @property
    def statuses(self) -> dict[str, str]:
        """Status of every node dbt ran, by unique_id (e.g. model.voc_loop.fct_contacts)."""
        return {n.unique_id: n.status for n in self.nodes}

    @property
    def failures(self) -> tuple[NodeResult, ...]:
        """Nodes that errored, failed a test, or were skipped because of one."""
        return tuple(n for n in self.nodes if n.status in ("error", "fail", "runtime error"))

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.status] = counts.get(n.status, 0) + 1
        return ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no nodes"


class DbtBuildError(RuntimeError):
    """`dbt build` failed; the message lists the failing nodes and where the logs are."""

    def __init__(self, result: DbtBuildResult) -> None:
        self.result = result
        lines = [
            f"dbt build failed ({result.summary()}); project {DBT_PROJECT_DIR}, "
            f"logs in {result.log_path / 'dbt.log'}"
        ]
        if result.exception:
            lines.append(f"  dbt raised: {result.exception}")
        for n in result.failures:
            msg = (n.message or "").strip().replace("\n", " ")
            lines.append(f"  {n.status}: {n.unique_id}: {msg[:500]}")
        super().__init__("\n".join(lines))


def build_marts(
    warehouse: Path,
    *,
    select: str | None = None,
    quiet: bool = True,
    raise_on_failure: bool = True,
) -> DbtBuildResult:
    """Run `dbt build` (models, unit tests and data tests) against `warehouse`.

    `select` is passed to dbt's --select (e.g. "+fct_ticket_sla"). Raises DbtBuildError
    when any node fails, unless raise_on_failure is False.
    """
    command = ["build"]
    if select:
        command += ["--select", select]
    res, target_path, log_path = _invoke(warehouse, command, quiet=quiet)

    nodes = tuple(_node_results(res.result))
    result = DbtBuildResult(
        success=bool(res.success),
        nodes=nodes,
        target_path=target_path,
        log_path=log_path,
        exception=None if res.exception is None else repr(res.exception),
    )
    if raise_on_failure and not result.success:
        raise DbtBuildError(result)
    return result


def _invoke(
    warehouse: Path, command: list[str], *, quiet: bool = True
) -> tuple[object, Path, Path]:
    """Run one dbt command against `warehouse`; (dbtRunnerResult, target, logs)."""
    from dbt.cli.main import dbtRunner  # imported lazily: dbt takes ~2 s to import

    warehouse = Path(warehouse).resolve()
    if not warehouse.is_file():
        raise FileNotFoundError(f"warehouse file not found: {warehouse}")
    target_path = warehouse.parent / "dbt_target"
    log_path = warehouse.parent / "dbt_logs"
    args = [
        *command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
    ]
    if quiet:
        args.append("--quiet")
    env = {"VOC_WAREHOUSE": str(warehouse), "DO_NOT_TRACK": "1"}
    with _DBT_LOCK, _environ(env):
        try:
            res = dbtRunner().invoke(args)
        finally:
            _release_duckdb()
    return res, target_path, log_path


@dataclass(frozen=True)
class SourceFreshness:
    source: str  # e.g. voc.calls
    status: str  # pass, warn, error, runtime error
    max_loaded_at: str | None
    age_hours: float | None


def source_freshness(warehouse: Path) -> tuple[SourceFreshness, ...]:
    """`dbt source freshness`: how old the newest row of each raw table is
    (loaded_at_field `_loaded_at`; warn after 24 h, see _voc__sources.yml)."""
    res, target_path, _ = _invoke(
        warehouse,
        [
            "source",
            "freshness",
            "--output",
            str(Path(warehouse).parent / "dbt_target" / "sources.json"),
        ],
    )
    out = []
    for r in getattr(res.result, "results", None) or ():
        node = r.node
        age = getattr(r, "age", None)
        loaded = getattr(r, "max_loaded_at", None)
        out.append(
            SourceFreshness(
                source=f"{node.source_name}.{node.name}",
                status=str(getattr(r.status, "value", r.status)),
                max_loaded_at=None if loaded is None else str(loaded),
                age_hours=None if age is None else round(float(age) / 3600, 3),
            )
        )
    return tuple(sorted(out, key=lambda f: f.source))


def generate_docs(warehouse: Path) -> Path:
    """`dbt docs generate` (catalog from the built warehouse); returns the folder
    holding index.html, manifest.json and catalog.json."""
    res, target_path, log_path = _invoke(warehouse, ["docs", "generate"])
    if not res.success:
        raise DbtBuildError(
            DbtBuildResult(
                success=False,
                nodes=(),
                target_path=target_path,
                log_path=log_path,
                exception=None if res.exception is None else repr(res.exception),
            )
        )
    return target_path


def mart_row_counts(warehouse: Path) -> dict[str, int]:
    """Rows in every fct_/dim_ table of the warehouse, by table name."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
                [MART_SCHEMA],
            ).fetchall()
            if row[0].startswith(MART_PREFIXES)
        ]
        return {
            name: con.execute(f'SELECT count(*) FROM {MART_SCHEMA}."{name}"').fetchone()[0]
            for name in names
        }
    finally:
        con.close()


def _node_results(run_result: object) -> Iterator[NodeResult]:
    for r in getattr(run_result, "results", None) or ():
        node = r.node
        yield NodeResult(
            unique_id=node.unique_id,
            resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
            status=str(getattr(r.status, "value", r.status)),
            message=r.message,
            failures=getattr(r, "failures", None),
        )


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    Without this the warehouse file stays open (read-write) until the interpreter
    exits, and this process cannot reopen it with another configuration (read-only).
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
