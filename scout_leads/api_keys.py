"""HTTP API keys: create one (shown once), list them, revoke one, and check a key a request carries.

Shared by ``scout api-key`` (which manages keys) and the HTTP API (which checks them), so both
read the same ``api_keys`` ledger the same way. A key reads ``scout_<key id>_<secret>``: the id
finds the row, the secret (32 random bytes, URL-safe) proves the holder. Only the SHA-256 of the
secret is stored: a random 256-bit secret needs no salt or slow hash (nothing to guess), and a
leaked table cannot be turned back into keys. Comparison is constant-time (``hmac.compare_digest``).

The ledger is append-only, like the other audit trails: a ``create`` event per key and a
``revoke`` event that ends it; nothing is rewritten, so who made and who revoked a key stays.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from scout_contract.tables import API_KEYS, polars_schema

if TYPE_CHECKING:
    from resources.warehouse.operations import WarehouseOperations

SCOPES: tuple[str, ...] = ("read", "write")  # write includes read
KEY_PREFIX = "scout_"
MAX_NAME_CHARS = 100
_KEY_ID = re.compile(r"^[0-9a-f]{12}$")
_MAX_TOKEN_CHARS = 200  # a real key is 68 characters; anything far longer is not one


class ApiKeyError(ValueError):
    """A key name, scope or id ``scout api-key`` cannot use; the message names it."""


class ApiKeyRejected(Exception):
    """A presented key that does not authenticate. ``revoked`` tells a revoked key from a wrong one.

    The message never contains the presented key.
    """

    def __init__(self, message: str, *, revoked: bool = False) -> None:
        super().__init__(message)
        self.revoked = revoked


@dataclass(frozen=True)
class ApiKey:
    """One key as the ledger knows it (never its secret)."""

    key_id: str
    name: str
    scope: str
    created_by: str
    created_at: datetime
    revoked_by: str | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def may_write(self) -> bool:
        return self.scope == "write"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _event(key_id: str, action: str, name: str, scope: str, digest: str, actor: str) -> pl.DataFrame:
    row = {
        "key_id": key_id,
        "action": action,
        "name": name,
        "scope": scope,
        "secret_sha256": digest,
        "actor": actor,
        "event_at": _now(),
    }
    return pl.DataFrame([row], schema=polars_schema(API_KEYS.columns))


# Every key with its create and (when revoked) revoke event; the secret's digest only for checking.
_KEYS_SQL = """
select c.key_id, c.name, c.scope, c.secret_sha256, c.actor as created_by, c.event_at as created_at,
       r.actor as revoked_by, r.event_at as revoked_at
from api_keys as c
left join api_keys as r on r.key_id = c.key_id and r.action = 'revoke'
where c.action = 'create'
"""


def _key(row: dict) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        name=row["name"],
        scope=row["scope"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        revoked_by=row["revoked_by"],
        revoked_at=row["revoked_at"],
    )


def check_name(name: str) -> str:
    text = (name or "").strip()
    if not text:
        raise ApiKeyError("name: required (who or what uses the key, e.g. crm-sync)")
    if len(text) > MAX_NAME_CHARS:
        raise ApiKeyError(f"name: {len(text)} characters, at most {MAX_NAME_CHARS}")
    if any(ord(ch) < 32 for ch in text):
        raise ApiKeyError("name: contains a control character")
    return text


def create_key(warehouse: WarehouseOperations, name: str, scope: str, actor: str) -> tuple[ApiKey, str]:
    """Record a new key; return it and the full key text, which is never stored and cannot be shown again."""
    stored_name = check_name(name)
    if scope not in SCOPES:
        raise ApiKeyError(f"scope: {scope!r} is not one of {', '.join(SCOPES)}")
    who = (actor or "").strip() or "unknown"
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    warehouse.append(API_KEYS.name, _event(key_id, "create", stored_name, scope, _digest(secret), who))
    key = ApiKey(key_id=key_id, name=stored_name, scope=scope, created_by=who, created_at=_now())
    return key, f"{KEY_PREFIX}{key_id}_{secret}"


def list_keys(warehouse: WarehouseOperations) -> list[ApiKey]:
    """Every key, active or revoked, oldest first."""
    frame = warehouse.read(_KEYS_SQL + "order by c.event_at, c.key_id")
    return [_key(row) for row in frame.iter_rows(named=True)]


def revoke_key(warehouse: WarehouseOperations, key_id: str, actor: str) -> ApiKey:
    """Record a ``revoke`` event for an active key; requests with it are refused from then on."""
    with warehouse.transaction() as tx:
        frame = tx.read(_KEYS_SQL + "and c.key_id = $1", [key_id])
        if frame.is_empty():
            raise ApiKeyError(f"key {key_id!r}: no such key (see `scout api-key list`)")
        key = _key(frame.row(0, named=True))
        if not key.active:
            raise ApiKeyError(f"key {key_id!r}: already revoked at {key.revoked_at:%Y-%m-%d %H:%M} UTC")
        who = (actor or "").strip() or "unknown"
        tx.append(API_KEYS.name, _event(key_id, "revoke", key.name, key.scope, "", who))
    return replace(key, revoked_by=who, revoked_at=_now())


def split_key(token: str) -> tuple[str, str]:
    """``(key id, secret)`` of a key's text, else ``ApiKeyRejected`` (the text is never quoted back)."""
    text = (token or "").strip()
    if len(text) > _MAX_TOKEN_CHARS or not text.startswith(KEY_PREFIX):
        raise ApiKeyRejected("the API key is not a Scout key (scout_<id>_<secret>)")
    key_id, _, secret = text.removeprefix(KEY_PREFIX).partition("_")
    if not _KEY_ID.match(key_id) or not secret:
        raise ApiKeyRejected("the API key is not a Scout key (scout_<id>_<secret>)")
    return key_id, secret


def authenticate(warehouse: WarehouseOperations, token: str) -> ApiKey:
    """The key ``token`` is, when its secret matches and it is not revoked; else ``ApiKeyRejected``."""
    key_id, secret = split_key(token)
    frame = warehouse.read(_KEYS_SQL + "and c.key_id = $1", [key_id])
    # Compare against a digest even for an unknown id, so timing does not tell which ids exist.
    stored = frame["secret_sha256"][0] if frame.height else _digest(secrets.token_urlsafe(32))
    if not hmac.compare_digest(stored, _digest(secret)) or frame.is_empty():
        raise ApiKeyRejected("the API key is wrong or unknown")
    key = _key(frame.row(0, named=True))
    if not key.active:
        raise ApiKeyRejected(f"the API key {key.key_id} was revoked", revoked=True)
    return key
