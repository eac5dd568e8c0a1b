with source as (
    select * from {{ source('scout', 'profile_sightings') }}
),

renamed as (
    select
        platform,
        platform_id,
        keyword,
        partition_date,
        first_request_id,
        first_seen_at,
        coalesce(times_seen, 1) as times_seen
    from source
)

select * from renamed
