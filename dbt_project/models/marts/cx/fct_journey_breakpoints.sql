-- One row per domain x journey stage x ISO week (Monday, Asia/Shanghai): how many
-- journeys passed the stage (distinct orders, else sessions, with an app event in
-- it) and how many contacts the stage caused (contacts whose tagged scenario
-- belongs to it), per 1,000 journeys: where the journey breaks, week by week.

with

app_events as (

    select * from {{ ref('stg_voc__app_events') }}

),

contacts as (

    select * from {{ ref('fct_contacts') }}

),

scenarios as (

    select * from {{ ref('dim_scenarios') }}

),

journeys as (

    select
        domain,
        journey_stage,
        cast(date_trunc('week', event_at + interval 8 hour) as date) as week_start,
        count(distinct coalesce(order_id, session_id, customer_id)) as journeys

    from app_events
    where journey_stage is not null
    group by all

),

stage_contacts as (

    select
        scenarios.domain,
        scenarios.journey_stage,
        cast(date_trunc('week', contacts.contacted_date) as date) as week_start,
        count(*) as contacts,
        count(case when contacts.is_repeat_contact then 1 end) as repeat_contacts

    from contacts
    inner join scenarios
        on contacts.scenario_id = scenarios.scenario_id
    where not scenarios.is_untagged
    group by all

),

final as (

    select
        -- ids
        coalesce(journeys.domain, stage_contacts.domain) || ':'
        || coalesce(journeys.journey_stage, stage_contacts.journey_stage) || ':'
        || coalesce(journeys.week_start, stage_contacts.week_start) as journey_breakpoint_id,
        coalesce(journeys.domain, stage_contacts.domain) as domain,
        coalesce(journeys.journey_stage, stage_contacts.journey_stage) as journey_stage,
        coalesce(journeys.week_start, stage_contacts.week_start) as week_start,

        -- counts
        coalesce(journeys.journeys, 0) as journeys,
        coalesce(stage_contacts.contacts, 0) as contacts,
        coalesce(stage_contacts.repeat_contacts, 0) as repeat_contacts,

        -- rates
        1000.0 * coalesce(stage_contacts.contacts, 0)
        / nullif(journeys.journeys, 0) as contacts_per_1000_journeys

    from journeys
    full outer join stage_contacts
        on
            journeys.domain = stage_contacts.domain
            and journeys.journey_stage = stage_contacts.journey_stage
            and journeys.week_start = stage_contacts.week_start

)

select * from final
