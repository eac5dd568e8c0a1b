-- One HTTP attempt, with the flags the health mart counts. An attempt is an error when the
-- client recorded one, when no status came back (timeout, connection reset) or when the
-- status is 4xx/5xx.
with source as (
    select * from {{ source('scout', 'api_calls') }}
),

renamed as (
    select
        call_id,
        request_id,
        platform,
        endpoint,
        keyword,
        attempt,
        status,
        latency_ms,
        coalesce(result_count, 0) as result_count,
        error,
        called_at,
        partition_date,
        -- USD the attempt cost (budgets.yaml price_per_request_usd at call time); null only for
        -- calls stored before prices were recorded.
        cost_usd,
        (error is not null or status is null or status >= 400) as is_error,
        coalesce(attempt, 1) > 1 as is_retry,
        coalesce(status = 429, false) as is_rate_limited
    from source
)

select * from renamed
