"""Who is calling: the API key in ``Authorization: Bearer scout_<id>_<secret>``, its scope and its rate.

Every route depends on ``read_access`` or ``write_access``. The key is checked against the
``api_keys`` ledger on every request (scout_leads/api_keys.py), so a revoked key stops working at
once. The key text is never logged, stored or put in an error: messages name the key's id at most.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from scout_api.context import Context
from scout_api.errors import ApiError
from scout_leads.api_keys import ApiKey, ApiKeyRejected, authenticate

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ScoutApiKey",
    description="A key from `scout api-key create`: `Authorization: Bearer scout_<id>_<secret>`.",
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def current_key(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)], context: Context
) -> ApiKey:
    """The caller's active key: 401 when it is missing, not a key, wrong, unknown or revoked."""
    if credentials is None or not credentials.credentials:
        raise ApiError(
            401, "missing_api_key", "send an API key: Authorization: Bearer scout_<id>_<secret>", _CHALLENGE
        )
    try:
        return authenticate(context.warehouse, credentials.credentials)
    except ApiKeyRejected as exc:
        code = "revoked_api_key" if exc.revoked else "invalid_api_key"
        raise ApiError(401, code, str(exc), _CHALLENGE) from None


def read_access(key: Annotated[ApiKey, Depends(current_key)], context: Context) -> ApiKey:
    """Any active key, within its rate (429 with ``Retry-After`` past it)."""
    wait = context.limiter.check(key.key_id)
    if wait is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"key {key.key_id} made more than {context.limiter.per_minute} requests a minute; "
            f"retry in {wait} s",
            {"Retry-After": str(wait)},
        )
    return key


def write_access(key: Annotated[ApiKey, Depends(read_access)]) -> ApiKey:
    """A key with the write scope (403 for a read key)."""
    if not key.may_write:
        raise ApiError(403, "insufficient_scope", f"key {key.key_id} is a read key; this needs a write key")
    return key


ReadKey = Annotated[ApiKey, Depends(read_access)]
WriteKey = Annotated[ApiKey, Depends(write_access)]
