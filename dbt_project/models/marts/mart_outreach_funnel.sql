-- The outreach funnel: per audience and day, the leads that day brought and how far they got.
-- day is the day a search first found the account (stg_profiles.first_seen_at, UTC): a cohort,
-- so every lead is counted once and the day's numbers only grow as the outreach goes on.
--   leads      accounts a model labeled or a person reviewed for the audience, not excluded
--   reviewed   of those, a person reviewed them or moved their lead state (any lead event)
--   contacted  went through contacted (they may have replied, converted or been rejected since)
--   replied    went through replied
--   converted  current state converted
--   rejected   current state rejected
--   excluded   accounts of the cohort a do-not-contact entry excludes (stg_excluded_accounts):
--              never leads, counted here only
-- Lead state as in mart_audience_leads (scout_contract/leads.py). A table rebuilt whole on every
-- run: a state set today moves a cohort of any day.
{{ config(materialized='table') }}

with

accounts as (
    select audience, platform, platform_id from {{ ref('int_account_consensus') }}
    union
    select audience, platform, platform_id from {{ ref('stg_reviews') }} where platform_id is not null
),

excluded as (
    select distinct platform, platform_id from {{ ref('stg_excluded_accounts') }}
),

leads as (
    select
        accounts.audience,
        cast(profiles.first_seen_at as date) as day,
        excluded.platform_id is not null as is_excluded,
        reviews.review_id is not null or events.event_id is not null as is_reviewed,
        coalesce(events.ever_contacted, false) as is_contacted,
        coalesce(events.ever_replied, false) as is_replied,
        coalesce(events.state = 'converted', false) as is_converted,
        coalesce(events.state = 'rejected', false) as is_rejected
    from accounts
    inner join {{ ref('stg_profiles') }} as profiles
        on profiles.platform = accounts.platform and profiles.platform_id = accounts.platform_id
    left join {{ ref('stg_reviews') }} as reviews
        on reviews.audience = accounts.audience
        and reviews.platform = accounts.platform
        and reviews.platform_id = accounts.platform_id
    left join {{ ref('stg_lead_events') }} as events
        on events.audience = accounts.audience
        and events.platform = accounts.platform
        and events.platform_id = accounts.platform_id
    left join excluded
        on excluded.platform = accounts.platform and excluded.platform_id = accounts.platform_id
),

final as (
    select
        audience,
        day,
        {{ count_where('not is_excluded') }} as leads,
        {{ count_where('not is_excluded and is_reviewed') }} as reviewed,
        {{ count_where('not is_excluded and is_contacted') }} as contacted,
        {{ count_where('not is_excluded and is_replied') }} as replied,
        {{ count_where('not is_excluded and is_converted') }} as converted,
        {{ count_where('not is_excluded and is_rejected') }} as rejected,
        {{ count_where('is_excluded') }} as excluded
    from leads
    group by audience, day
)

select * from final
