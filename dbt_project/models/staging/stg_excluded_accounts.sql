-- Accounts a do-not-contact entry excludes (scout_contract/exclusions.py decides; `scout exclude`
-- and every llm_labels run refresh the table). Marts and exports anti-join this model.
with source as (
    select * from {{ source('scout', 'excluded_accounts') }}
),

renamed as (
    select
        platform,
        platform_id,
        exclusion_id,
        reason,
        matched_at
    from source
)

select * from renamed
