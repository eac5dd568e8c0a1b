-- The latest HAS of each account (the greatest partition day), with its breakdown.
with ranked as (
    select
        scores.*,
        row_number() over (
            partition by scores.platform, scores.platform_id order by scores.partition_date desc
        ) as recency
    from {{ ref('stg_has_scores') }} as scores
)

select * from ranked where recency = 1
