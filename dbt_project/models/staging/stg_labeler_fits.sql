-- One fit of the local labeler, ranked the way scout_assets/labeling/labeler_store.py picks the
-- fit in use for an audience: the fits on the newest set of reviews (the reviews_digest of the
-- most recent fit) first, then the highest cross-validated accuracy, then the newest.
with source as (
    select * from {{ source('scout', 'labeler_fits') }}
),

with_digest_time as (
    select
        source.*,
        max(fitted_at) over (partition by audience, reviews_digest) as digest_fitted_at
    from source
),

ranked as (
    select
        fit_id,
        audience,
        audience_hash,
        reviews,
        reviews_digest,
        location,
        cv_accuracy,
        cv_precision_true,
        cv_recall_true,
        cv_brier,
        defer_share,
        run_id,
        fitted_at,
        row_number() over (
            partition by audience
            order by digest_fitted_at desc, cv_accuracy desc nulls last, fitted_at desc, fit_id
        ) as fit_rank
    from with_digest_time
)

select ranked.*, fit_rank = 1 as is_in_use from ranked
