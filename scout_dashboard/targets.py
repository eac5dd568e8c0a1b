"""Which marts the dashboard reads: one warehouse location and one schema.

An entry point (``app.py``, ``screenshots.py``) builds a ``MartsTarget`` from its settings;
everything below it takes the target as an argument and never reads the environment. The
dashboard only reads the marts: how dbt builds them is not its business.
"""

from __future__ import annotations

from dataclasses import dataclass

from resources.warehouse.location import WarehouseLocation, parse_warehouse_url
from scout_contract.settings import ScoutSettings


@dataclass(frozen=True)
class MartsTarget:
    """The warehouse holding the marts and the schema dbt built them into."""

    location: WarehouseLocation
    schema: str

    def as_environ(self) -> dict[str, str]:
        """The variables that point another dashboard process here (the URL may hold a password)."""
        url = self.location.dsn if self.location.kind == "postgres" else f"duckdb://{self.location.path}"
        names = ScoutSettings.ENV_NAMES
        return {names["warehouse_url"]: str(url), names["marts_schema"]: self.schema}


def marts_target(settings: ScoutSettings) -> MartsTarget:
    """``SCOUT_WAREHOUSE_URL`` (unset: the DuckDB file under ``SCOUT_DATA_DIR``) and ``SCOUT_MARTS_SCHEMA``."""
    location = parse_warehouse_url(settings.resolved_warehouse_url())
    return MartsTarget(location=location, schema=settings.marts_schema)
