with source as (
    select * from {{ source('scout', 'profile_snapshots') }}
),

renamed as (
    select
        platform,
        platform_id,
        partition_date,
        handle,
        name,
        followers,
        following,
        statuses,
        first_seen_at,
        last_seen_at,
        last_request_id
    from source
)

select * from renamed
