"""Bring the database's tables in line with ``schema.py`` without losing data.

Missing tables are created (primary key = ``Table.key``, plus the declared indexes);
columns that ``schema.py`` gained later are added with ``ALTER TABLE ... ADD COLUMN`` (null
in old rows). A column whose stored type differs from the declared one is an error, not
something to fix silently: converting data is a decision for a person. Columns the
database has but ``schema.py`` no longer lists are left alone (reads and writes name
columns explicitly, so they are simply ignored).
"""

from __future__ import annotations

import resources.warehouse.sql as sql
from resources.warehouse.backend import Session
from resources.warehouse.errors import WarehouseSchemaError
from scout_contract.tables import TABLES, Table


def sync_schema(session: Session, display: str, tables: dict[str, Table] = TABLES) -> list[str]:
    """Create or extend every table; return the DDL statements that changed something."""
    session.lock_schema()
    catalog = session.read(sql.CATALOG_COLUMNS)
    existing: dict[str, dict[str, str]] = {}
    for row in catalog.iter_rows(named=True):
        existing.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]

    changes: list[str] = []
    for table in tables.values():
        stored = existing.get(table.name)
        if stored is None:
            statement = sql.create_table(session.dialect, table)
            session.execute(statement)
            changes.append(statement)
        else:
            for column, logical in table.columns:
                found = stored.get(column)
                if found is None:
                    statement = sql.add_column(session.dialect, table, column, logical)
                    session.execute(statement)
                    changes.append(statement)
                elif found != session.dialect.catalog_types[logical]:
                    raise WarehouseSchemaError(
                        f"warehouse {display}: table {table.name!r} column {column!r} is stored as {found!r} "
                        f"but schema.py declares {logical} ({session.dialect.ddl_type(logical)}); "
                        "migrate it by hand, ensure_schema never converts data"
                    )
        for columns in table.indexes:
            session.execute(sql.create_index(table, columns))
    return changes
