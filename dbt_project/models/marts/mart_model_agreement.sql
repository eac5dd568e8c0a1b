-- One row per audience x model: how the model's labels compare with people's reviews, and the
-- weight its votes carry in the consensus (int_model_weights has the rule). For the local
-- labeler (var local_labeler_model) also the fit in use for the audience and its
-- cross-validated figures on the reviews it learned from.
-- Rebuilt whole on every run: agreement is a property of all reviews and labels so far.
{{ config(materialized='table') }}

with weights as (
    select * from {{ ref('int_model_weights') }}
),

fits as (
    select audience, fit_id, reviews as fit_reviews, cv_accuracy, cv_precision_true, cv_recall_true,
        defer_share, fitted_at
    from {{ ref('stg_labeler_fits') }}
    where is_in_use
),

final as (
    select
        weights.audience,
        weights.model,
        weights.labels,
        weights.deferred_labels,
        weights.reviewed,
        weights.deferred_reviewed,
        weights.agreements,
        {{ safe_ratio('weights.agreements', 'weights.reviewed') }} as agreement_rate,
        weights.both_decided,
        weights.decided_agreements,
        {{ safe_ratio('weights.decided_agreements', 'weights.both_decided') }} as decided_agreement_rate,
        weights.people_true,
        weights.people_false,
        weights.people_uncertain,
        weights.model_true,
        weights.both_true,
        {{ safe_ratio('weights.both_true', 'weights.model_true') }} as precision_true,
        {{ safe_ratio('weights.both_true', 'weights.people_true') }} as recall_true,
        weights.weight,
        weights.validated,
        {{ var('validated_min_reviews') }} as validated_min_reviews,
        fits.fit_id,
        fits.fit_reviews,
        fits.cv_accuracy,
        fits.cv_precision_true,
        fits.cv_recall_true,
        fits.defer_share,
        fits.fitted_at
    from weights
    left join fits
        on fits.audience = weights.audience
        and weights.model = '{{ var("local_labeler_model") }}'
)

select * from final
