"""Errors the warehouse raises on purpose, so callers can tell them from bugs.

Bad input (a frame or filter that does not fit a table) is a plain ``ValueError``; these
classes cover the warehouse itself: it could not be reached, it is locked, or its tables
disagree with ``schema.py``. Every message names the warehouse by its masked
``describe()`` string, never by a URL that could carry a password.
"""

from __future__ import annotations


class WarehouseError(RuntimeError):
    """The warehouse could not do what was asked (connection, SQL or schema trouble)."""


class WarehouseLockedError(WarehouseError):
    """Another process kept the DuckDB file locked for longer than the retry budget."""


class WarehouseSchemaError(WarehouseError):
    """An existing table has a column whose type differs from the one ``schema.py`` declares."""
