with source as (
    select * from {{ source('scout', 'profiles_to_score') }}
),

renamed as (
    select
        platform,
        platform_id,
        partition_date,
        handle,
        has,
        likely_is,
        has_version,
        queued_at
    from source
)

select * from renamed
