"""Labelled CSVs for evaluation: reading them with clear errors, and a
deterministic stratified train/test split."""

from __future__ import annotations

from pathlib import Path

import polars as pl


class EvaluationDataError(ValueError):
    """A CSV is missing, unreadable or lacks a required column."""


def read_labelled_csv(path: Path, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    """(texts, labels) from a CSV. Every cell is read as text; a missing text
    becomes "" (it is still a contact to tag), a row with no label is dropped
    (there is nothing to score it against)."""
    frame = read_csv(path)
    missing = [c for c in (text_col, label_col) if c not in frame.columns]
    if missing:
        raise EvaluationDataError(
            f"{path}: no column(s) {', '.join(map(repr, missing))}; "
            f"columns are {', '.join(map(repr, frame.columns))}"
        )
    frame = frame.filter(
        pl.col(label_col).is_not_null() & (pl.col(label_col).str.strip_chars() != "")
    )
    texts = frame.get_column(text_col).fill_null("").to_list()
    labels = [label.strip() for label in frame.get_column(label_col).to_list()]
    return texts, labels


def read_csv(path: Path) -> pl.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise EvaluationDataError(f"{path}: file not found")
    try:
        return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise EvaluationDataError(f"{path}: cannot read as CSV: {exc}") from None


def split_csv(
    input_csv: Path,
    out_dir: Path,
    *,
    test_share: float = 0.2,
    seed: int = 42,
    label_col: str | None = None,
) -> dict[str, int]:
    """Write out_dir/train.csv and out_dir/test.csv. Stratified on `label_col`
    when given (scikit-learn's train_test_split, so the same seed gives the same
    split as in a notebook); rows keep all their columns."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_share < 1.0:
        raise EvaluationDataError(f"test share must be between 0 and 1, got {test_share}")
    frame = read_csv(input_csv)
    stratify = None
    if label_col is not None:
        if label_col not in frame.columns:
            raise EvaluationDataError(
                f"{input_csv}: no column {label_col!r}; columns are "
                f"{', '.join(map(repr, frame.columns))}"
            )
        frame = frame.filter(pl.col(label_col).is_not_null())
        stratify = frame.get_column(label_col).to_numpy()
        counts = frame.get_column(label_col).value_counts()
        if counts.get_column("count").min() < 2:
            raise EvaluationDataError(
                f"{input_csv}: some labels in {label_col!r} have a single row; "
                "a stratified split needs at least two per label"
            )
    rows = list(range(frame.height))
    train_rows, test_rows = train_test_split(
        rows, test_size=test_share, random_state=seed, stratify=stratify
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame[train_rows].write_csv(out_dir / "train.csv")
    frame[test_rows].write_csv(out_dir / "test.csv")
    return {"train": len(train_rows), "test": len(test_rows)}
