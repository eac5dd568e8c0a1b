-- One row per audience x labeled account nobody has reviewed for that audience: the accounts a
-- person should judge next, best first (priority, higher = ask first).
-- priority estimates what a person's answer is worth:
--   uncertainty    binary entropy (bits, 0..1) of p_true_estimate, the weighted belief that a
--                  person would say match (int_account_consensus: each model's weight times its
--                  belief, the local labeler's p_true when it gave one, plus a prior of one
--                  unreviewed model at 0.5). 1 = a coin flip: the list's verdict is as likely
--                  wrong as right, and the answer also trains the local labeler where it is weakest.
--   disagreement   2 * min(weight_true, weight_false) / (weight_true + weight_false) when a model
--                  voted true and another false, else 0: the answer tells which model to trust
--                  (it moves the weights).
--   lead           the latest HAS when the consensus is match, else 0: a top lead nobody checked
--                  is the costliest false positive.
--   priority = uncertainty + 0.2 * disagreement + 0.1 * lead      (0 .. 1.3)
-- Uncertainty dominates; disagreement and lead value order accounts that are about as
-- uncertain. Ties: higher HAS, then platform and platform_id. A table rebuilt whole on every
-- run: a review anywhere, or a label that moves a weight, reorders the queue.
{{ config(materialized='table') }}

with reviewed as (
    select audience, platform, platform_id
    from {{ ref('stg_reviews') }}
    where platform_id is not null
),

candidates as (
    select consensus.*
    from {{ ref('int_account_consensus') }} as consensus
    where not exists (
        select 1 from reviewed
        where reviewed.audience = consensus.audience
        and reviewed.platform = consensus.platform
        and reviewed.platform_id = consensus.platform_id
    )
),

sides as (
    -- Which models voted true and which false, for the why text.
    select
        labels.audience,
        labels.platform,
        labels.platform_id,
        {{ dbt.listagg("case when labels.vote = 'match' then labels.model end", "', '", "order by labels.model") }}
            as true_models,
        {{ dbt.listagg("case when labels.vote = 'no_match' then labels.model end", "', '", "order by labels.model") }}
            as false_models
    from {{ ref('stg_llm_labels') }} as labels
    inner join candidates
        on candidates.audience = labels.audience
        and candidates.platform = labels.platform
        and candidates.platform_id = labels.platform_id
    group by labels.audience, labels.platform, labels.platform_id
),

scored as (
    select
        candidates.audience,
        candidates.platform,
        candidates.platform_id,
        coalesce(profiles.handle, scores.handle) as handle,
        profiles.name,
        profiles.bio,
        profiles.category,
        profiles.followers,
        scores.has,
        case candidates.consensus_verdict when 'match' then true when 'no_match' then false end as consensus_label,
        candidates.consensus_verdict,
        candidates.consensus_backed,
        candidates.local_p_true,
        candidates.votes_true > 0 and candidates.votes_false > 0 as models_disagree,
        candidates.models_labeled,
        candidates.p_true_estimate,
        {{ binary_entropy('candidates.p_true_estimate') }} as uncertainty,
        case
            when candidates.votes_true > 0 and candidates.votes_false > 0
                then 2 * least(candidates.weight_true, candidates.weight_false)
                    / (candidates.weight_true + candidates.weight_false)
            else 0.0
        end as disagreement,
        case when candidates.consensus_verdict = 'match' then coalesce(scores.has, 0.0) else 0.0 end as lead_value,
        sides.true_models,
        sides.false_models
    from candidates
    inner join sides
        on sides.audience = candidates.audience
        and sides.platform = candidates.platform
        and sides.platform_id = candidates.platform_id
    left join {{ ref('stg_profiles') }} as profiles
        on profiles.platform = candidates.platform and profiles.platform_id = candidates.platform_id
    left join {{ ref('int_latest_scores') }} as scores
        on scores.platform = candidates.platform and scores.platform_id = candidates.platform_id
),

prioritized as (
    select
        scored.*,
        uncertainty + 0.2 * disagreement + 0.1 * lead_value as priority
    from scored
),

final as (
    select
        audience,
        platform,
        platform_id,
        handle,
        name,
        bio,
        category,
        followers,
        has,
        consensus_label,
        local_p_true,
        models_disagree,
        priority,
        {{ dbt.concat([
            "'p(true) '", two_decimals('p_true_estimate'),
            "' from '", "cast(models_labeled as " ~ dbt.type_string() ~ ")", "' model(s)'",
            "case when local_p_true is not null then " ~ dbt.concat(["'; local labeler p_true '", two_decimals('local_p_true')]) ~ " else '' end",
            "case when models_disagree then " ~ dbt.concat(["'; models disagree: true by '", "true_models", "', false by '", "false_models"]) ~ " else '' end",
            "case when consensus_verdict = 'match' then " ~ dbt.concat(["'; an unreviewed lead, HAS '", "coalesce(" ~ two_decimals('has') ~ ", 'unknown')"]) ~ " else '' end",
            "case when consensus_verdict <> 'uncertain' and not consensus_backed then '; rests on one unvalidated model' else '' end",
        ]) }} as why,
        consensus_verdict,
        p_true_estimate,
        uncertainty,
        disagreement,
        models_labeled,
        row_number() over (
            partition by audience
            order by priority desc, has desc nulls last, platform, platform_id
        ) as queue_rank
    from prioritized
)

select * from final
