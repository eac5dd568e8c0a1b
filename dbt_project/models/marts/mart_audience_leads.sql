-- One row per audience x labeled account: the consensus of the models that labeled it, who
-- agrees and why, its latest HAS with the breakdown, when and by which keywords it was found.
-- Consensus: match when more models said true than false, no_match when more said false,
-- uncertain on a tie (including only-uncertain labels). Sorting by verdict, votes_true,
-- match_share and HAS gives the best leads first.
-- Incremental: a run recomputes every account that got a label, a snapshot or a score in its
-- window, from all of that account's rows (a new label changes the consensus of older ones).
-- Snapshots are read only on incremental runs, so dbt needs the hint to order the models:
-- depends_on: {{ ref('stg_profile_snapshots') }}
{{
    config(
        materialized='incremental',
        unique_key=['audience', 'platform', 'platform_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

{% if is_incremental() %}
touched as (
    select platform, platform_id from {{ ref('stg_llm_labels') }}
    where {{ in_partition_window('partition_date') }}
    union
    select platform, platform_id from {{ ref('stg_profile_snapshots') }}
    where {{ in_partition_window('partition_date') }}
    union
    select platform, platform_id from {{ ref('stg_has_scores') }}
    where {{ in_partition_window('partition_date') }}
),
{% endif %}

labels as (
    select labels.*
    from {{ ref('stg_llm_labels') }} as labels
    {% if is_incremental() %}
    inner join touched on touched.platform = labels.platform and touched.platform_id = labels.platform_id
    {% endif %}
),

votes as (
    select
        audience,
        platform,
        platform_id,
        count(*) as models_labeled,
        {{ count_where("verdict = 'match'") }} as votes_true,
        {{ count_where("verdict = 'no_match'") }} as votes_false,
        {{ count_where("verdict = 'uncertain'") }} as votes_uncertain,
        sum(cost_usd) as label_cost_usd,
        min(labeled_at) as first_labeled_at,
        max(labeled_at) as last_labeled_at
    from labels
    group by audience, platform, platform_id
),

consensus as (
    select
        votes.*,
        case
            when votes_true > votes_false then 'match'
            when votes_false > votes_true then 'no_match'
            else 'uncertain'
        end as verdict
    from votes
),

explained as (
    -- Which models gave the consensus verdict, and every model's reason.
    select
        consensus.audience,
        consensus.platform,
        consensus.platform_id,
        {{ count_where('labels.verdict = consensus.verdict') }} as models_agreeing,
        {{ dbt.listagg(
            "case when labels.verdict = consensus.verdict then labels.model end",
            "', '",
            "order by labels.model") }} as agreeing_models,
        {{ dbt.listagg(
            dbt.concat(["labels.model", "' ('", "labels.verdict", "'): '", "coalesce(labels.reason, '')"]),
            "' | '",
            "order by labels.model") }} as reasons
    from consensus
    inner join labels
        on labels.audience = consensus.audience
        and labels.platform = consensus.platform
        and labels.platform_id = consensus.platform_id
    group by consensus.audience, consensus.platform, consensus.platform_id
),

latest_scores as (
    select *
    from (
        select
            scores.*,
            row_number() over (
                partition by scores.platform, scores.platform_id order by scores.partition_date desc
            ) as recency
        from {{ ref('stg_has_scores') }} as scores
        {% if is_incremental() %}
        inner join touched on touched.platform = scores.platform and touched.platform_id = scores.platform_id
        {% endif %}
    ) as ranked
    where recency = 1
),

final as (
    select
        consensus.audience,
        consensus.platform,
        consensus.platform_id,
        coalesce(profiles.handle, latest_scores.handle) as handle,
        profiles.name,
        profiles.bio,
        profiles.location,
        profiles.category,
        profiles.followers,
        profiles.following,
        profiles.statuses,
        profiles.is_verified,
        consensus.verdict,
        consensus.models_labeled,
        consensus.votes_true,
        consensus.votes_false,
        consensus.votes_uncertain,
        explained.models_agreeing,
        {{ safe_ratio('consensus.votes_true', 'consensus.models_labeled') }} as match_share,
        explained.agreeing_models,
        explained.reasons,
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
        consensus.label_cost_usd,
        consensus.first_labeled_at,
        consensus.last_labeled_at
    from consensus
    inner join explained
        on explained.audience = consensus.audience
        and explained.platform = consensus.platform
        and explained.platform_id = consensus.platform_id
    left join {{ ref('stg_profiles') }} as profiles
        on profiles.platform = consensus.platform and profiles.platform_id = consensus.platform_id
    left join latest_scores
        on latest_scores.platform = consensus.platform and latest_scores.platform_id = consensus.platform_id
)

select * from final
