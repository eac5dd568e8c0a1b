-- One row per audience x account that a model labeled or a person reviewed: the leads list.
-- verdict is the person's label when the account has a review for the audience (latest review
-- wins, stg_reviews), else the weighted consensus of the models (int_account_consensus: each
-- vote weighs its model's measured agreement with people). verdict_source says which.
-- verdict_backed: a review, or a consensus cast by a validated model or by two models.
-- Also: who agrees and why, the latest HAS with the breakdown, when and by which keywords the
-- account was found.
-- Incremental: a run recomputes, from all of their labels and reviews,
--   - every account labeled, seen or scored in its window;
--   - every account whose latest review is not the one the mart holds (reviews carry no
--     partition day: a new review anywhere in time is found by comparing with the mart);
--   - every account of an audience whose model weights changed (weights_basis, the
--     agreements / reviewed of each model, differs from the one the mart holds): a new review
--     or a label of a reviewed account moves every consensus of that audience;
--   - every account whose latest lead event (stg_lead_events) is not the one the mart holds;
--   - every account missing from the mart (e.g. its exclusion was removed).
-- lead_state is the latest lead event's state, else reviewed when a person reviewed the account,
-- else new (scout_contract/leads.py). Excluded accounts (stg_excluded_accounts, H8's do-not-contact
-- entries) are never leads: left out of the select, and the post-hook deletes the rows of accounts
-- excluded after they were written (an incremental run does not otherwise revisit them).
-- Snapshots and scores are read only on incremental runs, so dbt needs the hints to order the models:
-- depends_on: {{ ref('stg_profile_snapshots') }}
-- depends_on: {{ ref('stg_has_scores') }}
{{
    config(
        materialized='incremental',
        unique_key=['audience', 'platform', 'platform_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "delete from {{ this }} where platform || ':' || platform_id in"
            ~ " (select platform || ':' || platform_id from {{ ref('stg_excluded_accounts') }})",
        ],
    )
}}

with

weights_basis as (
    -- What the weights of an audience are computed from, as text: a change anywhere changes it.
    select
        audience,
        {{ dbt.listagg(
            dbt.concat([
                "model", "' '",
                "cast(agreements as " ~ dbt.type_string() ~ ")", "'/'",
                "cast(reviewed as " ~ dbt.type_string() ~ ")",
            ]),
            "', '",
            "order by model") }} as weights_basis
    from {{ ref('int_model_weights') }}
    group by audience
),

reviews as (
    -- Reviews of accounts the warehouse knows (a relationship the mart keeps to stg_profiles).
    select reviews.*
    from {{ ref('stg_reviews') }} as reviews
    inner join {{ ref('stg_profiles') }} as known
        on known.platform = reviews.platform and known.platform_id = reviews.platform_id
),

{% if is_incremental() %}
touched_accounts as (
    select platform, platform_id from {{ ref('stg_llm_labels') }}
    where {{ in_partition_window('partition_date') }}
    union
    select platform, platform_id from {{ ref('stg_profile_snapshots') }}
    where {{ in_partition_window('partition_date') }}
    union
    select platform, platform_id from {{ ref('stg_has_scores') }}
    where {{ in_partition_window('partition_date') }}
    union
    select reviews.platform, reviews.platform_id
    from reviews
    left join {{ this }} as held
        on held.audience = reviews.audience
        and held.platform = reviews.platform
        and held.platform_id = reviews.platform_id
    where held.review_id is null or held.review_id <> reviews.review_id
    union
    select leads.platform, leads.platform_id
    from {{ ref('stg_lead_events') }} as leads
    left join {{ this }} as held
        on held.audience = leads.audience
        and held.platform = leads.platform
        and held.platform_id = leads.platform_id
    where held.lead_event_id is null or held.lead_event_id <> leads.event_id
),

touched_audiences as (
    select weights_basis.audience
    from weights_basis
    left join (select distinct audience, weights_basis from {{ this }}) as held
        on held.audience = weights_basis.audience
    where held.weights_basis is null or held.weights_basis <> weights_basis.weights_basis
),
{% endif %}

accounts as (
    select audience, platform, platform_id from {{ ref('int_account_consensus') }}
    union
    select audience, platform, platform_id from reviews
),

selected as (
    select accounts.*
    from accounts
    {% if is_incremental() %}
    where exists (
        select 1 from touched_accounts
        where touched_accounts.platform = accounts.platform and touched_accounts.platform_id = accounts.platform_id
    )
    or accounts.audience in (select audience from touched_audiences)
    or not exists (
        select 1 from {{ this }} as held
        where held.audience = accounts.audience
        and held.platform = accounts.platform
        and held.platform_id = accounts.platform_id
    )
    {% endif %}
),

judged as (
    select
        selected.audience,
        selected.platform,
        selected.platform_id,
        case when reviews.review_id is not null then reviews.verdict else consensus.consensus_verdict end as verdict,
        case when reviews.review_id is not null then 'review' else 'consensus' end as verdict_source,
        case
            when reviews.review_id is not null then true
            else coalesce(consensus.consensus_backed, false)
        end as verdict_backed,
        consensus.consensus_verdict,
        consensus.consensus_backed,
        reviews.review_id,
        reviews.label as reviewed_label,
        reviews.reviewer as reviewed_by,
        reviews.reviewed_at,
        reviews.reason as review_reason,
        coalesce(consensus.models_labeled, 0) as models_labeled,
        coalesce(consensus.votes_true, 0) as votes_true,
        coalesce(consensus.votes_false, 0) as votes_false,
        coalesce(consensus.votes_uncertain, 0) as votes_uncertain,
        coalesce(consensus.votes_deferred, 0) as votes_deferred,
        coalesce(consensus.weight_true, 0) as weight_true,
        coalesce(consensus.weight_false, 0) as weight_false,
        coalesce(consensus.weight_uncertain, 0) as weight_uncertain,
        {{ safe_ratio('consensus.weight_true', 'consensus.weight_total') }} as match_weight_share,
        {{ safe_ratio('consensus.votes_true', 'consensus.models_labeled') }} as match_share,
        consensus.p_true_estimate,
        consensus.local_p_true,
        coalesce(consensus.label_cost_usd, 0) as label_cost_usd,
        consensus.first_labeled_at,
        consensus.last_labeled_at,
        weights_basis.weights_basis,
        reviews.handle as reviewed_handle
    from selected
    left join {{ ref('int_account_consensus') }} as consensus
        on consensus.audience = selected.audience
        and consensus.platform = selected.platform
        and consensus.platform_id = selected.platform_id
    left join reviews
        on reviews.audience = selected.audience
        and reviews.platform = selected.platform
        and reviews.platform_id = selected.platform_id
    left join weights_basis
        on weights_basis.audience = selected.audience
),

labels as (
    select labels.audience, labels.platform, labels.platform_id, labels.model, labels.vote, labels.reason
    from {{ ref('stg_llm_labels') }} as labels
    inner join selected
        on selected.audience = labels.audience
        and selected.platform = labels.platform
        and selected.platform_id = labels.platform_id
),

explained as (
    -- Which models voted the final verdict (the person's, when reviewed), and every model's reason.
    select
        judged.audience,
        judged.platform,
        judged.platform_id,
        {{ count_where('labels.vote = judged.verdict') }} as models_agreeing,
        {{ dbt.listagg(
            "case when labels.vote = judged.verdict then labels.model end",
            "', '",
            "order by labels.model") }} as agreeing_models,
        {{ dbt.listagg(
            dbt.concat(["labels.model", "' ('", "coalesce(labels.vote, 'deferred')", "'): '", "coalesce(labels.reason, '')"]),
            "' | '",
            "order by labels.model") }} as reasons
    from judged
    inner join labels
        on labels.audience = judged.audience
        and labels.platform = judged.platform
        and labels.platform_id = judged.platform_id
    group by judged.audience, judged.platform, judged.platform_id
),

latest_scores as (
    select * from {{ ref('int_latest_scores') }}
),

final as (
    select
        judged.audience,
        judged.platform,
        judged.platform_id,
        coalesce(profiles.handle, latest_scores.handle, judged.reviewed_handle) as handle,
        profiles.name,
        profiles.bio,
        profiles.location,
        profiles.category,
        profiles.followers,
        profiles.following,
        profiles.statuses,
        profiles.is_verified,
        judged.verdict,
        judged.verdict_source,
        judged.verdict_backed,
        judged.consensus_verdict,
        judged.consensus_backed,
        judged.reviewed_label,
        judged.reviewed_by,
        judged.reviewed_at,
        judged.review_reason,
        judged.review_id,
        judged.models_labeled,
        judged.votes_true,
        judged.votes_false,
        judged.votes_uncertain,
        judged.votes_deferred,
        judged.weight_true,
        judged.weight_false,
        judged.weight_uncertain,
        judged.match_weight_share,
        coalesce(explained.models_agreeing, 0) as models_agreeing,
        judged.match_share,
        explained.agreeing_models,
        explained.reasons,
        judged.p_true_estimate,
        judged.local_p_true,
        judged.weights_basis,
        latest_scores.has,
        latest_scores.likely_is,
        latest_scores.raw_score as has_raw_score,
        latest_scores.penalty as has_penalty,
        latest_scores.s_person as has_s_person,
        latest_scores.s_creator as has_s_creator,
        latest_scores.s_entity as has_s_entity,
        latest_scores.s_bot as has_s_bot,
        latest_scores.has_version,
        latest_scores.partition_date as has_scored_on,
        profiles.first_seen_at,
        profiles.last_seen_at,
        profiles.keywords as source_keywords,
        profiles.keyword_count,
        judged.label_cost_usd,
        judged.first_labeled_at,
        judged.last_labeled_at,
        case
            when leads.event_id is not null then leads.state
            when judged.review_id is not null then 'reviewed'
            else 'new'
        end as lead_state,
        case when leads.event_id is not null then leads.set_at else judged.reviewed_at end as lead_state_at,
        leads.note as lead_note,
        leads.set_by as lead_state_by,
        leads.event_id as lead_event_id,
        coalesce(leads.ever_contacted, false) as lead_ever_contacted,
        coalesce(leads.ever_replied, false) as lead_ever_replied
    from judged
    left join explained
        on explained.audience = judged.audience
        and explained.platform = judged.platform
        and explained.platform_id = judged.platform_id
    left join {{ ref('stg_profiles') }} as profiles
        on profiles.platform = judged.platform and profiles.platform_id = judged.platform_id
    left join latest_scores
        on latest_scores.platform = judged.platform and latest_scores.platform_id = judged.platform_id
    left join {{ ref('stg_lead_events') }} as leads
        on leads.audience = judged.audience
        and leads.platform = judged.platform
        and leads.platform_id = judged.platform_id
    where not exists (
        select 1 from {{ ref('stg_excluded_accounts') }} as excluded
        where excluded.platform = judged.platform and excluded.platform_id = judged.platform_id
    )
)

select * from final
