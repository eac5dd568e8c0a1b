"""Scout's warehouse: one interface over DuckDB (embedded) and PostgreSQL (production)."""

from resources.warehouse.errors import WarehouseError, WarehouseLockedError, WarehouseSchemaError
from resources.warehouse.location import WarehouseLocation, parse_warehouse_url
from resources.warehouse.operations import WarehouseClient
from resources.warehouse.resource import Warehouse
from resources.warehouse.transaction import WarehouseTransaction

__all__ = [
    "Warehouse",
    "WarehouseClient",
    "WarehouseError",
    "WarehouseLocation",
    "WarehouseLockedError",
    "WarehouseSchemaError",
    "WarehouseTransaction",
    "parse_warehouse_url",
]
