"""The key of the HMAC that hashes masked phones and emails.

Joins on `pii_keys` work only between records hashed with the same key, so a
deployment keeps one: given as a file (`--pii-key-file`), or in the
environment (`VOC_PII_KEY`, hex), or else created once, random, in a file
beside the warehouse (`<warehouse>.pii-key`, readable by its owner only).
Whoever holds the key can test a guessed phone number against a hash: keep it
as secret as the warehouse.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

ENV_VAR = "VOC_PII_KEY"


class PiiKeyError(ValueError):
    pass


def key_file_for(warehouse: Path | str) -> Path:
    return Path(f"{warehouse}.pii-key")


def resolve_key(
    warehouse: Path | str,
    key_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """The key as hex: from `key_file`, else $VOC_PII_KEY, else the warehouse's key file
    (created with a random 32-byte key the first time)."""
    env = os.environ if env is None else env
    if key_file is not None:
        return _checked(key_file.read_text(encoding="utf-8").strip(), str(key_file))
    if env.get(ENV_VAR):
        return _checked(env[ENV_VAR].strip(), ENV_VAR)
    path = key_file_for(warehouse)
    if path.exists():
        return _checked(path.read_text(encoding="utf-8").strip(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under another name, then linked into place: two processes
    # starting at once (job instances) end up with the one key that won.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return _checked(path.read_text(encoding="utf-8").strip(), str(path))


def _checked(value: str, where: str) -> str:
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise PiiKeyError(f"the PII hash key in {where} is not hex") from None
    if len(key) < 16:
        raise PiiKeyError(f"the PII hash key in {where} is shorter than 16 bytes")
    return value
