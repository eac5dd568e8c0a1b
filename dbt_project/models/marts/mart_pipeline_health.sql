-- One row per day x platform: how the machinery behaved. API calls, errors, retries and
-- latency come from the api_calls ledger; labeling failures and dead letters from the labeling
-- tables; cost is API cost (keyword_stats) plus labeling cost: every LLM call attempt for the
-- day's queue, whatever its outcome (int_llm_profile_costs, the model-call ledger).
-- Incremental: a run recomputes exactly the days of its partition window, and every input is
-- keyed by that same day, so rows outside the window never change.
{{
    config(
        materialized='incremental',
        unique_key=['day', 'platform'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with calls as (
    select partition_date as day, platform, is_error, is_retry, is_rate_limited, latency_ms
    from {{ ref('stg_api_calls') }}
    {% if is_incremental() %}where {{ in_partition_window('partition_date') }}{% endif %}
),

call_stats as (
    select
        day,
        platform,
        count(*) as api_calls,
        {{ count_where('is_error') }} as api_errors,
        {{ count_where('is_retry') }} as retries,
        {{ count_where('is_rate_limited') }} as rate_limited,
        avg(latency_ms) as latency_avg_ms,
        -- Ordered-set aggregates: the same spelling works in PostgreSQL and DuckDB.
        percentile_cont(0.5) within group (order by latency_ms) as latency_p50_ms,
        percentile_cont(0.95) within group (order by latency_ms) as latency_p95_ms,
        max(latency_ms) as latency_max_ms
    from calls
    group by day, platform
),

pages as (
    select partition_date as day, platform, count(*) as pages_fetched, {{ sum_as_bigint('result_count') }} as profiles_returned
    from {{ ref('stg_raw_searches') }}
    {% if is_incremental() %}where {{ in_partition_window('partition_date') }}{% endif %}
    group by partition_date, platform
),

labels as (
    select
        partition_date as day,
        platform,
        count(*) as labels_written,
        avg(latency_ms) as label_latency_avg_ms
    from {{ ref('stg_llm_labels') }}
    {% if is_incremental() %}where {{ in_partition_window('partition_date') }}{% endif %}
    group by partition_date, platform
),

llm_cost as (
    select partition_date as day, platform, sum(cost_usd) as label_cost_usd
    from {{ ref('int_llm_profile_costs') }}
    {% if is_incremental() %}where {{ in_partition_window('partition_date') }}{% endif %}
    group by partition_date, platform
),

failures as (
    select partition_date as day, platform, count(*) as label_failures
    from {{ ref('stg_label_failures') }}
    {% if is_incremental() %}where {{ in_partition_window('partition_date') }}{% endif %}
    group by partition_date, platform
),

dead as (
    select dead_on as day, platform, count(*) as dead_letters
    from {{ ref('stg_dead_letters') }}
    {% if is_incremental() %}where {{ in_partition_window('dead_on') }}{% endif %}
    group by dead_on, platform
),

api_cost as (
    select day, platform, sum(api_cost_usd) as api_cost_usd
    from {{ ref('stg_keyword_stats') }}
    {% if is_incremental() %}where {{ in_partition_window('day') }}{% endif %}
    group by day, platform
),

spine as (
    select day, platform from call_stats
    union select day, platform from pages
    union select day, platform from labels
    union select day, platform from failures
    union select day, platform from dead
    union select day, platform from api_cost
    union select day, platform from llm_cost
),

final as (
    select
        spine.day,
        spine.platform,
        coalesce(pages.pages_fetched, 0) as pages_fetched,
        coalesce(pages.profiles_returned, 0) as profiles_returned,
        coalesce(call_stats.api_calls, 0) as api_calls,
        coalesce(call_stats.api_errors, 0) as api_errors,
        {{ safe_ratio('call_stats.api_errors', 'call_stats.api_calls') }} as api_error_rate,
        coalesce(call_stats.retries, 0) as retries,
        coalesce(call_stats.rate_limited, 0) as rate_limited,
        call_stats.latency_avg_ms,
        call_stats.latency_p50_ms,
        call_stats.latency_p95_ms,
        call_stats.latency_max_ms,
        coalesce(labels.labels_written, 0) as labels_written,
        labels.label_latency_avg_ms,
        coalesce(failures.label_failures, 0) as label_failures,
        coalesce(dead.dead_letters, 0) as dead_letters,
        coalesce(api_cost.api_cost_usd, 0) as api_cost_usd,
        coalesce(llm_cost.label_cost_usd, 0) as label_cost_usd,
        coalesce(api_cost.api_cost_usd, 0) + coalesce(llm_cost.label_cost_usd, 0) as cost_usd
    from spine
    left join call_stats on call_stats.day = spine.day and call_stats.platform = spine.platform
    left join pages on pages.day = spine.day and pages.platform = spine.platform
    left join labels on labels.day = spine.day and labels.platform = spine.platform
    left join failures on failures.day = spine.day and failures.platform = spine.platform
    left join dead on dead.day = spine.day and dead.platform = spine.platform
    left join api_cost on api_cost.day = spine.day and api_cost.platform = spine.platform
    left join llm_cost on llm_cost.day = spine.day and llm_cost.platform = spine.platform
)

select * from final
