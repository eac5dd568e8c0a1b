-- The caps in effect on a day (config/budgets.yaml with its SCOUT_BUDGET_* overrides), as the
-- day's last run of each platform or model read them.
with source as (
    select * from {{ source('scout', 'budget_caps') }}
)

select day, scope, name, cap_field, period, unit, cap, source as cap_source, recorded_at from source
