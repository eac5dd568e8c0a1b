-- One row per keyword x platform x day: what searching the keyword yielded and cost, its
-- search state at the end of the day, and whether its yield of new profiles is rising.
-- The counts and costs come from keyword_stats (the Python asset that attributes API and
-- labeling cost to keywords); this mart adds the ratios, the day's keyword state and a trend
-- that looks back 14 days in the source, so an incremental run needs only its window, plus
-- the days and keywords on which the accounts reviewed in the window were sighted: reviews carry
-- no partition day, and a new review changes labels_confirmed_true of those older rows.
-- Costs include everything: keyword_stats prices every API request (api_calls.cost_usd) and
-- shares every LLM call attempt, failed and malformed ones included, among the profiles it
-- carried (the model-call ledger); cost per reviewer-confirmed true label divides by the day's
-- accounts of the keyword whose latest review (any audience) is true, as of this build.
{{
    config(
        materialized='incremental',
        unique_key=['platform', 'keyword', 'day'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

{% if is_incremental() %}
reviewed_days as (
    select distinct sightings.platform, sightings.keyword, sightings.partition_date as day
    from {{ ref('stg_profile_sightings') }} as sightings
    inner join {{ ref('stg_reviews') }} as reviews
        on reviews.platform = sightings.platform and reviews.platform_id = sightings.platform_id
    where {{ in_partition_window('cast(reviews.reviewed_at as date)') }}
),
{% endif %}

stats as (
    select keyword_stats.*
    from {{ ref('stg_keyword_stats') }} as keyword_stats
    {% if is_incremental() %}
    where {{ in_partition_window('keyword_stats.day') }}
    or exists (
        select 1 from reviewed_days
        where reviewed_days.platform = keyword_stats.platform
        and reviewed_days.keyword = keyword_stats.keyword
        and reviewed_days.day = keyword_stats.day
    )
    {% endif %}
),

history as (
    select platform, keyword, day, new_profiles from {{ ref('stg_keyword_stats') }}
),

trend_windows as (
    -- New profiles in the 7 days ending on the row's day, and in the 7 days before those.
    select
        stats.platform,
        stats.keyword,
        stats.day,
        {{ sum_as_bigint(
            "case when " ~ dbt.datediff('history.day', 'stats.day', 'day') ~ " < 7 then history.new_profiles else 0 end"
        ) }} as new_profiles_7d,
        {{ sum_as_bigint(
            "case when " ~ dbt.datediff('history.day', 'stats.day', 'day') ~ " >= 7 then history.new_profiles else 0 end"
        ) }} as new_profiles_prev_7d
    from stats
    inner join history
        on history.platform = stats.platform
        and history.keyword = stats.keyword
        and history.day <= stats.day
        and {{ dbt.datediff('history.day', 'stats.day', 'day') }} < 14
    group by stats.platform, stats.keyword, stats.day
),

confirmed as (
    select sightings.platform, sightings.keyword, sightings.partition_date as day,
           count(distinct sightings.platform_id) as labels_confirmed_true
    from {{ ref('stg_profile_sightings') }} as sightings
    inner join (
        select distinct platform, platform_id from {{ ref('stg_reviews') }}
        where verdict = 'match' and platform_id is not null
    ) as reviewed
        on reviewed.platform = sightings.platform and reviewed.platform_id = sightings.platform_id
    {% if is_incremental() %}
    where {{ in_partition_window('sightings.partition_date') }}
    or exists (
        select 1 from reviewed_days
        where reviewed_days.platform = sightings.platform
        and reviewed_days.keyword = sightings.keyword
        and reviewed_days.day = sightings.partition_date
    )
    {% endif %}
    group by sightings.platform, sightings.keyword, sightings.partition_date
),

state as (
    select platform, keyword, partition_date as day, tags, enabled, pages_searched
    from {{ ref('stg_keywords') }}
),

final as (
    select
        stats.platform,
        stats.keyword,
        stats.day,
        state.tags,
        state.enabled,
        stats.searches,
        stats.pages,
        stats.api_calls,
        stats.api_errors,
        stats.profiles_returned,
        stats.unique_profiles,
        stats.new_profiles,
        {{ safe_ratio('stats.new_profiles', 'stats.pages') }} as new_per_page,
        stats.duplicate_rate,
        stats.mean_has,
        stats.share_above_threshold,
        stats.labels_true,
        stats.labels_false,
        stats.labels_null,
        {{ safe_ratio('stats.labels_true', 'stats.labels_true + stats.labels_false') }} as true_label_rate,
        stats.api_cost_usd,
        stats.label_cost_usd,
        stats.cost_usd,
        {{ safe_ratio('stats.cost_usd', 'stats.new_profiles') }} as cost_per_new_profile,
        {{ safe_ratio('stats.cost_usd', 'stats.labels_true') }} as cost_per_true_label,
        coalesce(confirmed.labels_confirmed_true, 0) as labels_confirmed_true,
        {{ safe_ratio('stats.cost_usd', 'confirmed.labels_confirmed_true') }} as cost_per_confirmed_true_label,
        stats.still_valid,
        stats.exhausted,
        stats.state_reason,
        coalesce(state.pages_searched, 0) as pages_searched_total,
        trend_windows.new_profiles_7d,
        trend_windows.new_profiles_prev_7d,
        case
            when trend_windows.new_profiles_prev_7d = 0 and trend_windows.new_profiles_7d = 0 then 'flat'
            when trend_windows.new_profiles_prev_7d = 0 then 'new'
            when trend_windows.new_profiles_7d
                 > trend_windows.new_profiles_prev_7d * (1 + {{ var('trend_tolerance') }}) then 'rising'
            when trend_windows.new_profiles_7d
                 < trend_windows.new_profiles_prev_7d * (1 - {{ var('trend_tolerance') }}) then 'falling'
            else 'flat'
        end as trend
    from stats
    inner join trend_windows
        on trend_windows.platform = stats.platform
        and trend_windows.keyword = stats.keyword
        and trend_windows.day = stats.day
    left join state
        on state.platform = stats.platform
        and state.keyword = stats.keyword
        and state.day = stats.day
    left join confirmed
        on confirmed.platform = stats.platform
        and confirmed.keyword = stats.keyword
        and confirmed.day = stats.day
)

select * from final
