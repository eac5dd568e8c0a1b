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
