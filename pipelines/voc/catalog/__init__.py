"""The scenario catalog: one YAML file, validated by schemas/catalog.schema.json.

Pure (no Beam). The simulator, the tagger and the warehouse (raw.scenarios, read by
dbt's dim_scenarios) all load it through `load_catalog`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from voc.contracts.validate import load_schema
from voc.paths import DEFAULT_CATALOG

UNTAGGED = "untagged"
PRIORITIES = ("urgent", "high", "normal", "low")


class CatalogError(ValueError):
    """The catalog file is not valid; the message lists every problem found."""


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    domain: str
    stage: str
    category: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    keywords_zh: tuple[str, ...]
    keywords_en: tuple[str, ...]
    app_event_signals: tuple[str, ...]
    entry_point_signals: tuple[str, ...]
    ticket_category_signals: tuple[str, ...]
    owner: str
    severity: str
    sla_hours: dict[str, float]
    is_guarantee: bool
    # customer phrasings the text tagger learns from (optional in the YAML)
    examples_zh: tuple[str, ...] = ()
    examples_en: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Stage:
    domain: str
    id: str
    name_zh: str
    name_en: str
    expected_minutes: int


@dataclass(frozen=True)
class Catalog:
    version: int
    scenarios: tuple[Scenario, ...]
    stages: tuple[Stage, ...]
    departments: dict[str, str]  # id -> English name
    entry_points: dict[str, str]  # id -> English name
    source: str = ""
    department_names_zh: dict[str, str] = field(default_factory=dict)
    _by_id: dict[str, Scenario] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({s.id: s for s in self.scenarios})

    def __getitem__(self, scenario_id: str) -> Scenario:
        return self._by_id[scenario_id]

    def __contains__(self, scenario_id: object) -> bool:
        return scenario_id in self._by_id

    def __len__(self) -> int:
        return len(self.scenarios)

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.domain for s in self.stages))

    def stages_of(self, domain: str) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.domain == domain)

    def scenarios_of(self, domain: str, stage: str | None = None) -> tuple[Scenario, ...]:
        return tuple(
            s for s in self.scenarios if s.domain == domain and (stage is None or s.stage == stage)
        )


def parse_catalog(doc: Any, source: str = "<memory>") -> Catalog:
    """Validate a parsed catalog document and build the Catalog, or raise CatalogError."""
    validator = jsonschema_rs.Draft202012Validator(load_schema("catalog"))
    problems = [
        f"{'/'.join(str(p) for p in e.instance_path) or '/'}: {e.message}"
        for e in validator.iter_errors(doc)
    ]
    if problems:
        raise CatalogError(_report(source, problems))
    stages = tuple(
        Stage(d["id"], st["id"], st["name_zh"], st["name_en"], st["expected_minutes"])
        for d in doc["domains"]
        for st in d["stages"]
    )
    departments = {d["id"]: d["name_en"] for d in doc["departments"]}
    entry_points = {e["id"]: e["name_en"] for e in doc["entry_points"]}
    problems += _cross_reference_problems(doc, stages, departments, entry_points)
    if problems:
        raise CatalogError(_report(source, problems))
    scenarios = tuple(_scenario(s) for s in doc["scenarios"])
    return Catalog(
        doc["catalog_version"],
        scenarios,
        stages,
        departments,
        entry_points,
        source,
        department_names_zh={d["id"]: d["name_zh"] for d in doc["departments"]},
    )


@cache
def load_catalog(path: Path | str = DEFAULT_CATALOG) -> Catalog:
    """Load a catalog from one YAML file, or from a folder holding `catalog.yaml`
    (version, departments, entry points, domains and stages) and
    `scenarios/*.yaml` (each a `scenarios:` list), merged in file-name order.

    Parsed once per process while its files stay unchanged (a job's driver,
    pipeline builder and taggers all ask for it; it is immutable)."""
    return _load_catalog(str(path), _files_stamp(Path(path)))


@lru_cache(maxsize=8)
def _load_catalog(path: str, _stamp: tuple) -> Catalog:
    return parse_catalog(read_catalog_doc(path), path)


def _files_stamp(path: Path) -> tuple:
    files = [path]
    if path.is_dir():
        files = [path / "catalog.yaml", *(path / "scenarios").glob("*.yaml")]
    stats = [(str(f), f.stat()) for f in files if f.exists()]
    return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in stats))


def read_catalog_doc(path: Path | str) -> Any:
    """The catalog document as parsed YAML, folder parts merged; not validated."""
    path = Path(path)
    if not path.is_dir():
        return _read_yaml(path)
    doc = _read_yaml(path / "catalog.yaml")
    if not isinstance(doc, dict):
        raise CatalogError(f"{path / 'catalog.yaml'}: expected a mapping")
    doc.setdefault("scenarios", [])
    for part in sorted((path / "scenarios").glob("*.yaml")):
        doc["scenarios"].extend((_read_yaml(part) or {}).get("scenarios") or [])
    return doc


# libyaml's C loader when the wheel has it: the ~1,400-scenario catalog loads
# in a fraction of the pure-Python loader's time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506
    except FileNotFoundError:
        raise CatalogError(f"catalog file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from None


def _scenario(s: dict[str, Any]) -> Scenario:
    sig = s["signals"]
    return Scenario(
        id=s["id"],
        domain=s["domain"],
        stage=s["stage"],
        category=s["category"],
        name_zh=s["name_zh"],
        name_en=s["name_en"],
        description_zh=s["description_zh"],
        description_en=s["description_en"],
        keywords_zh=tuple(s["keywords_zh"]),
        keywords_en=tuple(s["keywords_en"]),
        app_event_signals=tuple(sig["app_events"]),
        entry_point_signals=tuple(sig["entry_points"]),
        ticket_category_signals=tuple(sig["ticket_categories"]),
        owner=s["owner"],
        severity=s["severity"],
        sla_hours={k: float(v) for k, v in s["sla_hours"].items()},
        is_guarantee=s["is_guarantee"],
        examples_zh=tuple(s.get("examples_zh") or ()),
        examples_en=tuple(s.get("examples_en") or ()),
    )


def _cross_reference_problems(
    doc: dict[str, Any],
    stages: tuple[Stage, ...],
    departments: dict[str, str],
    entry_points: dict[str, str],
) -> list[str]:
    problems: list[str] = []
    stage_keys = {(s.domain, s.id) for s in stages}
    seen: set[str] = set()
    for i, s in enumerate(doc["scenarios"]):
        where = f"scenarios/{i} ({s['id']})"
        if s["id"] in seen:
            problems.append(f"{where}: duplicate scenario id")
        seen.add(s["id"])
        domain, stage, _ = s["id"].split(".")
        if (s["domain"], s["stage"]) not in stage_keys:
            problems.append(f"{where}: unknown domain/stage {s['domain']}/{s['stage']}")
        if domain != s["domain"]:
            problems.append(f"{where}: id must start with its domain '{s['domain']}.'")
        if s["owner"] not in departments:
            problems.append(f"{where}: owner '{s['owner']}' is not a department")
        for ep in s["signals"]["entry_points"]:
            if ep not in entry_points:
                problems.append(f"{where}: entry point signal '{ep}' is not an entry point")
        if not (s["keywords_zh"] or s["keywords_en"]):
            problems.append(f"{where}: needs at least one keyword")
        keywords = {unicodedata.normalize("NFKC", k).lower().strip() for k in s["keywords_zh"]}
        keywords |= {unicodedata.normalize("NFKC", k).lower().strip() for k in s["keywords_en"]}
        for ex in (*s.get("examples_zh", ()), *s.get("examples_en", ())):
            # an example is a customer's sentence, not one more keyword
            if unicodedata.normalize("NFKC", ex).lower().strip() in keywords:
                problems.append(f"{where}: example '{ex}' repeats a keyword verbatim")
    problems += _competing_keywords(doc["scenarios"])
    return problems


def _competing_keywords(scenarios: list[dict[str, Any]]) -> list[str]:
    """A keyword claimed by two scenarios that can tag the same contact (same
    domain, or one of them cross-cutting) makes the keyword tagger abstain on
    a tie: the catalog must say which scenario it means."""
    import unicodedata

    owners: dict[str, list[str]] = {}
    for s in scenarios:
        for kw in (*s["keywords_zh"], *s["keywords_en"]):
            key = unicodedata.normalize("NFKC", kw).lower().strip()
            owners.setdefault(key, []).append(s["id"])
    problems = []
    for kw, ids in owners.items():
        ids = sorted(set(ids))
        domains = {i.split(".", 1)[0] for i in ids}
        if len(ids) > 1 and len(domains - {"common"}) <= 1:
            problems.append(f"keyword '{kw}' is claimed by competing scenarios {', '.join(ids)}")
    return problems


def _report(source: str, problems: list[str]) -> str:
    shown = problems[:20]
    more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
    return f"{source}: {len(problems)} problem(s):\n  " + "\n  ".join(shown) + more
