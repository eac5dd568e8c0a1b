with source as (
    select * from {{ source('scout', 'keyword_stats') }}
),

renamed as (
    select
        platform,
        keyword,
        day,
        coalesce(searches, 0) as searches,
        coalesce(pages, 0) as pages,
        coalesce(api_calls, 0) as api_calls,
        coalesce(api_errors, 0) as api_errors,
        coalesce(profiles_returned, 0) as profiles_returned,
        coalesce(unique_profiles, 0) as unique_profiles,
        coalesce(new_profiles, 0) as new_profiles,
        duplicate_rate,
        mean_has,
        share_above_threshold,
        coalesce(labels_true, 0) as labels_true,
        coalesce(labels_false, 0) as labels_false,
        coalesce(labels_null, 0) as labels_null,
        coalesce(api_cost_usd, 0) as api_cost_usd,
        coalesce(label_cost_usd, 0) as label_cost_usd,
        coalesce(cost_usd, coalesce(api_cost_usd, 0) + coalesce(label_cost_usd, 0)) as cost_usd,
        still_valid,
        exhausted,
        state_reason
    from source
)

select * from renamed
