-- One subject (platform or model) of one run's plan: what `scout run` expected before it ran
-- (scout_assets/spend/plan.py). The run's actuals are read over [planned_at, finished_at]; a plan
-- whose run has not finished (or never did) has no window yet.
with source as (
    select * from {{ source('scout', 'run_plans') }}
),

renamed as (
    select
        plan_id,
        subject_kind,
        subject,
        planned_at,
        finished_at,
        cast(planned_at as date) as plan_day,
        finished_at is not null as is_finished,
        command,
        keywords,
        pages,
        expected_calls,
        expected_new_profiles,
        expected_true_labels,
        expected_labels,
        expected_usd,
        max_usd,
        basis,
        fits_budgets,
        budget_notes
    from source
)

select * from renamed
