"""SQL the lead readers build from people's filters: bound parameters, checked identifiers.

Values typed into the dashboard or sent to the API never become SQL text: each is bound as a
``$n`` parameter, a placeholder DuckDB and PostgreSQL (ADBC) both understand, and a schema name is
checked against a plain-identifier pattern. The SQL is plain ANSI that both engines run: ``||``,
``ILIKE ... ESCAPE``, ``NULLS LAST``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scout_contract.platforms import PLATFORMS

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Query:
    """SQL with ``$1, $2 ...`` placeholders and the values to bind, in order. Hashable (cache key)."""

    sql: str
    params: tuple[Any, ...] = ()


class Binder:
    """Collects parameter values and hands out their placeholders."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def in_list(self, column: str, values: Sequence[Any]) -> str:
        """``column in ($i, $j ...)``; an empty selection matches nothing (not everything)."""
        if not values:
            return "1 = 0"
        return f"{column} in ({', '.join(self(v) for v in values)})"


def check_schema(schema: str) -> str:
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"marts schema {schema!r} is not a plain lower-case identifier")
    return schema


def check_platforms(platforms: Sequence[str], what: str) -> tuple[str, ...]:
    unknown = sorted(set(platforms) - set(PLATFORMS))
    if unknown:
        raise ValueError(f"{what}: unknown platform(s) {unknown}; known: {list(PLATFORMS)}")
    return tuple(platforms)


def contains_pattern(text: str) -> str:
    """An ``ILIKE ... ESCAPE '\\'`` pattern matching ``text`` anywhere, wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
