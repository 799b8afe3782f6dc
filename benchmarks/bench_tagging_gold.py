"""The default tagger (rules + semantic, no training step) on real Chinese
complaints labelled with the default catalog's scenario ids, and its speed.

Prints:
{"name": "tagging_gold_zh_dev", "scenario_accuracy": ..., "category_accuracy": ...,
 "oos_abstain_rate": ..., "coverage": ..., "n": ...}  (voc eval gold on cx_gold_zh/dev.csv)
{"name": "tagging_catalog_examples_heldout", "scenario_accuracy": ..., "category_accuracy": ...,
 "weighted_scenario_accuracy": ..., "weighted_category_accuracy": ..., "n": ...}  the
 semantic tagger on the catalog's own Chinese customer examples, each scored without its
 own document (an honest split no gold file enters; voc.evaluation.gold)
{"name": "tagging_default_speed", "texts_per_s": ..., "texts_per_cpu_s": ...}  one core,
 default tagger, on 5,000 real reviews (online_shopping_zh, Chinese) and on Banking77's
 test texts (English); texts_per_cpu_s counts the process's CPU time (a shared machine).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from voc.evaluation.gold import evaluate_catalog_examples, evaluate_gold  # noqa: E402
from voc.paths import DEFAULT_CATALOG  # noqa: E402
from voc.tagging.base import TagContext  # noqa: E402
from voc.tagging.hybrid import build_tagger  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GOLD_DEV = DATA / "cx_gold_zh" / "dev.csv"
ZH = DATA / "online_shopping_zh" / "online_shopping_10_cats.csv"
B77 = DATA / "banking77" / "test.csv"
SPEED_TEXTS = 5000


def _column(path: Path, col: str, n: int) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [r[col] or "" for _, r in zip(range(n), csv.DictReader(fh), strict=False)]


def main() -> int:
    if not GOLD_DEV.is_file():
        print(f"[bench] data not found: {GOLD_DEV}", file=sys.stderr)
        return 1
    report = evaluate_gold(GOLD_DEV)
    line = {"name": "tagging_gold_zh_dev", "command": "voc eval gold --input " + str(GOLD_DEV)}
    for key in ("scenario_accuracy", "category_accuracy", "oos_abstain_rate", "coverage"):
        line[key] = round(report[key], 4)
    line.update(
        n=report["n"], in_scope=report["in_scope"], tagged_by_method=report["tagged_by_method"]
    )
    print(json.dumps(line, ensure_ascii=False), flush=True)
    held_out = evaluate_catalog_examples()
    line = {"name": "tagging_catalog_examples_heldout"}
    line.update({k: round(v, 4) if isinstance(v, float) else v for k, v in held_out.items()})
    print(json.dumps(line, ensure_ascii=False), flush=True)

    tagger = build_tagger(DEFAULT_CATALOG)
    speed = {"name": "tagging_default_speed"}
    for key, path, col, domain in (
        ("zh_reviews", ZH, "review", "ecommerce"),
        ("en_banking77", B77, "text", "common"),
    ):
        if not path.is_file():
            continue
        texts = _column(path, col, SPEED_TEXTS)
        contexts = [TagContext(domain=domain, channel="social")] * len(texts)
        tagger.tag_batch(texts[:10], contexts[:10])
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), 1000):
            tagger.tag_batch(texts[i : i + 1000], contexts[i : i + 1000])
        seconds = time.perf_counter() - started
        speed[f"{key}_texts_per_s"] = round(len(texts) / seconds, 1)
        # the process's own CPU time: the same figure on a machine shared with
        # other jobs, where wall-clock time also counts their turns
        speed[f"{key}_texts_per_cpu_s"] = round(len(texts) / (time.process_time() - cpu), 1)
        speed[f"{key}_mean_chars"] = round(sum(map(len, texts)) / len(texts), 1)
    speed["texts_per_s"] = min(v for k, v in speed.items() if k.endswith("_texts_per_s"))
    speed["texts_per_cpu_s"] = min(v for k, v in speed.items() if k.endswith("_per_cpu_s"))
    print(json.dumps(speed, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
