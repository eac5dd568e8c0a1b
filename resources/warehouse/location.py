"""Where the warehouse lives, parsed from one URL, with a password-free description.

``SCOUT_WAREHOUSE_URL`` is the only switch between the embedded default (a DuckDB file
under ``data_dir()``) and production (PostgreSQL). The raw URL may hold a password, so it is
kept in one field that nothing prints; everything meant for people (logs, errors, Dagster
metadata) uses ``display``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

WAREHOUSE_URL_ENV = "SCOUT_WAREHOUSE_URL"
DUCKDB_FILE_NAME = "scout.duckdb"

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2")
_EXPECTED_FORMS = (
    "expected nothing (DuckDB under data_dir()), duckdb:///abs/path.duckdb or postgresql://user@host:port/db"
)


@dataclass(frozen=True)
class WarehouseLocation:
    """A parsed warehouse URL.

    ``dsn`` is the libpq URI (``postgresql://...``) and may contain a password: pass it to the
    driver only. ``display`` is the same place with the password masked. ``host``, ``port``,
    ``user`` and ``database`` are there for tools that want parts, such as a dbt profile.
    """

    kind: Literal["duckdb", "postgres"]
    display: str
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    database: str | None = None
    dsn: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    def scrub(self, text: str) -> str:
        """Remove the password (plain or URL-encoded) from ``text``, e.g. a driver's error."""
        if not self.password:
            return text
        for secret in {self.password, quote(self.password, safe="")}:
            text = text.replace(secret, "***")
        return text


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` and the query dropped (it may hold one too)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable warehouse url>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, _password = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if sep else f"{user}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def parse_warehouse_url(url: str | None, default_duckdb_path: Callable[[], Path]) -> WarehouseLocation:
    """Parse a warehouse URL; ``None`` or blank means the DuckDB file at ``default_duckdb_path()``.

    The default path is a callable so that ``SCOUT_DATA_DIR`` is read when the warehouse is
    used, not when the resource is built (tests repoint it).
    """
    if url is None or not url.strip():
        path = default_duckdb_path()
        return WarehouseLocation(kind="duckdb", path=path, display=f"duckdb:{path}")
    url = url.strip()
    scheme, sep, _rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ValueError(f"warehouse url {mask_url(url)!r} has no scheme; {_EXPECTED_FORMS}")
    if scheme == "duckdb":
        return _parse_duckdb(url)
    if scheme in _POSTGRES_SCHEMES:
        return _parse_postgres(url)
    raise ValueError(f"warehouse url {mask_url(url)!r} has unsupported scheme {scheme!r}; {_EXPECTED_FORMS}")


def _parse_duckdb(url: str) -> WarehouseLocation:
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/"):
        raise ValueError(
            f"warehouse url {url!r}: a DuckDB url needs an absolute path after three slashes, "
            "e.g. duckdb:///srv/scout/scout.duckdb"
        )
    path = Path(unquote(parts.path))
    return WarehouseLocation(kind="duckdb", path=path, display=f"duckdb:{path}")


def _parse_postgres(url: str) -> WarehouseLocation:
    parts = urlsplit(url)
    masked = mask_url(url)
    if not parts.hostname:
        raise ValueError(f"warehouse url {masked!r} names no host")
    if not parts.path.strip("/"):
        raise ValueError(f"warehouse url {masked!r} names no database (postgresql://user@host:port/DBNAME)")
    try:
        port = parts.port or 5432
    except ValueError:
        raise ValueError(f"warehouse url {masked!r} has an invalid port") from None
    # libpq only knows postgresql:// and postgres://; drop SQLAlchemy's driver suffix.
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))
    password = unquote(parts.password) if parts.password else None
    display = mask_url(dsn)
    return WarehouseLocation(
        kind="postgres",
        display=display,
        dsn=dsn,
        password=password,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        database=unquote(parts.path.strip("/")),
    )
