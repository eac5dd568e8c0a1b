-- One quarantine entry of the profiles asset: a row of a stored page the parsers could not
-- read ('row'), a value they nulled or cleaned in a kept row ('field'), or a stored page that
-- is not a page ('page'). The raw row stays in the source; the health page counts entries.
with source as (
    select * from {{ source('scout', 'quarantined_rows') }}
),

renamed as (
    select
        partition_date,
        platform,
        keyword,
        request_id,
        page,
        row_index,
        field,
        severity,
        reason,
        severity in ('row', 'page') as is_lost_row
    from source
)

select * from renamed
