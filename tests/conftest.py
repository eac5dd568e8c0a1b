"""Fixtures shared by the whole suite: offline switches, a private data dir, warehouses.

Importing this module makes the test run offline and keeps it out of the project's
``data/``: ``SCOUT_DATA_DIR`` points at a temporary folder for the whole session.

Warehouse fixtures (real engines, no mocks):

* ``warehouse`` — parametrized over ``duckdb`` (a file in ``tmp_path``) and ``postgres``
  (a fresh database ``scout_test_<random>`` on the local server, dropped afterwards); the
  schema is already created. ``bare_warehouse`` is the same without tables.
* ``duckdb_warehouse`` / ``postgres_warehouse`` — one backend only, schema created.
* ``postgres_url`` — the URL of a fresh, empty database (for dbt or Dagster storage tests).

PostgreSQL cases carry ``pytest.mark.postgres``. When the server at
``SCOUT_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) is
unreachable they are skipped with the reason, except under ``CI=true``, where CI has the
server and a missing one must fail the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

for _name, _value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_name, _value)

# Set unconditionally (not setdefault): a developer's own SCOUT_DATA_DIR must not receive test data either.
_SESSION_DATA_DIR = Path(tempfile.mkdtemp(prefix="scout-test-data-"))
os.environ["SCOUT_DATA_DIR"] = str(_SESSION_DATA_DIR)

POSTGRES_ADMIN_URL = os.environ.get(
    "SCOUT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SESSION_DATA_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def scout_data_dir() -> Path:
    """The session's ``SCOUT_DATA_DIR`` (a temporary folder, removed at the end)."""
    return _SESSION_DATA_DIR


# --- PostgreSQL -----------------------------------------------------------------------------

_postgres_problem: list[str] = []  # filled once: "" when reachable, else the reason


def _postgres_unreachable_reason() -> str:
    if not _postgres_problem:
        import adbc_driver_postgresql.dbapi as pg

        from resources.warehouse.location import mask_url

        separator = "&" if "?" in POSTGRES_ADMIN_URL else "?"
        try:
            with (
                pg.connect(f"{POSTGRES_ADMIN_URL}{separator}connect_timeout=5", autocommit=True) as con,
                con.cursor() as cur,
            ):
                cur.execute("SELECT 1")
                cur.fetchall()
            _postgres_problem.append("")
        except Exception as exc:
            _postgres_problem.append(f"PostgreSQL at {mask_url(POSTGRES_ADMIN_URL)} is unreachable: {exc}")
    return _postgres_problem[0]


def _require_postgres() -> None:
    reason = _postgres_unreachable_reason()
    if not reason:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: CI runs a server, so this is a failure, not a skip)")
    pytest.skip(reason)


def _admin_execute(statement: str, params: list | None = None) -> None:
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(POSTGRES_ADMIN_URL, autocommit=True) as con, con.cursor() as cur:
        cur.execute(statement, params)


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a fresh database, yield its URL, then drop it (ending its connections first)."""
    _require_postgres()
    name = f"scout_test_{secrets.token_hex(6)}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(POSTGRES_ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        _admin_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [name],
        )
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Warehouses -----------------------------------------------------------------------------


@contextmanager
def _make_warehouse(kind: str, tmp_path: Path):
    from resources.warehouse import Warehouse

    if kind == "duckdb":
        yield Warehouse(url=f"duckdb://{tmp_path / 'warehouse.duckdb'}")
    else:
        with postgres_database() as url:
            yield Warehouse(url=url)


_BACKENDS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=_BACKENDS)
def bare_warehouse(request: pytest.FixtureRequest, tmp_path: Path):
    """A warehouse on each backend with no tables yet."""
    with _make_warehouse(request.param, tmp_path) as warehouse:
        yield warehouse


@pytest.fixture
def warehouse(bare_warehouse):
    """A warehouse on each backend with every ``schema.py`` table created."""
    bare_warehouse.ensure_schema()
    return bare_warehouse


@pytest.fixture
def duckdb_warehouse(tmp_path: Path):
    """A DuckDB warehouse (file in ``tmp_path``) with every table created."""
    with _make_warehouse("duckdb", tmp_path) as warehouse:
        warehouse.ensure_schema()
        yield warehouse


@pytest.fixture
def postgres_warehouse(tmp_path: Path):
    """A PostgreSQL warehouse on a fresh database with every table created."""
    with _make_warehouse("postgres", tmp_path) as warehouse:
        warehouse.ensure_schema()
        yield warehouse


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # postgres_warehouse and postgres_url are not parametrized, so mark their users here.
    for item in items:
        if {"postgres_warehouse", "postgres_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
    # Files with slow tests first (each keeping its own order): the two workers of test.sh take
    # whole files in this order, so the long ones start early instead of ending the run on one core.
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test (marks: postgres)."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def sandbox():
    """A fresh API sandbox on 127.0.0.1 for one test: its own faults and request log."""
    from scout_sandbox import SandboxServer

    with SandboxServer() as server:
        yield server
