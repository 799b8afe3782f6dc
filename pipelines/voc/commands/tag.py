"""`voc tag`: tag an export of historic contacts (a CSV) with the default catalog."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from voc.commands._output import emit_json, err, fail

OUT_COLUMNS = ("scenario_id", "category", "stage", "confidence", "method", "evidence")
CHUNK = 2000


@click.command()
@click.option(
    "--input",
    "input_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV export of contacts (UTF-8, a header row).",
)
@click.option(
    "--out",
    "out_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV to write: the input columns plus the tag columns.",
)
@click.option("--text-col", default="text", show_default=True, help="Column holding the text.")
@click.option(
    "--domain",
    default=None,
    help="Business domain of the contacts (e.g. ecommerce, express, freight): only its "
    "scenarios and the cross-cutting `common` ones compete. Default: all domains.",
)
@click.option(
    "--domain-col", default=None, help="Column with each row's domain (wins over --domain)."
)
@click.option("--stage-col", default=None, help="Column with the journey stage at contact time.")
@click.option("--entry-point-col", default=None, help="Column with the contact's entry point.")
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Scenario catalog (default: the built-in one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def tag(
    input_csv,
    out_csv,
    text_col,
    domain,
    domain_col,
    stage_col,
    entry_point_col,
    catalog_path,
    as_json,
):
    """Tag every row of INPUT with a root-cause scenario, or abstain.

    Works out of the box (no training step): keyword rules, then the semantic
    tagger built from the catalog. Chinese and English; for call transcripts
    only the customer's turns are read (turns labelled 客服/坐席/Agent: ... are
    skipped). Each output row adds scenario_id, category, stage, confidence,
    method and evidence; an abstention has an empty scenario_id and method
    `untagged`.

    \b
      voc tag --input contacts.csv --out tagged.csv --domain ecommerce
      voc tag --input calls.csv --text-col transcript --out tagged.csv
    """
    from voc.catalog import CatalogError, load_catalog
    from voc.paths import DEFAULT_CATALOG
    from voc.tagging.base import TagContext
    from voc.tagging.hybrid import build_tagger

    if not input_csv.is_file():
        fail(f"{input_csv}: file not found")
    csv.field_size_limit(sys.maxsize)
    try:
        catalog = load_catalog(catalog_path or DEFAULT_CATALOG)
    except CatalogError as exc:
        fail(str(exc))
    if domain and domain not in catalog.domains:
        fail(f"unknown domain {domain!r}; the catalog has {', '.join(catalog.domains)}")
    with open(input_csv, encoding="utf-8-sig", newline="", errors="replace") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        wanted = [c for c in (text_col, domain_col, stage_col, entry_point_col) if c]
        missing = [c for c in wanted if c not in header]
        if missing:
            fail(
                f"{input_csv}: no column(s) {', '.join(map(repr, missing))}; columns are "
                f"{', '.join(map(repr, header)) or '(none: is the file empty?)'}. "
                "Name the text column with --text-col."
            )
        err.print("building the tagger from the catalog ...")
        tagger = build_tagger(catalog_path or DEFAULT_CATALOG)
        clash = [c for c in OUT_COLUMNS if c in header]
        out_header = header + [c if c not in clash else f"tag_{c}" for c in OUT_COLUMNS]
        counts = {"rows": 0, "tagged": 0}
        by_method: dict[str, int] = {}
        out_csv.parent.mkdir(parents=True, exist_ok=True)
        with open(out_csv, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(out_header)
            chunk: list[dict] = []
            for row in reader:
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    _tag_chunk(
                        chunk,
                        writer,
                        header,
                        tagger,
                        catalog,
                        text_col,
                        domain,
                        domain_col,
                        stage_col,
                        entry_point_col,
                        counts,
                        by_method,
                        TagContext,
                    )
                    err.print(
                        f"  {counts['rows']:,} rows tagged ({counts['tagged']:,} with a scenario)"
                    )
                    chunk = []
            if chunk:
                _tag_chunk(
                    chunk,
                    writer,
                    header,
                    tagger,
                    catalog,
                    text_col,
                    domain,
                    domain_col,
                    stage_col,
                    entry_point_col,
                    counts,
                    by_method,
                    TagContext,
                )
    share = counts["tagged"] / counts["rows"] if counts["rows"] else 0.0
    err.print(f"{counts['rows']:,} rows, {counts['tagged']:,} tagged ({share:.1%}) -> {out_csv}")
    if as_json:
        emit_json(
            {
                "rows": counts["rows"],
                "tagged": counts["tagged"],
                "tagged_share": share,
                "by_method": by_method,
                "out": str(out_csv),
            }
        )


def _tag_chunk(
    rows,
    writer,
    header,
    tagger,
    catalog,
    text_col,
    domain,
    domain_col,
    stage_col,
    entry_point_col,
    counts,
    by_method,
    TagContext,
) -> None:
    texts = [r.get(text_col) or "" for r in rows]
    contexts = [
        TagContext(
            domain=((r.get(domain_col) or "").strip() if domain_col else "") or (domain or ""),
            channel="export",
            journey_stage=((r.get(stage_col) or "").strip() or None) if stage_col else None,
            entry_point=((r.get(entry_point_col) or "").strip() or None)
            if entry_point_col
            else None,
        )
        for r in rows
    ]
    tags = tagger.tag_batch(texts, contexts)
    for r, t in zip(rows, tags, strict=True):
        counts["rows"] += 1
        base = [r.get(c, "") for c in header]
        if t is None:
            writer.writerow(base + ["", "", "", "0.0", "untagged", "nothing reached the bar"])
            continue
        counts["tagged"] += 1
        by_method[t.method] = by_method.get(t.method, 0) + 1
        s = catalog[t.scenario_id]
        writer.writerow(
            base
            + [
                t.scenario_id,
                f"{s.domain}.{s.stage}/{s.category}",
                f"{s.domain}.{s.stage}",
                f"{t.confidence:.4f}",
                t.method,
                t.evidence,
            ]
        )
