"""The PII hash key: given, from the environment, or created once beside the warehouse."""

from __future__ import annotations

import stat

import pytest

from voc.privacy.keys import PiiKeyError, key_file_for, resolve_key


def test_a_key_is_created_once_private_and_reused(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    first = resolve_key(warehouse, env={})
    assert resolve_key(warehouse, env={}) == first and len(bytes.fromhex(first)) == 32
    assert stat.S_IMODE(key_file_for(warehouse).stat().st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [key_file_for(warehouse)]  # no temporary file left


def test_the_environment_and_a_key_file_win(tmp_path):
    given = tmp_path / "k"
    given.write_text("ab" * 16)
    env = {"VOC_PII_KEY": "cd" * 16}
    assert resolve_key(tmp_path / "wh.duckdb", given, env) == "ab" * 16
    assert resolve_key(tmp_path / "wh.duckdb", None, env) == "cd" * 16
    assert not key_file_for(tmp_path / "wh.duckdb").exists()


@pytest.mark.parametrize("bad", ["not hex", "abcd"])
def test_a_bad_key_is_a_clear_error(tmp_path, bad):
    with pytest.raises(PiiKeyError):
        resolve_key(tmp_path / "wh.duckdb", env={"VOC_PII_KEY": bad})
