"""Jobs over the asset graph; partitioned like the assets they select."""

from __future__ import annotations

import dagster as dg

from scout_assets.partitions import daily_platform_partitions

MAIN_ASSETS = ["keywords", "raw_searches", "profiles", "has_scores", "profiles_to_score"]

# One run = one day x platform: keyword states, the next search pages, and everything
# derived from them. The 15-minute schedule and the README's run command both launch it.
scout_main_job = dg.define_asset_job(
    name="scout_main",
    selection=dg.AssetSelection.assets(*MAIN_ASSETS),
    partitions_def=daily_platform_partitions,
    description="Search the next keyword pages of one platform and re-derive the day's profiles, HAS and queue.",
)

# Re-derives a day from stored raw pages only: what a backfill after a parser or HAS change runs.
rederive_job = dg.define_asset_job(
    name="scout_rederive",
    selection=dg.AssetSelection.assets("profiles", "has_scores", "profiles_to_score"),
    partitions_def=daily_platform_partitions,
    description="Rebuild profiles, HAS and the queue of past partitions from stored raw responses; no API call.",
)
