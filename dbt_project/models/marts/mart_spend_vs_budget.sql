-- One row per day x scope (platform | model) x name x budget: what was used against the cap in
-- effect that day. Day budgets count the UTC day's ledger rows (api_calls: requests and their
-- prices; model_calls: every call attempt's cost); the plan's monthly quota counts the month up
-- to and including the day. The caps are those the day's runs read (stg_budget_caps: budgets.yaml
-- with its SCOUT_BUDGET_* overrides); a day with spend but no cap recorded has a null cap and
-- share. Per-run caps are in each run's metadata and in stg_budget_stops, not here. Rebuilt
-- whole: a few rows per day.
{{ config(materialized='table') }}

with platform_days as (
    select
        cast(called_at as date) as day,
        platform as name,
        count(*) as calls,
        sum(coalesce(cost_usd, 0)) as usd
    from {{ ref('stg_api_calls') }}
    group by cast(called_at as date), platform
),

platform_months as (
    -- Requests of the month up to and including each day.
    select
        days.day,
        days.name,
        {{ sum_as_bigint('earlier.calls') }} as requests
    from platform_days as days
    inner join platform_days as earlier
        on earlier.name = days.name
        and earlier.day <= days.day
        and {{ dbt.date_trunc('month', 'earlier.day') }} = {{ dbt.date_trunc('month', 'days.day') }}
    group by days.day, days.name
),

model_days as (
    select called_on as day, model as name, sum(cost_usd) as usd
    from {{ ref('stg_model_calls') }}
    group by called_on, model
),

used as (
    select day, 'platform' as scope, name, 'calls_per_day' as budget, 'day' as period, 'calls' as unit,
           cast(calls as {{ type_double() }}) as used
    from platform_days
    union all
    select day, 'platform', name, 'usd_per_day', 'day', 'usd', usd from platform_days
    union all
    select day, 'platform', name, 'plan_requests_per_month', 'month', 'requests',
           cast(requests as {{ type_double() }})
    from platform_months
    union all
    select day, 'model', name, 'usd_per_day', 'day', 'usd', usd from model_days
),

caps as (
    select day, scope, name, cap_field as budget, period, unit, cap, cap_source
    from {{ ref('stg_budget_caps') }}
    where period in ('day', 'month')
),

stops as (
    select stopped_on as day, scope, name, cap_field as budget, count(*) as stops
    from {{ ref('stg_budget_stops') }}
    group by stopped_on, scope, name, cap_field
),

spine as (
    select day, scope, name, budget, period, unit from used
    union
    select day, scope, name, budget, period, unit from caps
),

final as (
    select
        spine.day,
        spine.scope,
        spine.name,
        spine.budget,
        spine.period,
        spine.unit,
        coalesce(used.used, 0) as used,
        caps.cap,
        {{ safe_ratio('coalesce(used.used, 0)', 'caps.cap') }} as share,
        caps.cap_source,
        coalesce(stops.stops, 0) as stops,
        case
            when caps.cap is null then 'no cap'
            when coalesce(used.used, 0) >= caps.cap then 'reached'
            when coalesce(used.used, 0) >= 0.8 * caps.cap then 'warning'
            else 'ok'
        end as status
    from spine
    left join used
        on used.day = spine.day and used.scope = spine.scope and used.name = spine.name
        and used.budget = spine.budget
    left join caps
        on caps.day = spine.day and caps.scope = spine.scope and caps.name = spine.name
        and caps.budget = spine.budget
    left join stops
        on stops.day = spine.day and stops.scope = spine.scope and stops.name = spine.name
        and stops.budget = spine.budget
)

select * from final
