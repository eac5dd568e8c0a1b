-- One fetched search page without its payload: the marts need counts and timing, and the
-- verbatim JSON (often hundreds of KB a page) stays in the source for re-parsing.
with source as (
    select * from {{ source('scout', 'raw_searches') }}
),

renamed as (
    select
        request_id,
        platform,
        keyword,
        partition_date,
        page,
        status,
        coalesce(result_count, 0) as result_count,
        cursor_out is not null and stop_reason is null as has_next_page,
        stop_reason,
        ids_hash,
        fetched_at
    from source
)

select * from renamed
