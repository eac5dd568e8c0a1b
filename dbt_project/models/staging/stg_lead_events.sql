-- The current outreach state of each account for each audience: the latest lead_events row
-- (greatest set_at, then event_id), with what the lead has been through (ever_contacted,
-- ever_replied: a lead rejected after a reply still counts as replied in the funnel).
-- An account with no event is new, or reviewed when a person reviewed it (the marts apply that
-- rule, as scout_contract/leads.py CURRENT_STATE_SQL does for the Python side).
with source as (
    select * from {{ source('scout', 'lead_events') }}
),

ranked as (
    select
        source.*,
        row_number() over (
            partition by audience, platform, platform_id
            order by set_at desc, event_id desc
        ) as recency,
        count(*) over (partition by audience, platform, platform_id) as events_of_lead,
        max(case when state in ('contacted', 'replied', 'converted') or from_state in ('contacted', 'replied')
            then 1 else 0 end) over (partition by audience, platform, platform_id) as contacted_flag,
        max(case when state = 'replied' or from_state = 'replied'
            then 1 else 0 end) over (partition by audience, platform, platform_id) as replied_flag,
        min(set_at) over (partition by audience, platform, platform_id) as first_event_at
    from source
),

final as (
    select
        event_id,
        audience,
        platform,
        platform_id,
        handle,
        state,
        from_state,
        note,
        set_by,
        source,
        set_at,
        first_event_at,
        events_of_lead,
        contacted_flag = 1 as ever_contacted,
        replied_flag = 1 as ever_replied
    from ranked
    where recency = 1
)

select * from final
