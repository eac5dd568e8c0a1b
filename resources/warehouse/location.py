"""Where the warehouse lives, parsed from one URL, with a password-free description.

``SCOUT_WAREHOUSE_URL`` is the only switch between the embedded default (a DuckDB file
under the data folder) and production (PostgreSQL). The raw URL may hold a password, so it is
kept in one field that nothing prints; everything meant for people (logs, errors, Dagster
metadata) uses ``display``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2")
_EXPECTED_FORMS = "expected duckdb:///abs/path.duckdb or postgresql://user@host:port/db"


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

    def dbt_profile_env(self, marts_schema: str) -> dict[str, str]:
        """The variables ``dbt_project/profiles.yml`` reads to build into ``marts_schema`` here.

        A dbt profile cannot take a URL, so the parts parsed above are handed over one by one.
        The password goes into ``DBT_ENV_SECRET_SCOUT_PG_PASSWORD``: dbt scrubs the values of
        ``DBT_ENV_SECRET_*`` variables from its logs and artifacts. The result may hold that
        password: give it to a dbt process's environment, never print it.
        """
        env = {"SCOUT_MARTS_SCHEMA": marts_schema}
        if self.kind == "duckdb":
            assert self.path is not None
            # Absolute: dbt runs in the project folder, not where the URL was written.
            return {**env, "SCOUT_DBT_TARGET": "duckdb", "SCOUT_DUCKDB_PATH": str(self.path.resolve())}
        return {
            **env,
            "SCOUT_DBT_TARGET": "postgres",
            "SCOUT_PG_HOST": self.host or "127.0.0.1",
            "SCOUT_PG_PORT": str(self.port or 5432),
            "SCOUT_PG_USER": self.user or "postgres",
            "SCOUT_PG_DBNAME": self.database or "",
            "DBT_ENV_SECRET_SCOUT_PG_PASSWORD": self.password or "",
        }


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


def parse_warehouse_url(url: str) -> WarehouseLocation:
    """Parse a warehouse URL (``duckdb:///abs/path`` or ``postgresql://...``); errors hide the password."""
    if url is None or not url.strip():
        raise ValueError(f"warehouse url is empty; {_EXPECTED_FORMS}")
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
