-- What LLM calls cost each profile, every attempt counted: one row per profile per batch it was
-- sent in (the batch's attempts in stg_model_calls, shared equally by the profiles it carried,
-- labeled or not: a malformed answer, a failed call and a dead-lettered unit all cost their
-- profiles), plus, for labels stored before the ledger existed (no model_calls row of their run
-- and model), the label's own cost. Summed by day, platform, model, audience or profile, it is
-- what every cost-per-X column of the marts divides.
with batches as (
    select batch_id, sum(cost_usd) as cost_usd, max(profiles) as profiles
    from {{ ref('stg_model_calls') }}
    group by batch_id
),

shares as (
    select
        members.platform,
        members.platform_id,
        members.model,
        members.audience,
        members.partition_date,
        {{ safe_ratio('batches.cost_usd', 'batches.profiles') }} as cost_usd
    from {{ ref('stg_model_call_profiles') }} as members
    inner join batches on batches.batch_id = members.batch_id
),

unledgered as (
    select labels.platform, labels.platform_id, labels.model, labels.audience, labels.partition_date, labels.cost_usd
    from {{ ref('stg_llm_labels') }} as labels
    where not exists (
        select 1 from {{ ref('stg_model_calls') }} as calls
        where calls.run_id = labels.run_id and calls.model = labels.model
    )
)

select platform, platform_id, model, audience, partition_date, cost_usd from shares
union all
select platform, platform_id, model, audience, partition_date, cost_usd from unledgered
