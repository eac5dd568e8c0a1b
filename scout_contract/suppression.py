"""The suppression list's keyed hash: how Scout remembers a forgotten account without naming it.

``scout forget`` erases a person everywhere, yet later searches must still recognise them and drop
them at ingest. The ``suppressions`` table therefore holds only ``HMAC-SHA256(key, "platform:id")``:
with the warehouse alone nobody can tell whom a row stands for (X ids and Bluesky DIDs are easy to
enumerate, which is why a plain hash would not do), while a process holding the key can test any
account it meets.

The key comes from ``SCOUT_SUPPRESSION_KEY`` (a secret, at least 16 characters; declared in
``scout_contract/settings.py``). On the embedded default, with no key set, one is generated once
into ``<SCOUT_DATA_DIR>/suppression.key`` (mode 0600) and read from there afterwards. Losing the key
(or changing it) makes every stored hash unrecognisable: forgotten people would be ingested again,
so production sets the variable from its secret store and keeps it. The key never reaches a log,
an error message, the warehouse or run metadata.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scout_contract.settings import ScoutSettings

KEY_FILE_NAME = "suppression.key"
KEY_VARIABLE = "SCOUT_SUPPRESSION_KEY"
MIN_KEY_CHARS = 16
_KEY_FILE_MODE = 0o600


class SuppressionKeyError(ValueError):
    """The suppression key cannot be used; the message names where it came from, never its value."""


def account_hash(key: bytes, platform: str, platform_id: str) -> str:
    """The keyed hash of one account (hex): what ``suppressions`` and ``erasure_log`` store."""
    if not platform or not platform_id:
        raise ValueError(f"account_hash needs a platform and a platform id, got {platform!r} and an empty id")
    return hmac.new(key, f"{platform}:{platform_id}".encode(), hashlib.sha256).hexdigest()


def key_from_text(text: str, source: str) -> bytes:
    """A key given as text (the variable's value or the file's content), checked for length."""
    cleaned = text.strip()
    if len(cleaned) < MIN_KEY_CHARS:
        raise SuppressionKeyError(
            f"{source}: the suppression key must be at least {MIN_KEY_CHARS} characters "
            f"(got {len(cleaned)}); generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    return cleaned.encode("utf-8")


def load_or_create_key(path: Path) -> bytes:
    """The key stored at ``path``, creating it (random, mode 0600) the first time.

    Creation is exclusive (``O_EXCL``), so two processes starting together agree on one key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _KEY_FILE_MODE)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    try:
        return key_from_text(path.read_text(encoding="utf-8"), f"suppression key file {path}")
    except OSError as exc:
        raise SuppressionKeyError(f"suppression key file {path}: cannot be read ({exc.strerror})") from None


def suppression_key(settings: ScoutSettings) -> bytes:
    """The key in effect: ``SCOUT_SUPPRESSION_KEY`` when set, else the data folder's key file."""
    if settings.suppression_key is not None:
        return key_from_text(settings.suppression_key.get_secret_value(), KEY_VARIABLE)
    return load_or_create_key(settings.data_dir / KEY_FILE_NAME)


def matcher(key: bytes, platform: str, hashes: Iterable[str]) -> Callable[[str], bool]:
    """``is_suppressed(platform_id)`` for one platform, given the stored hashes of that platform."""
    wanted = frozenset(hashes)
    return lambda platform_id: bool(platform_id) and account_hash(key, platform, platform_id) in wanted


SUPPRESSED_HASHES_SQL = "select account_hash from suppressions where platform = $1"
