with source as (
    select * from {{ source('scout', 'keywords') }}
),

renamed as (
    select
        platform,
        keyword,
        partition_date,
        tags,
        enabled,
        still_valid,
        exhausted,
        coalesce(pages_searched, 0) as pages_searched,
        last_searched_at,
        state_reason
    from source
)

select * from renamed
