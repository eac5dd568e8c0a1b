-- One row per audience x model x compared model: how often two models give the same label
-- to the same account, next to each model's own volume, label mix, failures and cost.
-- A model is also compared with itself (agreement 1), so every model has a row and the rows
-- form the full agreement matrix. Rebuilt whole on every run: agreement is a property of
-- all labels so far, not of one day.
-- Cost is the model-call ledger's (int_llm_profile_costs): every call attempt, the failed,
-- malformed, retried and dead-lettered ones included, so cost per label, per true label and per
-- reviewer-confirmed true label (a true label whose account's latest review is true) count them.
{{ config(materialized='table') }}

with labels as (
    select platform, platform_id, audience, model, verdict, cost_usd
    from {{ ref('stg_llm_labels') }}
),

per_model as (
    select
        audience,
        model,
        count(*) as labels,
        {{ count_where("verdict = 'match'") }} as labels_true,
        {{ count_where("verdict = 'no_match'") }} as labels_false,
        {{ count_where("verdict = 'uncertain'") }} as labels_uncertain
    from labels
    group by audience, model
),

costs as (
    select audience, model, sum(cost_usd) as cost_usd
    from {{ ref('int_llm_profile_costs') }}
    group by audience, model
),

attempts as (
    select
        audience,
        model,
        count(*) as call_attempts,
        {{ count_where('is_wasted') }} as wasted_call_attempts,
        sum(case when is_wasted then cost_usd else 0 end) as wasted_cost_usd
    from {{ ref('stg_model_calls') }}
    group by audience, model
),

confirmed as (
    -- True labels whose account's latest review (same audience) is true as well.
    select labels.audience, labels.model, count(*) as labels_confirmed_true
    from labels
    inner join {{ ref('stg_reviews') }} as reviews
        on reviews.audience = labels.audience
        and reviews.platform = labels.platform
        and reviews.platform_id = labels.platform_id
    where labels.verdict = 'match' and reviews.verdict = 'match'
    group by labels.audience, labels.model
),

failures as (
    select audience, model, count(*) as label_failures
    from {{ ref('stg_label_failures') }}
    group by audience, model
),

dead as (
    select audience, model, count(*) as dead_letters
    from {{ ref('stg_dead_letters') }}
    where not is_requeued
    group by audience, model
),

pairs as (
    select
        left_side.audience,
        left_side.model,
        right_side.model as compared_with,
        count(*) as shared_profiles,
        {{ count_where('left_side.verdict = right_side.verdict') }} as agreements,
        {{ count_where("left_side.verdict = 'match' and right_side.verdict = 'match'") }} as both_true,
        {{ count_where("left_side.verdict = 'match' and right_side.verdict = 'no_match'") }} as only_model_true,
        {{ count_where("left_side.verdict = 'no_match' and right_side.verdict = 'match'") }} as only_compared_true,
        {{ count_where("left_side.verdict <> 'uncertain' and right_side.verdict <> 'uncertain'") }} as shared_decided,
        {{ count_where("left_side.verdict <> 'uncertain' and left_side.verdict = right_side.verdict") }} as decided_agreements
    from labels as left_side
    inner join labels as right_side
        on right_side.platform = left_side.platform
        and right_side.platform_id = left_side.platform_id
        and right_side.audience = left_side.audience
    group by left_side.audience, left_side.model, right_side.model
),

with_rates as (
    select
        pairs.*,
        {{ safe_ratio('agreements', 'shared_profiles') }} as agreement_rate,
        {{ safe_ratio('decided_agreements', 'shared_decided') }} as decided_agreement_rate
    from pairs
),

reference as (
    select audience, model, agreement_rate, shared_profiles
    from with_rates
    where compared_with = '{{ var("reference_model") }}'
),

final as (
    select
        with_rates.audience,
        with_rates.model,
        with_rates.compared_with,
        with_rates.shared_profiles,
        with_rates.agreements,
        with_rates.agreement_rate,
        with_rates.shared_decided,
        with_rates.decided_agreements,
        with_rates.decided_agreement_rate,
        with_rates.both_true,
        with_rates.only_model_true,
        with_rates.only_compared_true,
        per_model.labels,
        per_model.labels_true,
        per_model.labels_false,
        per_model.labels_uncertain,
        {{ safe_ratio('per_model.labels_true', 'per_model.labels') }} as true_share,
        coalesce(failures.label_failures, 0) as label_failures,
        coalesce(dead.dead_letters, 0) as dead_letters,
        coalesce(attempts.call_attempts, 0) as call_attempts,
        coalesce(attempts.wasted_call_attempts, 0) as wasted_call_attempts,
        coalesce(attempts.wasted_cost_usd, 0) as wasted_cost_usd,
        coalesce(confirmed.labels_confirmed_true, 0) as labels_confirmed_true,
        coalesce(costs.cost_usd, 0) as cost_usd,
        {{ safe_ratio('coalesce(costs.cost_usd, 0)', 'per_model.labels') }} as cost_per_label,
        {{ safe_ratio('coalesce(costs.cost_usd, 0)', 'per_model.labels_true') }} as cost_per_true_label,
        {{ safe_ratio('coalesce(costs.cost_usd, 0)', 'confirmed.labels_confirmed_true') }} as cost_per_confirmed_true_label,
        reference.shared_profiles as shared_with_reference,
        reference.agreement_rate as agreement_with_reference
    from with_rates
    inner join per_model
        on per_model.audience = with_rates.audience and per_model.model = with_rates.model
    left join failures
        on failures.audience = with_rates.audience and failures.model = with_rates.model
    left join dead
        on dead.audience = with_rates.audience and dead.model = with_rates.model
    left join costs
        on costs.audience = with_rates.audience and costs.model = with_rates.model
    left join attempts
        on attempts.audience = with_rates.audience and attempts.model = with_rates.model
    left join confirmed
        on confirmed.audience = with_rates.audience and confirmed.model = with_rates.model
    left join reference
        on reference.audience = with_rates.audience and reference.model = with_rates.model
)

select * from final
