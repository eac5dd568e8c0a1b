with source as (
    select * from {{ source('scout', 'profiles') }}
),

renamed as (
    select
        platform,
        platform_id,
        handle,
        name,
        bio,
        location,
        category,
        created_at,
        coalesce(followers, 0) as followers,
        coalesce(following, 0) as following,
        coalesce(statuses, 0) as statuses,
        coalesce(verified, false) or coalesce(blue_verified, false) as is_verified,
        first_seen_at,
        last_seen_at,
        first_partition_date,
        last_partition_date,
        keywords,
        coalesce(keyword_count, 0) as keyword_count,
        previous_handles
    from source
)

select * from renamed
