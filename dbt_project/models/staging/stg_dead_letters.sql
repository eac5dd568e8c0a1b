with source as (
    select * from {{ source('scout', 'dead_letters') }}
),

renamed as (
    select
        platform,
        platform_id,
        handle,
        model,
        audience,
        failures,
        last_error,
        dead_at,
        cast(dead_at as date) as dead_on,
        requeued_at,
        requeued_at is not null as is_requeued
    from source
)

select * from renamed
