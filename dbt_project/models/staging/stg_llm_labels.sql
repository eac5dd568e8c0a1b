-- One label, with the label as a word (verdict) and the vote it casts in the weighted consensus:
-- the verdict, except that a label the local labeler deferred to the LLM cascade casts a null
-- vote: a blank ballot, for no label at all (it asked an LLM to decide; whatever its best guess,
-- it neither pushes the verdict nor, if it were an "uncertain" vote, ties every LLM answer).
with source as (
    select * from {{ source('scout', 'llm_labels') }}
),

renamed as (
    select
        platform,
        platform_id,
        handle,
        model,
        model_id,
        audience,
        audience_hash,
        partition_date,
        label,
        {{ verdict_of('label') }} as verdict,
        case when coalesce(deferred, false) then null else {{ verdict_of('label') }} end as vote,
        p_true,
        coalesce(deferred, false) as is_deferred,
        reason,
        prompt_version,
        coalesce(input_tokens, 0) as input_tokens,
        coalesce(output_tokens, 0) as output_tokens,
        coalesce(cost_usd, 0) as cost_usd,
        latency_ms,
        run_id,
        labeled_at
    from source
)

select * from renamed
