-- One row per audience x labeled account: the weighted consensus of the models' votes.
-- Every vote adds its model's weight (int_model_weights) to its label: weight_true,
-- weight_false, weight_uncertain. A label the local labeler deferred votes for nothing
-- (votes_deferred): the LLMs it deferred to decide. The consensus is the label with the largest sum; sums within
-- var consensus_tie_tolerance of each other tie, and a tie is uncertain (so is a win of the
-- uncertain votes). The consensus is backed when a validated model or at least two models cast
-- it: only then can it count against a keyword (scout_assets/domain/keyword_stats.py).
-- p_true_estimate is the soft version used to rank the review queue: each model's weight
-- times its belief in a match (the local labeler's p_true when it gave one, else 1 / 0 / 0.5
-- for true / false / uncertain), plus a prior of one unreviewed model (weight 1/2) at 0.5:
--   (sum(weight * belief) + 0.25) / (sum(weight) + 0.5).
-- People's reviews are not applied here: mart_audience_leads lays them over this.
-- scout_assets/domain/consensus.py account_verdicts is the same rule in polars.
with labels as (
    select
        labels.audience,
        labels.platform,
        labels.platform_id,
        labels.model,
        labels.vote,
        labels.p_true,
        labels.cost_usd,
        labels.labeled_at,
        weights.weight,
        weights.validated
    from {{ ref('stg_llm_labels') }} as labels
    inner join {{ ref('int_model_weights') }} as weights
        on weights.audience = labels.audience and weights.model = labels.model
),

sums as (
    select
        audience,
        platform,
        platform_id,
        count(*) as models_labeled,
        {{ count_where("vote = 'match'") }} as votes_true,
        {{ count_where("vote = 'no_match'") }} as votes_false,
        {{ count_where("vote = 'uncertain'") }} as votes_uncertain,
        {{ count_where('vote is null') }} as votes_deferred,
        sum(case when vote = 'match' then weight else 0 end) as weight_true,
        sum(case when vote = 'no_match' then weight else 0 end) as weight_false,
        sum(case when vote = 'uncertain' then weight else 0 end) as weight_uncertain,
        sum(weight) as weight_total,
        sum(weight * case
            when p_true is not null then p_true
            when vote = 'match' then 1.0
            when vote = 'no_match' then 0.0
            else 0.5 end) as weight_belief_true,
        avg(p_true) as local_p_true,
        sum(cost_usd) as label_cost_usd,
        min(labeled_at) as first_labeled_at,
        max(labeled_at) as last_labeled_at
    from labels
    group by audience, platform, platform_id
),

decided as (
    select
        sums.*,
        {{ weighted_verdict('weight_true', 'weight_false', 'weight_uncertain') }} as consensus_verdict
    from sums
),

support as (
    select
        decided.audience,
        decided.platform,
        decided.platform_id,
        {{ count_where('labels.vote = decided.consensus_verdict') }} as consensus_models,
        {{ count_where('labels.vote = decided.consensus_verdict and labels.validated') }} as consensus_validated_models
    from decided
    inner join labels
        on labels.audience = decided.audience
        and labels.platform = decided.platform
        and labels.platform_id = decided.platform_id
    group by decided.audience, decided.platform, decided.platform_id
),

final as (
    select
        decided.audience,
        decided.platform,
        decided.platform_id,
        decided.consensus_verdict,
        support.consensus_models,
        support.consensus_validated_models,
        (support.consensus_validated_models >= 1 or support.consensus_models >= 2) as consensus_backed,
        decided.models_labeled,
        decided.votes_true,
        decided.votes_false,
        decided.votes_uncertain,
        decided.votes_deferred,
        decided.weight_true,
        decided.weight_false,
        decided.weight_uncertain,
        decided.weight_total,
        (decided.weight_belief_true + 0.25) / (decided.weight_total + 0.5) as p_true_estimate,
        decided.local_p_true,
        decided.label_cost_usd,
        decided.first_labeled_at,
        decided.last_labeled_at
    from decided
    inner join support
        on support.audience = decided.audience
        and support.platform = decided.platform
        and support.platform_id = decided.platform_id
)

select * from final
