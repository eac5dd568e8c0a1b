-- One row per audience x model: how often the model's votes agree with people, and the weight
-- its votes carry in the consensus.
-- Overlaps are the accounts the model voted on that have a (latest) review for the same audience.
-- agreements: the model's vote equals the person's label (uncertain equals uncertain). A label
-- the local labeler deferred casts no vote, so it is not an overlap either (deferred_reviewed
-- counts them): the weight measures the votes the model casts. weight = (agreements + 1) / (reviewed + 2): Laplace's rule, so a
-- model nobody has checked weighs 1/2 and each review moves it towards its measured agreement.
-- validated: at least var validated_min_reviews reviewed overlaps.
-- scout_assets/domain/consensus.py model_weights is the same rule in polars.
with labels as (
    select audience, platform, platform_id, model, vote, is_deferred
    from {{ ref('stg_llm_labels') }}
),

reviews as (
    select audience, platform, platform_id, verdict
    from {{ ref('stg_reviews') }}
    where platform_id is not null
),

per_model as (
    select
        audience,
        model,
        count(*) as labels,
        {{ count_where('is_deferred') }} as deferred_labels
    from labels
    group by audience, model
),

reviewed_overlaps as (
    select
        labels.audience,
        labels.model,
        {{ count_where('labels.vote is not null') }} as reviewed,
        {{ count_where('labels.vote is null') }} as deferred_reviewed,
        {{ count_where('labels.vote = reviews.verdict') }} as agreements,
        {{ count_where("labels.vote is not null and reviews.verdict = 'match'") }} as people_true,
        {{ count_where("labels.vote is not null and reviews.verdict = 'no_match'") }} as people_false,
        {{ count_where("labels.vote is not null and reviews.verdict = 'uncertain'") }} as people_uncertain,
        {{ count_where("labels.vote = 'match'") }} as model_true,
        {{ count_where("labels.vote = 'match' and reviews.verdict = 'match'") }} as both_true,
        {{ count_where("labels.vote <> 'uncertain' and reviews.verdict <> 'uncertain'") }} as both_decided,
        {{ count_where("labels.vote <> 'uncertain' and labels.vote = reviews.verdict") }} as decided_agreements
    from labels
    inner join reviews
        on reviews.audience = labels.audience
        and reviews.platform = labels.platform
        and reviews.platform_id = labels.platform_id
    group by labels.audience, labels.model
),

final as (
    select
        per_model.audience,
        per_model.model,
        per_model.labels,
        per_model.deferred_labels,
        coalesce(reviewed_overlaps.reviewed, 0) as reviewed,
        coalesce(reviewed_overlaps.deferred_reviewed, 0) as deferred_reviewed,
        coalesce(reviewed_overlaps.agreements, 0) as agreements,
        coalesce(reviewed_overlaps.people_true, 0) as people_true,
        coalesce(reviewed_overlaps.people_false, 0) as people_false,
        coalesce(reviewed_overlaps.people_uncertain, 0) as people_uncertain,
        coalesce(reviewed_overlaps.model_true, 0) as model_true,
        coalesce(reviewed_overlaps.both_true, 0) as both_true,
        coalesce(reviewed_overlaps.both_decided, 0) as both_decided,
        coalesce(reviewed_overlaps.decided_agreements, 0) as decided_agreements,
        cast(coalesce(reviewed_overlaps.agreements, 0) + 1 as {{ type_double() }})
            / (coalesce(reviewed_overlaps.reviewed, 0) + 2) as weight,
        coalesce(reviewed_overlaps.reviewed, 0) >= {{ var('validated_min_reviews') }} as validated
    from per_model
    left join reviewed_overlaps
        on reviewed_overlaps.audience = per_model.audience and reviewed_overlaps.model = per_model.model
)

select * from final
