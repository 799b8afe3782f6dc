"""Where the project's own files live (schemas, default catalog, dbt project)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The package lives in <repo>/pipelines/voc; schemas and dbt sit at the repo top.
REPO_DIR = PACKAGE_DIR.parents[1]
SCHEMAS_DIR = REPO_DIR / "schemas"
DBT_PROJECT_DIR = REPO_DIR / "dbt_project"
DEFAULT_CATALOG = PACKAGE_DIR / "catalog" / "default"
DEFAULT_WORK_DIR = REPO_DIR / ".voc"
