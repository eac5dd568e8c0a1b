-- One run that stopped at a budget cap, with the figures and what it left undone.
with source as (
    select * from {{ source('scout', 'budget_stops') }}
)

select
    stop_id,
    run_id,
    scope,
    name,
    partition_date,
    cap_field,
    period,
    unit,
    cap,
    used,
    next_cost,
    left_keywords,
    left_count,
    not_done,
    stopped_at,
    cast(stopped_at as date) as stopped_on
from source
