"""``keywords``: the keyword list of one platform with each keyword's state at the end of a day.

One row is one keyword on one platform as of a partition day: whether it is still valid,
exhausted or stopped (``state_reason`` "stopped at page N: repeating cursor ...": the platform
kept pointing back at pages already fetched), and which cursor and page come next. The list comes from the checked-in
``scout_assets/config/keywords.csv``; the state is derived from the ``raw_searches``
ledger up to the end of the day, so any past day's state can be rebuilt and a re-run
replaces exactly its partition with the same rows.
"""

from datetime import date, datetime, timedelta

import dagster as dg
import polars as pl

from resources.warehouse import Warehouse
from scout_assets.assets.common import INGEST_FRESHNESS, INGEST_GROUP, OWNERS, partition_of
from scout_assets.config_files import ConfigFiles
from scout_assets.domain.keyword_rules import load_keyword_rules
from scout_assets.domain.keyword_state import LEDGER_COLUMNS, keyword_states
from scout_assets.domain.keyword_stats import feedback
from scout_assets.partitions import daily_platform_partitions, day_end
from scout_contract.tables import KEYWORDS, polars_schema


def stored_feedback(warehouse: Warehouse, platform: str, until: date) -> pl.DataFrame:
    """The feedback rules applied to the stored daily stats of the window ending before ``until``."""
    rules = load_keyword_rules()
    history = warehouse.read(
        "select * from keyword_stats where platform = $1 and day >= $2 and day < $3",
        [platform, until - timedelta(days=rules.window_days), until],
    )
    return feedback(history, rules)


def stored_pages(warehouse: Warehouse, platform: str, until: datetime | None) -> pl.DataFrame:
    """The ledger columns keyword state needs, for pages fetched before ``until`` (all when None)."""
    sql = (
        "select keyword, page, cursor_in, cursor_out, stop_reason, fetched_at from raw_searches"
        " where platform = $1"
    )
    params: list = [platform]
    if until is not None:
        sql += " and fetched_at < $2"
        params.append(until)
    return warehouse.read(sql, params).cast(LEDGER_COLUMNS)


@dg.asset(
    key="keywords",
    partitions_def=daily_platform_partitions,
    group_name=INGEST_GROUP,
    owners=OWNERS,
    freshness_policy=INGEST_FRESHNESS,
    kinds={"python", "csv"},
    description=__doc__,
)
def keywords(
    context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: ConfigFiles
) -> dg.MaterializeResult:
    day, platform = partition_of(context)
    warehouse.ensure_schema()
    entries = config_files.keyword_entries()  # a broken file fails here, naming the file and line
    states = keyword_states(
        entries,
        platform,
        stored_pages(warehouse, platform, until=day_end(day)),
        stored_feedback(warehouse, platform, until=day + timedelta(days=1)),
    )
    frame = states.with_columns(pl.lit(day).alias("partition_date")).select(KEYWORDS.column_names)
    frame = frame.cast(polars_schema(KEYWORDS.columns))
    written = warehouse.replace_partition("keywords", frame, {"partition_date": day, "platform": platform})
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "keyword_file": config_files.keyword_file,
            "still_valid": int(frame["still_valid"].sum()),
            "exhausted": int(frame["exhausted"].sum()),
            "stopped": int(states["stopped"].sum()),
            "never_searched": int((frame["pages_searched"] == 0).sum()),
            "disabled": int((~frame["enabled"]).sum()),
        }
    )
