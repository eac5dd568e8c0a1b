-- One row per day x subject x metric: how far the plans of `scout run` (run_plans) were from what
-- their runs did. A plan's actuals are read over its run's window [planned_at, finished_at]:
--   api_calls, platform_usd  the platform's api_calls rows (every HTTP attempt, priced);
--   new_profiles             profiles of the platform first seen in the window;
--   true_labels              (audience, account) pairs of the platform labeled in the window whose
--                            verdict (mart_audience_leads: review, else consensus) is a backed match;
--   labels, llm_usd          the model's llm_labels rows and model_calls attempts in the window.
-- scout_cli/plan.py plan_comparisons reads the same actuals for the run's summary.
-- Subjects are summed per day (several runs a day); subject 'all' sums the subjects of a metric.
-- A metric the plan could not estimate (estimate null) is left out, actual included.
-- Incremental by the plan's day: a run recomputes the days of its window only.
{{
    config(
        materialized='incremental',
        unique_key=['day', 'subject_kind', 'subject', 'metric'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with plans as (
    select *
    from {{ ref('stg_run_plans') }}
    where is_finished
    {% if is_incremental() %}and {{ in_partition_window('plan_day') }}{% endif %}
),

platform_plans as (
    select * from plans where subject_kind = 'platform'
),

model_plans as (
    select * from plans where subject_kind = 'model'
),

calls as (
    select p.plan_id, p.subject, count(c.call_id) as calls, sum(c.cost_usd) as usd
    from platform_plans as p
    left join {{ ref('stg_api_calls') }} as c
        on c.platform = p.subject and c.called_at >= p.planned_at and c.called_at <= p.finished_at
    group by p.plan_id, p.subject
),

new_profiles as (
    select p.plan_id, p.subject, count(a.platform_id) as new_profiles
    from platform_plans as p
    left join {{ ref('stg_profiles') }} as a
        on a.platform = p.subject and a.first_seen_at >= p.planned_at and a.first_seen_at <= p.finished_at
    group by p.plan_id, p.subject
),

labeled_pairs as (
    select distinct p.plan_id, p.subject, l.audience, l.platform, l.platform_id
    from platform_plans as p
    inner join {{ ref('stg_llm_labels') }} as l
        on l.platform = p.subject and l.labeled_at >= p.planned_at and l.labeled_at <= p.finished_at
),

true_labels as (
    select pairs.plan_id, pairs.subject, count(*) as true_labels
    from labeled_pairs as pairs
    inner join {{ ref('mart_audience_leads') }} as leads
        on leads.audience = pairs.audience
        and leads.platform = pairs.platform
        and leads.platform_id = pairs.platform_id
    where leads.verdict = 'match' and leads.verdict_backed
    group by pairs.plan_id, pairs.subject
),

labels as (
    select p.plan_id, p.subject, count(l.platform_id) as labels
    from model_plans as p
    left join {{ ref('stg_llm_labels') }} as l
        on l.model = p.subject and l.labeled_at >= p.planned_at and l.labeled_at <= p.finished_at
    group by p.plan_id, p.subject
),

model_spend as (
    select p.plan_id, p.subject, sum(m.cost_usd) as usd
    from model_plans as p
    left join {{ ref('stg_model_calls') }} as m
        on m.model = p.subject and m.called_at >= p.planned_at and m.called_at <= p.finished_at
    group by p.plan_id, p.subject
),

metrics as (
    select p.plan_id, p.plan_day, p.subject_kind, p.subject, 'api_calls' as metric,
        p.expected_calls as estimate, cast(calls.calls as {{ type_double() }}) as actual
    from platform_plans as p
    inner join calls on calls.plan_id = p.plan_id and calls.subject = p.subject
    union all
    select p.plan_id, p.plan_day, p.subject_kind, p.subject, 'platform_usd',
        p.expected_usd, cast(coalesce(calls.usd, 0) as {{ type_double() }})
    from platform_plans as p
    inner join calls on calls.plan_id = p.plan_id and calls.subject = p.subject
    union all
    select p.plan_id, p.plan_day, p.subject_kind, p.subject, 'new_profiles',
        p.expected_new_profiles, cast(n.new_profiles as {{ type_double() }})
    from platform_plans as p
    inner join new_profiles as n on n.plan_id = p.plan_id and n.subject = p.subject
    union all
    select p.plan_id, p.plan_day, p.subject_kind, p.subject, 'true_labels',
        p.expected_true_labels, cast(coalesce(t.true_labels, 0) as {{ type_double() }})
    from platform_plans as p
    left join true_labels as t on t.plan_id = p.plan_id and t.subject = p.subject
    union all
    select p.plan_id, p.plan_day, p.subject_kind, p.subject, 'labels',
        p.expected_labels, cast(l.labels as {{ type_double() }})
    from model_plans as p
    inner join labels as l on l.plan_id = p.plan_id and l.subject = p.subject
    union all
    select p.plan_id, p.plan_day, p.subject_kind, p.subject, 'llm_usd',
        p.expected_usd, cast(coalesce(s.usd, 0) as {{ type_double() }})
    from model_plans as p
    inner join model_spend as s on s.plan_id = p.plan_id and s.subject = p.subject
),

estimated as (
    select * from metrics where estimate is not null
),

per_subject as (
    select
        plan_day as day,
        subject_kind,
        subject,
        metric,
        count(distinct plan_id) as plans,
        sum(estimate) as estimate,
        sum(actual) as actual
    from estimated
    group by plan_day, subject_kind, subject, metric
),

per_metric as (
    select
        plan_day as day,
        'total' as subject_kind,
        'all' as subject,
        metric,
        count(distinct plan_id) as plans,
        sum(estimate) as estimate,
        sum(actual) as actual
    from estimated
    group by plan_day, metric
),

combined as (
    select * from per_subject
    union all
    select * from per_metric
),

final as (
    select
        day,
        subject_kind,
        subject,
        metric,
        plans,
        estimate,
        actual,
        estimate - actual as error,
        abs(estimate - actual) as abs_error,
        {{ safe_ratio('abs(estimate - actual)', 'actual') }} as rel_error
    from combined
)

select * from final
