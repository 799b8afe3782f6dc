"""The personal-data masker: precision and recall on the labelled zh/en set
(voc/privacy/eval_set.tsv, the same figures as `voc eval privacy`), and its
one-thread speed on real text it was not written for: 62,773 Chinese shopping
reviews and 7,125 English customer-service chats from <repo>/../shared/data,
with how many spans of each kind it masked there (real reviews hold real
phone numbers and emails; see DECISIONLOG "Privacy" for what was checked by hand).

Prints one JSON line:
{"name": "privacy", "precision": ..., "recall": ..., "per_kind": {...},
 "texts_per_s_eval_set": ..., "texts_per_s_zh_reviews": ..., "texts_per_s_en_chats": ...,
 "masked_zh_reviews": {...}, "masked_en_chats": {...}}
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path

from voc.privacy.evaluate import evaluate_privacy, load_eval_set
from voc.privacy.mask import Masker

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ZH_REVIEWS = (DATA / "online_shopping_zh" / "online_shopping_10_cats.csv", "review")
EN_CHATS = (DATA / "multidogo" / "train.csv", "text")


def real_texts(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row[column] for row in csv.DictReader(fh) if row.get(column)]


def on_real(path: Path, column: str) -> tuple[float | None, dict[str, int]]:
    if not path.exists():
        return None, {}
    texts = real_texts(path, column)
    masker = Masker(b"bench-key")
    masked: Counter[str] = Counter()
    started = time.perf_counter()
    for text in texts:
        masked.update(masker.mask(text).counts)
    seconds = time.perf_counter() - started
    return round(len(texts) / seconds), dict(sorted(masked.items()))


def main() -> None:
    report = evaluate_privacy(load_eval_set())
    zh_speed, zh_masked = on_real(*ZH_REVIEWS)
    en_speed, en_masked = on_real(*EN_CHATS)
    print(
        json.dumps(
            {
                "name": "privacy",
                "snippets": report["snippets"],
                "labels": report["labels"],
                "precision": report["precision"],
                "recall": report["recall"],
                "per_kind": report["per_kind"],
                "texts_per_s_eval_set": report["texts_per_s"],
                "texts_per_s_zh_reviews": zh_speed,
                "texts_per_s_en_chats": en_speed,
                "masked_zh_reviews": zh_masked,
                "masked_en_chats": en_masked,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
