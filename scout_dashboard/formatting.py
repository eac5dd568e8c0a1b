"""How numbers read on the dashboard. Pure functions: the browser test formats the mart values
with these same functions and looks for the result in the page."""

from __future__ import annotations

import math

MISSING = "–"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value: int | float | None) -> str:
    """A count with thousands separators: 12,345."""
    return MISSING if _missing(value) else f"{int(value):,}"


def usd(value: float | None) -> str:
    """Dollars: cents above $1, up to six decimals below (a label can cost $0.000125)."""
    if _missing(value):
        return MISSING
    if abs(value) >= 1:
        return f"${value:,.2f}"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return f"${text}"


def percent(value: float | None) -> str:
    """A share in [0, 1] as a percentage with one decimal: 0.755 -> 75.5%."""
    return MISSING if _missing(value) else f"{value * 100:.1f}%"


def millis(value: float | None) -> str:
    """A latency in whole milliseconds: 385 ms."""
    return MISSING if _missing(value) else f"{value:,.0f} ms"


def escape_markdown(text: str) -> str:
    """Text inside Markdown (a handle, a name, an error): every punctuation character taken literally."""
    return "".join(f"\\{ch}" if not ch.isalnum() and not ch.isspace() else ch for ch in text)
