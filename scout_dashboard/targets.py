"""One warehouse URL, two readers of the marts: dbt and the dashboard.

Scout has a single switch for where data lives, ``SCOUT_WAREHOUSE_URL`` (empty: the DuckDB
file under ``data_dir()``; ``postgresql://...``: PostgreSQL). dbt's profile
(``dbt_project/profiles.yml``) cannot parse a URL, so ``dbt_env`` turns the URL into the
handful of variables the profile reads. The password goes into
``DBT_ENV_SECRET_SCOUT_PG_PASSWORD``: dbt scrubs ``DBT_ENV_SECRET_*`` values from its logs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from resources.warehouse.location import (
    DUCKDB_FILE_NAME,
    WAREHOUSE_URL_ENV,
    WarehouseLocation,
    parse_warehouse_url,
)
from scout_contract.paths import PROJECT_ROOT, data_dir

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
MARTS_SCHEMA_ENV = "SCOUT_MARTS_SCHEMA"
DEFAULT_MARTS_SCHEMA = "analytics"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def warehouse_location(url: str | None = None) -> WarehouseLocation:
    """Where the warehouse is: ``url``, else ``SCOUT_WAREHOUSE_URL``, else the DuckDB default."""
    if url is None:
        url = os.environ.get(WAREHOUSE_URL_ENV)
    return parse_warehouse_url(url, lambda: data_dir() / DUCKDB_FILE_NAME)


def marts_schema() -> str:
    """The schema dbt builds models into (``SCOUT_MARTS_SCHEMA``, default ``analytics``)."""
    schema = os.environ.get(MARTS_SCHEMA_ENV, "").strip() or DEFAULT_MARTS_SCHEMA
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(
            f"{MARTS_SCHEMA_ENV}={schema!r} is not a plain lower-case schema name (letters, digits, _)"
        )
    return schema


def dbt_env(location: WarehouseLocation, schema: str | None = None) -> dict[str, str]:
    """Environment variables that point ``dbt_project/profiles.yml`` at ``location``.

    Merge them into the environment of a dbt process (``dbt build``, ``DbtCliResource``).
    The result may hold a password: pass it to the process, never print it.
    """
    env = {MARTS_SCHEMA_ENV: schema or marts_schema(), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    if location.kind == "duckdb":
        assert location.path is not None
        env.update(SCOUT_DBT_TARGET="duckdb", SCOUT_DUCKDB_PATH=str(Path(location.path).resolve()))
        return env
    assert location.dsn is not None
    parts = urlsplit(location.dsn)
    env.update(
        SCOUT_DBT_TARGET="postgres",
        SCOUT_PG_HOST=parts.hostname or "127.0.0.1",
        SCOUT_PG_PORT=str(parts.port or 5432),
        SCOUT_PG_USER=unquote(parts.username or "postgres"),
        SCOUT_PG_DBNAME=unquote(parts.path.lstrip("/")),
        DBT_ENV_SECRET_SCOUT_PG_PASSWORD=location.password or "",
    )
    return env


def shell_exports(env: dict[str, str]) -> str:
    """``export NAME='value'`` lines for ``eval`` in the infra scripts (values single-quoted)."""
    lines = []
    for name, value in env.items():
        quoted = "'" + value.replace("'", "'\"'\"'") + "'"
        lines.append(f"export {name}={quoted}")
    return "\n".join(lines)


def main() -> None:
    """Print the exports for the current ``SCOUT_WAREHOUSE_URL`` (used by infra/scripts)."""
    print(shell_exports(dbt_env(warehouse_location())))


if __name__ == "__main__":
    main()
