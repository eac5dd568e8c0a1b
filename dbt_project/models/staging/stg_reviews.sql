-- The latest review of each account for each audience version: the person's verdict, which
-- overrides every model in the marts.
-- An account is matched by platform + platform_id when the review has one, else by platform +
-- lower(handle) against the profiles (the account most recently seen with that handle, then the
-- smallest platform_id). Reviews are matched first, then the latest per (audience, platform,
-- account) wins: the greatest (reviewed_at, review_id). A review whose handle matches no profile
-- keeps a null platform_id and is ranked with the other reviews of that handle; the marts
-- leave it out (no account to attach it to), the local labeler still learns from its text.
-- scout_contract/reviews.py LATEST_REVIEWS_SQL is the same rule for the Python side (one audience
-- at a time); tests/test_consensus.py checks both give the same verdicts.
{#- Which account a review is about: prefixed, so a numeric handle never equals a platform id. #}
{%- set account_key = "coalesce(" ~ dbt.concat(["'id:'", "account_id"]) ~ ", " ~ dbt.concat(["'handle:'", "lower(handle)"]) ~ ")" %}
with source as (
    select * from {{ source('scout', 'reviews') }}
),

handles as (
    select
        platform,
        platform_id,
        lower(handle) as handle_key,
        row_number() over (
            partition by platform, lower(handle)
            order by last_seen_at desc nulls last, platform_id
        ) as handle_rank
    from {{ ref('stg_profiles') }}
    where handle is not null
),

matched as (
    select
        source.*,
        coalesce(source.platform_id, handles.platform_id) as account_id,
        case
            when source.platform_id is not null then 'platform_id'
            when handles.platform_id is not null then 'handle'
        end as matched_by
    from source
    left join handles
        on source.platform_id is null
        and handles.platform = source.platform
        and handles.handle_key = lower(source.handle)
        and handles.handle_rank = 1
),

ranked as (
    select
        matched.*,
        row_number() over (
            partition by audience, platform, {{ account_key }}
            order by reviewed_at desc, review_id desc
        ) as recency,
        count(*) over (
            partition by audience, platform, {{ account_key }}
        ) as reviews_of_account
    from matched
),

final as (
    select
        review_id,
        audience,
        audience_hash,
        platform,
        account_id as platform_id,
        matched_by,
        handle,
        name,
        bio,
        category,
        followers,
        label,
        {{ verdict_of('label') }} as verdict,
        reason,
        reviewer,
        source,
        reviewed_at,
        reviews_of_account
    from ranked
    where recency = 1
)

select * from final
