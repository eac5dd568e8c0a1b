"""The plain-text summary ``scout run`` prints: what was found today, and where to look next."""

from __future__ import annotations

from datetime import date

from resources.warehouse import Warehouse
from scout_assets.resources_binding import open_warehouse

PER_PLATFORM_SQL = """
select p.platform,
       (select count(*) from raw_searches r where r.platform = p.platform and r.partition_date = $1) as pages_today,
       (select count(*) from api_calls c where c.platform = p.platform and c.partition_date = $1) as api_calls_today,
       (select count(*) from profiles a where a.platform = p.platform) as profiles_total,
       (select count(*) from profiles a where a.platform = p.platform and a.first_partition_date = $1) as first_seen_today,
       (select avg(s.has) from has_scores s where s.platform = p.platform and s.partition_date = $1) as mean_has_today,
       (select count(distinct q.platform_id) from profiles_to_score q where q.platform = p.platform) as queued
from (select distinct platform from profiles) p
order by p.platform
"""

TOP_QUEUED_SQL = """
select q.platform, q.handle, q.has, q.likely_is, a.followers, a.bio
from profiles_to_score q join profiles a on a.platform = q.platform and a.platform_id = q.platform_id
where q.partition_date = $1
order by q.has desc, q.handle
limit 8
"""


LABELS_SQL = """
select model, audience,
       sum(case when label then 1 else 0 end) as n_true,
       sum(case when not label then 1 else 0 end) as n_false,
       sum(case when label is null then 1 else 0 end) as n_null
from llm_labels where partition_date = $1
group by model, audience order by model, audience
"""

KEYWORDS_SQL = """
select platform, keyword, new_profiles, share_above_threshold, labels_true
from keyword_stats where day = $1
order by labels_true desc, new_profiles desc, platform, keyword
limit 6
"""


def print_summary(day: date, warehouse: Warehouse | None = None, plan_id: str | None = None) -> None:
    """What the day holds; with ``plan_id`` (a ``scout run``'s recorded plan) also estimate vs actual."""
    warehouse = warehouse or open_warehouse()
    per_platform = warehouse.read(PER_PLATFORM_SQL, [day])
    print()
    print(f"Scout summary for {day} — warehouse {warehouse.describe()}")
    print(
        f"{'platform':<9} {'pages':>6} {'calls':>6} {'profiles':>9} {'new':>5} {'mean HAS':>9} {'queued':>7}"
    )
    for row in per_platform.iter_rows(named=True):
        mean = f"{row['mean_has_today']:.3f}" if row["mean_has_today"] is not None else "-"
        print(
            f"{row['platform']:<9} {row['pages_today']:>6} {row['api_calls_today']:>6} {row['profiles_total']:>9} "
            f"{row['first_seen_today']:>5} {mean:>9} {row['queued']:>7}"
        )
    top = warehouse.read(TOP_QUEUED_SQL, [day])
    if top.height:
        print("\nTop of today's labeling queue:")
        for row in top.iter_rows(named=True):
            bio = (row["bio"] or "").replace("\n", " ")[:70]
            print(
                f"  {row['platform']:<8} @{row['handle']:<24} HAS {row['has']:.3f} {row['likely_is']:<8} "
                f"{row['followers'] or 0:>7} followers  {bio}"
            )
    labels = warehouse.read(LABELS_SQL, [day])
    if labels.height:
        print("\nLabels of today's queue (model, audience: true / false / uncertain):")
        for row in labels.iter_rows(named=True):
            print(
                f"  {row['model']:<18} {row['audience']:<24} {row['n_true']:>4} / {row['n_false']:>4} / {row['n_null']:>4}"
            )
    print_local_labelers(warehouse)
    keywords = warehouse.read(KEYWORDS_SQL, [day])
    if keywords.height:
        print("\nBest keywords today (new profiles, share above the HAS threshold, true labels):")
        for row in keywords.iter_rows(named=True):
            share = row["share_above_threshold"] or 0
            print(
                f"  {row['platform']:<8} {row['keyword']:<32} {row['new_profiles']:>4} new  {share:>5.0%} above  "
                f"{row['labels_true']:>3} true"
            )
    if plan_id is not None:
        from scout_cli.plan import print_plan_comparison

        print_plan_comparison(warehouse, plan_id)
    print(
        "\nMarts for dashboards: bash infra/scripts/dashboard.sh → http://127.0.0.1:8501; "
        "dbt docs: bash infra/scripts/dbt_docs.sh → http://127.0.0.1:8080"
    )
    print(
        "Open the Dagster UI (asset lineage, runs, backfills): bash infra/scripts/ui.sh → http://127.0.0.1:3000"
    )


def print_local_labelers(warehouse: Warehouse) -> None:
    """Which local labeler the cascade starts with, per active audience: a fit, or zero-shot and why.

    An audience without reviews falls back to the zero-shot rule; the line says so and how to add
    reviews, because that is the one thing that makes the free labeler worth trusting.
    """
    from scout_assets.labeling.labeler_store import resolve_local_labeler
    from scout_assets.labeling.settings import load_labeling_settings
    from scout_assets.resources_binding import build_archive
    from scout_contract.audience import load_audiences

    settings = load_labeling_settings()
    audiences = load_audiences()
    archive = build_archive()
    print("\nLocal labeler (the cascade's first step), per audience:")
    for key in settings.audiences:
        resolved = resolve_local_labeler(warehouse, archive, audiences[key], settings.cascade.defer_threshold)
        print(f"  {key}: {resolved.source}")
