-- One row per day x platform: how searching turned into leads.
--   pages searched -> profiles returned -> distinct accounts seen -> new accounts (first seen
--   that day) -> new accounts above the HAS queue threshold -> of those, labeled by any model
--   -> of those, labeled true by at least one model.
-- The last three stages follow the accounts that were new that day (a cohort): a label that
-- arrives days later still counts for the day the account was discovered. So an incremental
-- run recomputes the days of its window plus the discovery days of every account labeled in
-- the window, and `unique_key` replaces exactly those rows.
-- Cost of the day: every priced API request of the day's searches (api_calls.cost_usd) plus
-- every LLM call attempt for the day's queue, whatever its outcome (int_llm_profile_costs);
-- divided by the cohort's new profiles, true labels and reviewer-confirmed true labels (an
-- account whose latest review, for any audience, is true). Reviews given in the window
-- recompute their accounts' discovery days too.
{{
    config(
        materialized='incremental',
        unique_key=['day', 'platform'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

{% if is_incremental() %}
affected as (
    select partition_date as day, platform from {{ ref('stg_raw_searches') }}
    where {{ in_partition_window('partition_date') }}
    union
    select partition_date as day, platform from {{ ref('stg_profile_snapshots') }}
    where {{ in_partition_window('partition_date') }}
    union
    select profiles.first_partition_date as day, profiles.platform
    from {{ ref('stg_llm_labels') }} as labels
    inner join {{ ref('stg_profiles') }} as profiles
        on profiles.platform = labels.platform and profiles.platform_id = labels.platform_id
    where {{ in_partition_window('labels.partition_date') }}
    union
    select partition_date as day, platform from {{ ref('int_llm_profile_costs') }}
    where {{ in_partition_window('partition_date') }}
    union
    select profiles.first_partition_date as day, profiles.platform
    from {{ ref('stg_reviews') }} as reviews
    inner join {{ ref('stg_profiles') }} as profiles
        on profiles.platform = reviews.platform and profiles.platform_id = reviews.platform_id
    where {{ in_partition_window('cast(reviews.reviewed_at as date)') }}
),
{% endif %}

pages as (
    select
        searches.partition_date as day,
        searches.platform,
        count(*) as pages_searched,
        {{ sum_as_bigint('searches.result_count') }} as profiles_returned
    from {{ ref('stg_raw_searches') }} as searches
    {% if is_incremental() %}
    inner join affected on affected.day = searches.partition_date and affected.platform = searches.platform
    {% endif %}
    group by searches.partition_date, searches.platform
),

seen as (
    select snapshots.partition_date as day, snapshots.platform, count(*) as profiles_seen
    from {{ ref('stg_profile_snapshots') }} as snapshots
    {% if is_incremental() %}
    inner join affected on affected.day = snapshots.partition_date and affected.platform = snapshots.platform
    {% endif %}
    group by snapshots.partition_date, snapshots.platform
),

new_accounts as (
    select profiles.platform, profiles.platform_id, profiles.first_partition_date as day
    from {{ ref('stg_profiles') }} as profiles
    {% if is_incremental() %}
    inner join affected on affected.day = profiles.first_partition_date and affected.platform = profiles.platform
    {% endif %}
),

api_cost as (
    select calls.partition_date as day, calls.platform, sum(coalesce(calls.cost_usd, 0)) as api_cost_usd
    from {{ ref('stg_api_calls') }} as calls
    {% if is_incremental() %}
    inner join affected on affected.day = calls.partition_date and affected.platform = calls.platform
    {% endif %}
    group by calls.partition_date, calls.platform
),

llm_cost as (
    select costs.partition_date as day, costs.platform, sum(costs.cost_usd) as llm_cost_usd
    from {{ ref('int_llm_profile_costs') }} as costs
    {% if is_incremental() %}
    inner join affected on affected.day = costs.partition_date and affected.platform = costs.platform
    {% endif %}
    group by costs.partition_date, costs.platform
),

confirmed as (
    -- Accounts whose latest review, for some audience, is true.
    select distinct platform, platform_id from {{ ref('stg_reviews') }}
    where verdict = 'match' and platform_id is not null
),

label_outcomes as (
    -- Any model, any audience, any day: was the account labeled, and did anyone say match?
    select platform, platform_id, max(case when verdict = 'match' then 1 else 0 end) as has_match
    from {{ ref('stg_llm_labels') }}
    group by platform, platform_id
),

cohort_members as (
    select
        new_accounts.day,
        new_accounts.platform,
        coalesce(scores.is_queued, false) as is_queued,
        label_outcomes.platform_id is not null as is_labeled,
        coalesce(label_outcomes.has_match, 0) = 1 as is_match,
        confirmed.platform_id is not null as is_confirmed
    from new_accounts
    -- The score of the discovery day: the one that decided whether the account was queued.
    left join {{ ref('stg_has_scores') }} as scores
        on scores.platform = new_accounts.platform
        and scores.platform_id = new_accounts.platform_id
        and scores.partition_date = new_accounts.day
    left join label_outcomes
        on label_outcomes.platform = new_accounts.platform
        and label_outcomes.platform_id = new_accounts.platform_id
    left join confirmed
        on confirmed.platform = new_accounts.platform
        and confirmed.platform_id = new_accounts.platform_id
),

cohort as (
    select
        day,
        platform,
        count(*) as new_profiles,
        {{ count_where('is_queued') }} as new_above_threshold,
        {{ count_where('is_queued and is_labeled') }} as new_labeled,
        {{ count_where('is_queued and is_match') }} as new_true,
        {{ count_where('is_confirmed') }} as new_confirmed_true
    from cohort_members
    group by day, platform
),

spine as (
    select day, platform from pages
    union select day, platform from seen
    union select day, platform from cohort
    union select day, platform from api_cost
    union select day, platform from llm_cost
),

final as (
    select
        spine.day,
        spine.platform,
        coalesce(pages.pages_searched, 0) as pages_searched,
        coalesce(pages.profiles_returned, 0) as profiles_returned,
        coalesce(seen.profiles_seen, 0) as profiles_seen,
        coalesce(cohort.new_profiles, 0) as new_profiles,
        coalesce(cohort.new_above_threshold, 0) as new_above_threshold,
        coalesce(cohort.new_labeled, 0) as new_labeled,
        coalesce(cohort.new_true, 0) as new_true,
        {{ safe_ratio('cohort.new_profiles', 'pages.pages_searched') }} as new_per_page,
        {{ safe_ratio('cohort.new_true', 'cohort.new_labeled') }} as true_rate,
        coalesce(cohort.new_confirmed_true, 0) as new_confirmed_true,
        coalesce(api_cost.api_cost_usd, 0) as api_cost_usd,
        coalesce(llm_cost.llm_cost_usd, 0) as llm_cost_usd,
        coalesce(api_cost.api_cost_usd, 0) + coalesce(llm_cost.llm_cost_usd, 0) as cost_usd,
        {{ safe_ratio('coalesce(api_cost.api_cost_usd, 0) + coalesce(llm_cost.llm_cost_usd, 0)', 'cohort.new_profiles') }}
            as cost_per_new_profile,
        {{ safe_ratio('coalesce(api_cost.api_cost_usd, 0) + coalesce(llm_cost.llm_cost_usd, 0)', 'cohort.new_true') }}
            as cost_per_true_label,
        {{ safe_ratio('coalesce(api_cost.api_cost_usd, 0) + coalesce(llm_cost.llm_cost_usd, 0)', 'cohort.new_confirmed_true') }}
            as cost_per_confirmed_true_label
    from spine
    left join pages on pages.day = spine.day and pages.platform = spine.platform
    left join seen on seen.day = spine.day and seen.platform = spine.platform
    left join cohort on cohort.day = spine.day and cohort.platform = spine.platform
    left join api_cost on api_cost.day = spine.day and api_cost.platform = spine.platform
    left join llm_cost on llm_cost.day = spine.day and llm_cost.platform = spine.platform
)

select * from final
