-- One circuit breaker (one per platform and per model provider) as it stands now: closed
-- (calls go through), open (runs skip it until probe_after), half_open (one probe is out).
-- window_outcomes holds the last calls' outcomes ('1' failed); its length is calls_in_window.
with source as (
    select * from {{ source('scout', 'circuit_breakers') }}
),

renamed as (
    select
        kind,
        name,
        state,
        consecutive_failures,
        error_rate,
        length(window_outcomes) as calls_in_window,
        opened_at,
        probe_after,
        times_opened,
        last_change,
        last_error,
        changed_at,
        updated_at,
        state <> 'closed' as is_tripped
    from source
)

select * from renamed
