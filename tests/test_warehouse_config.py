"""Choosing the warehouse from a URL, keeping its password out of sight, binding it in Dagster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from resources.warehouse import Warehouse, WarehouseError, parse_warehouse_url
from resources.warehouse.location import mask_url
from scout_assets.resources_binding import open_warehouse
from scout_contract.tables import polars_schema, table

SECRET = "pa55:w/rd@x"  # has characters that must be URL-encoded in a DSN
SECRET_URL = "postgresql://scout:pa55%3Aw%2Frd%40x@127.0.0.1:1/scout"  # port 1: nothing listens


@pytest.mark.parametrize("url", ["", "   "])
def test_an_empty_url_is_refused_by_name(url: str) -> None:
    with pytest.raises(ValueError, match="warehouse url is empty"):
        parse_warehouse_url(url)


def test_default_duckdb_file_follows_scout_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCOUT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SCOUT_WAREHOUSE_URL", raising=False)
    warehouse = open_warehouse()
    assert warehouse.describe() == f"duckdb:{tmp_path / 'scout.duckdb'}"
    warehouse.ensure_schema()
    assert (tmp_path / "scout.duckdb").is_file()


def test_duckdb_url_names_an_absolute_file() -> None:
    location = parse_warehouse_url("duckdb:///srv/scout/wh.duckdb")
    assert (location.kind, location.path) == ("duckdb", Path("/srv/scout/wh.duckdb"))
    with pytest.raises(ValueError, match="absolute path"):
        parse_warehouse_url("duckdb://relative/wh.duckdb")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg2", "PostgreSQL"])
def test_postgres_urls_in_every_accepted_spelling(scheme: str) -> None:
    location = parse_warehouse_url(f"{scheme}://postgres@127.0.0.1:5432/scout?sslmode=disable")
    assert location.kind == "postgres"
    assert location.dsn == "postgresql://postgres@127.0.0.1:5432/scout?sslmode=disable"
    assert location.display == "postgresql://postgres@127.0.0.1:5432/scout"
    assert (location.host, location.port, location.user, location.database) == (
        "127.0.0.1",
        5432,
        "postgres",
        "scout",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "unsupported scheme 'mysql'"),
        ("/just/a/path.duckdb", "no scheme"),
        ("postgresql://u:pw@/db", "names no host"),
        ("postgresql://u:pw@host:5432", "names no database"),
        ("postgresql://u:pw@host:notaport/db", "invalid port"),
    ],
)
def test_bad_urls_are_rejected_without_echoing_a_password(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        parse_warehouse_url(url)
    assert ":pw@" not in str(raised.value)


def test_password_never_shows_in_describe_repr_or_errors() -> None:
    warehouse = Warehouse(url=SECRET_URL)
    assert warehouse.describe() == "postgresql://scout:***@127.0.0.1:1/scout"
    for text in (warehouse.describe(), repr(warehouse), str(warehouse), repr(warehouse.location)):
        assert "pa55" not in text
    # A real connection attempt to a closed loopback port: the driver's error must be scrubbed.
    with pytest.raises(WarehouseError) as raised:
        warehouse.read("SELECT 1")
    error = raised.value
    assert "127.0.0.1:1/scout" in str(error)
    chained = [error, error.__cause__, error.__context__]
    for exc in chained:
        if exc is not None:
            assert "pa55" not in str(exc) and "pa55" not in repr(exc.args)
    assert error.__suppress_context__


def test_mask_url_hides_password_and_query() -> None:
    assert mask_url("postgres://u:secret@h:1/db?password=secret") == "postgres://u:***@h:1/db"


def test_the_binding_reads_scout_warehouse_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOUT_WAREHOUSE_URL", "postgres://scout@db.internal:5432/scout")
    warehouse = open_warehouse()
    assert (warehouse.kind, warehouse.describe()) == ("postgres", "postgresql://scout@db.internal:5432/scout")


def test_dagster_binds_the_resource_from_an_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The shape Definitions will use: url=EnvVar(...), an asset writing a partition through it."""
    monkeypatch.setenv("SCOUT_WAREHOUSE_URL", f"duckdb://{tmp_path / 'dagster.duckdb'}")
    day = dt.date(2026, 3, 1)

    @dg.asset
    def keywords_today(warehouse: Warehouse) -> dg.MaterializeResult:
        warehouse.ensure_schema()
        frame = pl.DataFrame(
            [{"platform": "bluesky", "keyword": "ai", "partition_date": day}],
            schema=polars_schema(table("keywords").columns),
        )
        rows = warehouse.replace_partition("keywords", frame, {"partition_date": day, "platform": "bluesky"})
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "warehouse": warehouse.describe()})

    result = dg.materialize(
        [keywords_today], resources={"warehouse": Warehouse(url=dg.EnvVar("SCOUT_WAREHOUSE_URL"))}
    )
    assert result.success
    materialization = result.asset_materializations_for_node("keywords_today")[0]
    assert materialization.metadata["dagster/row_count"].value == 1
    assert open_warehouse().read_table("keywords")["keyword"].to_list() == ["ai"]
