"""What every page shares: cached queries, the sidebar window and error display.

Every page gets the ``MartsTarget`` the entry point (``app.py``) built, and passes it on here.
Query results are cached for a minute (``st.cache_data``, keyed by the warehouse and the SQL),
so moving between pages or widgets does not re-open the warehouse for every rerun, and fresh
marts show up quickly.
"""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import polars as pl
import streamlit as st

from resources.warehouse.location import WarehouseLocation
from scout_dashboard import queries, review_queries
from scout_dashboard.targets import MartsTarget
from scout_leads.reader import MartReader, MartsUnavailable

CACHE_SECONDS = 60
# Ticks on whole days: the marts are daily, an hour on the axis would mean nothing.
DAY_AXIS = alt.Axis(format="%b %d", tickCount="day")
# Tables show a day as a day (Streamlit would add 00:00:00).
DAY_COLUMNS = {
    name: st.column_config.DateColumn(name, format="YYYY-MM-DD")
    for name in ("day", "last_day", "has_scored_on")
}
DEFAULT_DAYS = 30


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _read_cached(location: WarehouseLocation, sql: str, params: tuple) -> pl.DataFrame:
    return MartReader(location).read(queries.Query(sql, params))


@st.cache_resource(show_spinner=False)
def tables_ready(location: WarehouseLocation) -> bool:
    """Bring the warehouse's tables up to date once per dashboard process, before the first write."""
    review_queries.ensure_tables(location)
    return True


def read(target: MartsTarget, query: queries.Query) -> pl.DataFrame:
    """Run ``query`` on ``target``'s warehouse; when the marts cannot be read, say why and stop the page."""
    try:
        return _read_cached(target.location, query.sql, query.params)
    except MartsUnavailable as exc:
        st.warning(f"The marts cannot be read right now. {exc}", icon=":material/hourglass_empty:")
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers the function never returns None


def sidebar_window(target: MartsTarget) -> queries.Window:
    """Date range and platforms, shared by every page (the sidebar survives page changes)."""
    bounds = read(target, queries.data_range(target.schema))
    first, last = bounds["first_day"][0], bounds["last_day"][0]
    if first is None or last is None:
        st.info("The marts are empty: no partition has been materialized and built yet.")
        st.stop()
    default_start = max(first, last - timedelta(days=DEFAULT_DAYS - 1))
    with st.sidebar:
        st.caption(f"Warehouse: `{target.location.display}` · schema `{target.schema}`")
        picked = st.date_input(
            "Days", value=(default_start, last), min_value=first, max_value=last, key="window_days"
        )
        platforms = st.multiselect(
            "Platforms",
            options=list(queries.PLATFORMS),
            default=list(queries.PLATFORMS),
            key="window_platforms",
        )
    start, end = _as_range(picked, default_start, last)
    return queries.Window(start=start, end=end + timedelta(days=1), platforms=tuple(platforms))


def _as_range(picked: object, default_start: date, last: date) -> tuple[date, date]:
    """The date input gives one date while a range is half-picked; treat it as a one-day range."""
    if isinstance(picked, tuple | list):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], picked[0]
        return default_start, last
    if isinstance(picked, date):
        return picked, picked
    return default_start, last


def describe_window(window: queries.Window) -> str:
    last = window.end - timedelta(days=1)
    days = f"{window.start}" if window.start == last else f"{window.start} to {last}"
    return f"{days} · {', '.join(window.platforms) or 'no platform'}"


def daily_chart(frame: pl.DataFrame, columns: list[str], y_title: str, mark: str = "line") -> alt.Chart:
    """One series per column over ``day`` (dates on the axis, not hours); bars stack."""
    long = frame.select("day", *columns).unpivot(index="day", variable_name="series", value_name="value")
    day = alt.X("yearmonthdate(day):T", title=None, axis=DAY_AXIS)
    base = alt.Chart(long.to_pandas()).encode(
        x=day,
        y=alt.Y("value:Q", title=y_title, stack=True if mark == "bar" else None),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("yearmonthdate(day):T", title="day"), "series:N", "value:Q"],
    )
    chart = base.mark_bar() if mark == "bar" else base.mark_line(point=True)
    return chart.properties(height=280)
