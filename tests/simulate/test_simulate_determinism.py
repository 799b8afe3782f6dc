"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

from pathlib import Path

from voc.simulate import simulate


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    # GIVEN two runs with the same seed into different directories
    simulate(tmp_path / "a", days=2, seed=5)
    simulate(tmp_path / "b", days=2, seed=5)
    # WHEN their files are compared
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    # THEN every file is byte-identical
    assert sorted(a) == sorted(b)
    assert len(a) == 11  # 4 streams, the manifest, 6 ground-truth files (decoys,
    # tickets and compensations too)
    for name in a:
        assert a[name] == b[name], name


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    # GIVEN runs with two different seeds
    simulate(tmp_path / "a", days=2, seed=5)
    simulate(tmp_path / "b", days=2, seed=6)
    # WHEN the stream files are compared
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    # THEN every stream differs
    for name in ("calls.jsonl", "ticket_events.jsonl", "app_events.jsonl", "social_posts.jsonl"):
        assert a[name] != b[name], name
