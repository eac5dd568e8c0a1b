"""``Warehouse``: the Dagster resource every asset reads and writes tables through.

One interface, two backends chosen by a URL: the embedded default is a DuckDB file under
the data folder; production binds a PostgreSQL URL (``scout_assets.resources_binding``).
Assets hand over and get back polars frames shaped by ``schema.py``; this package is the
only code that spells SQL types or dialect differences.

Parameters in ``read``/``execute`` are positional ``$1, $2 ...`` on both backends. Bind
real Python types (``datetime.date`` for a date column, not ``"2026-03-01"``) or cast the
placeholder (``$1::DATE``): PostgreSQL types a Python ``str`` as ``text``. The methods that
take a ``where`` mapping do this for you.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from resources.warehouse.location import WarehouseLocation, parse_warehouse_url
from resources.warehouse.operations import WarehouseOperations


class Warehouse(WarehouseOperations, dg.ConfigurableResource):
    """Scout's warehouse: DuckDB (embedded default) or PostgreSQL (production).

    The operations are ``WarehouseOperations`` (resources/warehouse/operations.py); the resource
    adds the configured URL, so Dagster can bind it from the environment.
    """

    url: str = Field(
        repr=False,  # may carry a password
        description=(
            "duckdb:///abs/path.duckdb: that file. postgresql://user[:password]@host:port/db: PostgreSQL "
            "(bind with EnvVar('SCOUT_WAREHOUSE_URL')). The binding chooses the embedded default."
        ),
    )
    duckdb_lock_timeout_seconds: float = Field(
        default=60.0,
        description="How long to keep retrying while another process holds the DuckDB file lock.",
    )

    @property
    def location(self) -> WarehouseLocation:
        return parse_warehouse_url(self.url)
