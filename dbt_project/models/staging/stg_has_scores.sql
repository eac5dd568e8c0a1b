with source as (
    select * from {{ source('scout', 'has_scores') }}
),

renamed as (
    select
        platform,
        platform_id,
        partition_date,
        handle,
        has,
        likely_is,
        raw_score,
        penalty,
        s_bot,
        s_creator,
        s_entity,
        s_person,
        missing_inputs,
        has_version,
        as_of,
        -- Decided once by the has_scores asset (HAS strictly above has.yaml's queue_threshold).
        is_queued
    from source
)

select * from renamed
