-- One row per ticket: Zendesk-style ticket metrics on both clocks (first reply,
-- full resolution), reopens, touches, tier path, customer wait and rating.

with

tickets as (

    select * from {{ ref('int_tickets__lifecycle') }}

),

ticket_events as (

    select * from {{ ref('stg_voc__ticket_events') }}

),

sla as (

    select * from {{ ref('fct_ticket_sla') }}

),

tier_stints as (

    select * from {{ ref('fct_ticket_escalations') }}

),

creation_clocks as (

    select
        ticket_id,
        -- a reply time exists once the agent replied: a running first-response
        -- clock is elapsed time, not a reply time (it would pull p50/p90 down)
        max(case when metric = 'first_response' and is_completed then business_minutes end)
            as first_reply_business_minutes,
        max(case when metric = 'first_response' and is_completed then calendar_minutes end)
            as first_reply_calendar_minutes,
        max(case when metric = 'resolution' and is_completed then business_minutes end)
            as full_resolution_business_minutes,
        max(case when metric = 'resolution' and is_completed then calendar_minutes end)
            as full_resolution_calendar_minutes,
        max(case when metric = 'resolution' then paused_minutes end) as on_hold_minutes,
        bool_or(metric = 'resolution' and is_breached) as is_resolution_breached

    from sla
    where applied_reason in ('created', 'complaint', 'compensation_requested')
    group by ticket_id

),

touches as (

    select
        ticket_id,
        count(case when event_type = 'responded' then 1 end) as agent_replies,
        bool_or(event_type like 'compensation_%') as has_compensation

    from ticket_events
    group by ticket_id

),

paths as (

    select
        ticket_id,
        string_agg(tier, '>' order by tier_sequence) as tier_path,
        bool_or(is_direct_to_hq) as is_direct_to_hq

    from tier_stints
    group by ticket_id

),

final as (

    select
        -- ids
        tickets.ticket_id,
        tickets.origin_contact_id,
        tickets.customer_id,
        tickets.order_id,
        coalesce(tickets.scenario_id, 'untagged') as scenario_id,
        tickets.department_id,

        -- ticket facts
        tickets.domain,
        tickets.channel,
        tickets.priority_at_creation as priority,
        tickets.highest_tier,
        paths.tier_path,
        tickets.escalated_count,
        tickets.reopened_count,
        touches.agent_replies,
        case
            when not tickets.is_resolved then null
            when touches.agent_replies <= 1 then 'one_touch'
            when touches.agent_replies = 2 then 'two_touch'
            else 'multi_touch'
        end as touch_class,
        tickets.latest_rating as ticket_rating,
        creation_clocks.first_reply_business_minutes,
        creation_clocks.first_reply_calendar_minutes,
        creation_clocks.full_resolution_business_minutes,
        creation_clocks.full_resolution_calendar_minutes,
        -- Requester wait (Zendesk): calendar time open and not waiting on the
        -- customer, up to the final resolution.
        creation_clocks.full_resolution_calendar_minutes as customer_wait_minutes,
        coalesce(creation_clocks.on_hold_minutes, 0) as on_hold_minutes,

        -- booleans
        tickets.is_resolved,
        tickets.reopened_count > 0 as is_reopened,
        coalesce(paths.is_direct_to_hq, false) as is_direct_to_hq,
        coalesce(touches.has_compensation, false) as has_compensation,
        creation_clocks.is_resolution_breached,
        tickets.latest_rating is not null as is_rated,
        tickets.latest_rating >= {{ var('voc_csat_min_score') }} as is_satisfied,

        -- timestamps (UTC)
        tickets.created_at,
        tickets.first_responded_at,
        tickets.resolved_at,
        tickets.rated_at

    from tickets
    left join creation_clocks
        on tickets.ticket_id = creation_clocks.ticket_id
    left join touches
        on tickets.ticket_id = touches.ticket_id
    left join paths
        on tickets.ticket_id = paths.ticket_id

)

select * from final
