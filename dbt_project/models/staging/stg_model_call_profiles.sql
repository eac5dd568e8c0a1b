-- One profile sent in one LLM batch: who shares the cost of the batch's attempts.
with source as (
    select * from {{ source('scout', 'model_call_profiles') }}
)

select batch_id, platform, platform_id, model, audience, partition_date from source
