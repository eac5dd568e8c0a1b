-- One attempt to call an LLM for one batch, whatever its outcome, with its tokens and cost: the
-- labeling cost ledger (scout_assets/spend/ledger.py). A failed, malformed or retried attempt is
-- a row like any other, so the marts' cost per label counts it.
with source as (
    select * from {{ source('scout', 'model_calls') }}
),

renamed as (
    select
        call_id,
        batch_id,
        run_id,
        model,
        model_id,
        provider,
        audience,
        platform,
        partition_date,
        cast(called_at as date) as called_on,
        attempt,
        profiles,
        coalesce(labels, 0) as labels,
        coalesce(failures, 0) as failures,
        coalesce(input_tokens, 0) as input_tokens,
        coalesce(output_tokens, 0) as output_tokens,
        coalesce(cost_usd, 0) as cost_usd,
        cost_basis,
        outcome,
        error_kind,
        error,
        latency_ms,
        called_at,
        outcome = 'failed' as is_failed,
        outcome in ('invalid', 'failed') as is_wasted
    from source
)

select * from renamed
