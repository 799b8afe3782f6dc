"""Turn a user's scenario CSV into the catalog format.

CSV columns: `scenario_id,name[,description][,keywords][,parent]` (header row
required, extra columns refused). `keywords` are separated by `;` or `|`.
`parent` is the scenario's place in the hierarchy, `domain/stage[/category]`
(dots work too); without it the rows go to `--domain` / stage `general`.
A scenario id that is already `<domain>.<stage>.<slug>` is kept; any other is
turned into one. Chinese and English are told apart by script: a name or
keyword with CJK characters is Chinese, anything else English; a name only
given in one language is used for both (the catalog needs both).
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voc.catalog import PRIORITIES

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_SLUG_BAD = re.compile(r"[^a-z0-9_]+")
COLUMNS = ("scenario_id", "name", "description", "keywords", "parent")
DEFAULT_SLA = {"urgent": 4, "high": 12, "normal": 48, "low": 72}


@dataclass
class ImportResult:
    doc: dict[str, Any]
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def slug(text: str) -> str:
    """A lower-snake slug. Text with no ASCII letters or digits (a Chinese id)
    gets a stable hash slug, `s_<10 hex>`: the same id always maps to the same
    slug, and the name keeps the readable text."""
    s = _SLUG_BAD.sub("_", text.strip().lower()).strip("_")
    if not s:
        if not text.strip():
            return ""
        return "s_" + hashlib.blake2b(text.strip().encode(), digest_size=5).hexdigest()
    return s if s[0].isalpha() else f"x_{s}"


def _fold(keyword: str) -> str:
    return unicodedata.normalize("NFKC", keyword).lower().strip()


def _split_lang(items: list[str]) -> tuple[list[str], list[str]]:
    zh = [i for i in items if _CJK.search(i)]
    return zh, [i for i in items if not _CJK.search(i)]


def import_csv(
    path: Path, *, domain: str = "imported", owner: str = "customer_service"
) -> ImportResult:
    """Read the CSV; every bad row is reported with its line number, none is skipped silently."""
    errors: list[str] = []
    scenarios: list[dict[str, Any]] = []
    stages: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    keyword_line: dict[str, int] = {}
    domain = slug(domain) or "imported"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return ImportResult({}, [f"{path}: empty file"])
        header = [h.strip().lower() for h in header]
        unknown = [h for h in header if h not in COLUMNS]
        if header[:2] != ["scenario_id", "name"] or unknown:
            return ImportResult(
                {},
                [
                    f"{path}:1: header must be scenario_id,name[,description][,keywords][,parent]; "
                    f"got {','.join(header)}"
                ],
            )
        for lineno, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                errors.append(f"{path}:{lineno}: {len(row)} fields, header has {len(header)}")
                continue
            rec = dict(zip(header, (c.strip() for c in row), strict=False))
            raw_id, name = rec.get("scenario_id", ""), rec.get("name", "")
            if not raw_id:
                errors.append(f"{path}:{lineno}: scenario_id is empty")
                continue
            if not name:
                errors.append(f"{path}:{lineno}: name is empty for {raw_id!r}")
                continue
            parent = [slug(p) for p in re.split(r"[/.>]", rec.get("parent", "")) if p.strip()]
            if _ID.match(raw_id):
                sid = raw_id
                dom, stage, _ = raw_id.split(".")
                category = parent[2] if len(parent) > 2 else "general"
            else:
                dom = parent[0] if parent else domain
                stage = parent[1] if len(parent) > 1 else "general"
                category = parent[2] if len(parent) > 2 else "general"
                if not slug(raw_id):
                    errors.append(
                        f"{path}:{lineno}: scenario_id {raw_id!r} has no usable characters"
                    )
                    continue
                sid = f"{dom}.{stage}.{slug(raw_id)}"
            if sid in seen:
                errors.append(
                    f"{path}:{lineno}: duplicate scenario id {sid} (first on line {seen[sid]})"
                )
                continue
            seen[sid] = lineno
            keywords = [k.strip() for k in re.split(r"[;|]", rec.get("keywords", "")) if k.strip()]
            kw_zh, kw_en = _split_lang(keywords)
            if not keywords:
                kw_en = [name] if not _CJK.search(name) else []
                kw_zh = [name] if _CJK.search(name) else []
            clash = next((k for k in (*kw_zh, *kw_en) if _fold(k) in keyword_line), None)
            if clash is not None:
                errors.append(
                    f"{path}:{lineno}: keyword {clash!r} is already used by line "
                    f"{keyword_line[_fold(clash)]}; a keyword must point at one scenario"
                )
                continue
            keyword_line.update({_fold(k): lineno for k in (*kw_zh, *kw_en)})
            description = rec.get("description", "") or name
            stages.setdefault(dom, [])
            if stage not in stages[dom]:
                stages[dom].append(stage)
            scenarios.append(
                {
                    "id": sid,
                    "domain": dom,
                    "stage": stage,
                    "category": category,
                    "name_zh": name,
                    "name_en": name,
                    "description_zh": description,
                    "description_en": description,
                    "keywords_zh": list(dict.fromkeys(kw_zh)),
                    "keywords_en": list(dict.fromkeys(kw_en)),
                    "signals": {"app_events": [], "entry_points": [], "ticket_categories": []},
                    "owner": owner,
                    "severity": "medium",
                    "sla_hours": {p: DEFAULT_SLA[p] for p in PRIORITIES},
                    "is_guarantee": False,
                }
            )
    if not scenarios and not errors:
        errors.append(f"{path}: no scenario rows")
    doc = {
        "catalog_version": 1,
        "departments": [{"id": owner, "name_zh": owner, "name_en": owner}],
        "entry_points": [{"id": "hotline", "name_zh": "客服热线", "name_en": "Service hotline"}],
        "domains": [
            {
                "id": d,
                "name_zh": d,
                "name_en": d,
                "stages": [
                    {"id": s, "name_zh": s, "name_en": s, "expected_minutes": 60} for s in ss
                ],
            }
            for d, ss in stages.items()
        ],
        "scenarios": scenarios,
    }
    return ImportResult(doc, errors)
