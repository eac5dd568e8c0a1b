with source as (
    select * from {{ source('scout', 'label_failures') }}
),

renamed as (
    select
        attempt_id,
        platform,
        platform_id,
        handle,
        model,
        audience,
        partition_date,
        error,
        run_id,
        attempted_at
    from source
)

select * from renamed
