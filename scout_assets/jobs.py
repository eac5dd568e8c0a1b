"""Jobs over the asset graph; partitioned like the assets they select."""

from __future__ import annotations

import warnings

import dagster as dg

from scout_assets.assets import dbt
from scout_assets.assets.lead_exports import lead_export_partitions
from scout_assets.partitions import (
    audience_partitions,
    daily_model_partitions,
    daily_partitions,
    daily_platform_partitions,
)

MAIN_ASSETS = ["keywords", "raw_searches", "profiles", "has_scores", "profiles_to_score"]

# The main job mixes raw_searches (one partition per run: it calls the APIs) with derived
# assets that batch partitions in backfills; Dagster warns that the job then backfills one
# partition per run, which is exactly what a job that searches must do.
warnings.filterwarnings(
    "ignore", message="Asset job scout_main materializes assets with varying BackfillPolicies"
)

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

# One run = one day x model: work that model's pending units of the day's queue.
label_job = dg.define_asset_job(
    name="scout_label",
    selection=dg.AssetSelection.assets("llm_labels"),
    partitions_def=daily_model_partitions,
    description="Label the day's queued profiles with one model against the active audiences.",
)

keyword_stats_job = dg.define_asset_job(
    name="scout_keyword_stats",
    selection=dg.AssetSelection.assets("keyword_stats"),
    partitions_def=daily_partitions,
    description="Recompute one day's keyword statistics and the keyword engine's verdicts.",
)

# The dbt build, in three steps because a job holds one partitions definition: the
# unpartitioned models (staging views, full-refresh marts), the incremental marts of a day (or
# a range, in one run), and the docs site.
dbt_models_job = dg.define_asset_job(
    name="scout_dbt_models",
    selection=dg.AssetSelection.assets(*dbt.scout_dbt_models.keys),
    description="Build the staging views and the full-refresh marts.",
)
dbt_marts_job = dg.define_asset_job(
    name="scout_dbt_marts",
    selection=dg.AssetSelection.assets(*dbt.scout_dbt_incremental.keys),
    partitions_def=daily_partitions,
    description="Build the incremental marts over a day's window (a range backfills in one run).",
)
dbt_docs_job = dg.define_asset_job(
    name="scout_dbt_docs",
    selection=dg.AssetSelection.assets("dbt_docs"),
    description="Regenerate the dbt docs site.",
)

# One run = one audience version: fit the local labeler on its reviews (and run refit_not_worse).
# The refit sensor launches it when enough new reviews arrived; `scout labeler fit` is the CLI twin.
labeler_fit_job = dg.define_asset_job(
    name="scout_labeler_fit",
    selection=dg.AssetSelection.assets("local_labeler"),
    partitions_def=audience_partitions,
    description="Fit the local labeler on the latest reviews of one audience version and store it.",
)

# One run = one day x audience version: write the leads no export carried yet (docs/leads.md "Exports").
lead_exports_job = dg.define_asset_job(
    name="scout_lead_exports",
    selection=dg.AssetSelection.assets("lead_exports"),
    partitions_def=lead_export_partitions,
    description="Export one audience's new leads of the day to CSV, Parquet and JSON lines.",
)

ALL_JOBS = [
    scout_main_job,
    rederive_job,
    label_job,
    keyword_stats_job,
    dbt_models_job,
    dbt_marts_job,
    dbt_docs_job,
    labeler_fit_job,
    lead_exports_job,
]
