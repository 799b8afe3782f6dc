-- One row per ticket, SLA metric and time the SLA applied (Fivetran dbt_zendesk's
-- grain): what was promised, on which clock, from when, and when it was met.
--   first_response          applied at creation: the seed's per-priority target
--   resolution              applied at creation and re-applied at each escalation
--                           (the new tier gets the full target again): the target
--                           the ticketing system stamped (business time from
--                           creation to the ticket's own sla_due_at), else the
--                           catalog's tagged scenario x priority, else the seed
--                           default
--   complaint_resolution    complaints (the ticket's own category, from its coarse
--                           category_code '<domain>/<category>', else its tagged
--                           scenario's, in var voc_complaint_categories): 48
--                           calendar hours
--   compensation_payment    a 先行赔付 claim: requested -> paid in 2 calendar hours
-- Targets count business minutes of the ticket's department (first response,
-- resolution) or calendar minutes (promises made to the customer in hours).

{% set complaint_categories = "'" ~ var('voc_complaint_categories') | join("', '") ~ "'" %}

with

tickets as (

    select * from {{ ref('int_tickets__lifecycle') }}

),

ticket_events as (

    select * from {{ ref('stg_voc__ticket_events') }}

),

scenarios as (

    select * from {{ ref('stg_voc__scenarios') }}

),

priority_defaults as (

    select * from {{ ref('sla_priority_defaults') }}

),

schedule as (

    select * from {{ ref('int_department_schedule') }}

),

-- The resolution target the ticketing system applied when it opened the ticket:
-- it stamps the due date on the department's business clock (a target of 8
-- working hours from Friday 17:00 is due on Monday), so the target is the
-- department's working time from creation to that due date. This is the
-- ticket's own policy, from its own category as the ticketing system knows it;
-- the tagger's scenario is only a fallback for tickets without one.
stamped_targets as (

    select
        tickets.ticket_id,
        coalesce(
            sum(
                epoch(least(tickets.sla_due_at, schedule.window_end_at))
                - epoch(greatest(tickets.created_at, schedule.window_start_at))
            ),
            0
        ) / 3600.0 as stamped_target_hours

    from tickets
    left join schedule
        on
            tickets.department_id = schedule.department_id
            and tickets.created_at < schedule.window_end_at
            and tickets.sla_due_at > schedule.window_start_at
    where tickets.sla_due_at > tickets.created_at
    group by tickets.ticket_id

),

tickets_with_targets as (

    select
        tickets.*,
        scenarios.category as scenario_category,
        -- the category the ticketing system filed it under (a coarse menu code
        -- '<domain>/<category>'; a leaf code names no category here)
        case
            when tickets.category_code like '%/%' then split_part(tickets.category_code, '/', 2)
        end as ticket_category,
        case tickets.priority_at_creation
            when 'urgent' then scenarios.sla_hours_urgent
            when 'high' then scenarios.sla_hours_high
            when 'normal' then scenarios.sla_hours_normal
            when 'low' then scenarios.sla_hours_low
        end as scenario_target_hours,
        stamped_targets.stamped_target_hours,
        priority_defaults.first_response_hours,
        priority_defaults.default_resolution_hours

    from tickets
    left join scenarios
        on tickets.scenario_id = scenarios.scenario_id
    left join priority_defaults
        on tickets.priority_at_creation = priority_defaults.priority
    left join stamped_targets
        on tickets.ticket_id = stamped_targets.ticket_id

),

escalations as (

    select
        ticket_id,
        event_at as escalated_at,
        tier

    from ticket_events
    where event_type = 'escalated'

),

compensation_claims as (

    select
        ticket_id,
        min(case when event_type = 'compensation_requested' then event_at end) as requested_at,
        min(case when event_type = 'compensation_paid' then event_at end) as paid_at

    from ticket_events
    where event_type like 'compensation_%'
    group by ticket_id

),

first_response_clocks as (

    select
        ticket_id,
        'first_response' as metric,
        created_at as applied_at,
        'created' as applied_reason,
        'business' as clock,
        first_response_hours as target_hours,
        'priority_default' as target_source,
        -- A resolution also answers the customer.
        least(first_responded_at, first_resolved_at) as completed_at

    from tickets_with_targets

),

resolution_clocks as (

    select
        ticket_id,
        'resolution' as metric,
        created_at as applied_at,
        'created' as applied_reason,
        'business' as clock,
        coalesce(stamped_target_hours, scenario_target_hours, default_resolution_hours)
            as target_hours,
        case
            when stamped_target_hours is not null then 'ticket'
            when scenario_target_hours is not null then 'catalog'
            else 'priority_default'
        end as target_source,
        resolved_at as completed_at

    from tickets_with_targets

),

escalated_resolution_clocks as (

    select
        tickets_with_targets.ticket_id,
        'resolution' as metric,
        escalations.escalated_at as applied_at,
        'escalated_to_' || escalations.tier as applied_reason,
        'business' as clock,
        coalesce(
            tickets_with_targets.stamped_target_hours,
            tickets_with_targets.scenario_target_hours,
            tickets_with_targets.default_resolution_hours
        ) as target_hours,
        case
            when tickets_with_targets.stamped_target_hours is not null then 'ticket'
            when tickets_with_targets.scenario_target_hours is not null then 'catalog'
            else 'priority_default'
        end as target_source,
        -- the final resolution, when it came after this escalation
        case
            when tickets_with_targets.resolved_at >= escalations.escalated_at
                then tickets_with_targets.resolved_at
        end as completed_at

    from tickets_with_targets
    inner join escalations
        on tickets_with_targets.ticket_id = escalations.ticket_id

),

complaint_clocks as (

    select
        ticket_id,
        'complaint_resolution' as metric,
        created_at as applied_at,
        'complaint' as applied_reason,
        'calendar' as clock,
        {{ var('voc_complaint_sla_hours') }} as target_hours,
        'complaint_policy' as target_source,
        resolved_at as completed_at

    from tickets_with_targets
    where coalesce(ticket_category, scenario_category) in ({{ complaint_categories }})

),

compensation_clocks as (

    select
        ticket_id,
        'compensation_payment' as metric,
        requested_at as applied_at,
        'compensation_requested' as applied_reason,
        'calendar' as clock,
        {{ var('voc_compensation_sla_hours') }} as target_hours,
        'compensation_policy' as target_source,
        paid_at as completed_at

    from compensation_claims
    where requested_at is not null

),

unioned as (

    select * from first_response_clocks
    union all
    select * from resolution_clocks
    union all
    select * from escalated_resolution_clocks
    union all
    select * from complaint_clocks
    union all
    select * from compensation_clocks

),

final as (

    select
        -- two escalations in the same second (seen in real help-desk data) are two
        -- applications: the second gets a ':2' suffix
        unioned.ticket_id || ':' || unioned.metric || ':'
        || strftime(unioned.applied_at, '%Y-%m-%dT%H:%M:%S')
        || case
            when
                row_number() over (
                    partition by unioned.ticket_id, unioned.metric, unioned.applied_at
                    order by unioned.applied_reason
                ) > 1
                then
                    ':' || row_number() over (
                        partition by unioned.ticket_id, unioned.metric, unioned.applied_at
                        order by unioned.applied_reason
                    )
            else ''
        end as ticket_sla_id,
        unioned.ticket_id,
        unioned.metric,
        unioned.applied_at,
        unioned.applied_reason,
        unioned.clock,
        cast(unioned.target_hours * 60 as double) as target_minutes,
        unioned.target_source,
        unioned.completed_at

    from unioned

)

select * from final
