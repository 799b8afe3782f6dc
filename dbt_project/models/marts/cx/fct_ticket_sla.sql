-- One row per ticket and SLA metric ('first_response', 'resolution'), on the
-- calendar-hour clock. Business hours and holidays come later, as a second path
-- unioned in beside this one.

with

tickets as (

    select * from {{ ref('int_tickets__lifecycle') }}

),

scenarios as (

    select * from {{ ref('dim_scenarios') }}

),

priority_defaults as (

    select * from {{ ref('sla_priority_defaults') }}

),

-- "Now" is the last event time in the ticket data, not the wall clock, so that
-- rebuilding the same data always gives the same breaches.
data_as_of as (

    select max(last_event_at) as as_of_at from tickets

),

-- Resolution target, in order of precedence:
--   1. the ticket's own sla_due_at from its created event (the deadline the
--      department was given when the ticket was opened),
--   2. the scenario's sla_hours for the priority at creation,
--   3. a default per priority for tickets with neither.
resolution_targets as (

    select
        tickets.ticket_id,
        case
            when tickets.sla_due_at is not null
                then
                    date_diff('second', tickets.created_at, tickets.sla_due_at)
                    / 3600.0
            when not scenarios.is_untagged
                then
                    case tickets.priority_at_creation
                        when 'urgent' then scenarios.sla_hours_urgent
                        when 'high' then scenarios.sla_hours_high
                        when 'normal' then scenarios.sla_hours_normal
                        when 'low' then scenarios.sla_hours_low
                    end
            else priority_defaults.default_resolution_hours
        end as target_hours,
        case
            when tickets.sla_due_at is not null then 'ticket_sla_due_at'
            when not scenarios.is_untagged then 'scenario'
            else 'default'
        end as target_source

    from tickets
    left join scenarios
        on coalesce(tickets.scenario_id, 'untagged') = scenarios.scenario_id
    left join priority_defaults
        on tickets.priority_at_creation = priority_defaults.priority

),

first_response_clocks as (

    select
        tickets.ticket_id,
        'first_response' as metric,
        priority_defaults.first_response_hours as target_hours,
        'default' as target_source,
        tickets.created_at as started_at,
        -- A resolution also answers the customer: a ticket resolved without a
        -- separate response completes its first-response clock then.
        least(tickets.first_responded_at, tickets.first_resolved_at) as completed_at

    from tickets
    left join priority_defaults
        on tickets.priority_at_creation = priority_defaults.priority

),

resolution_clocks as (

    select
        tickets.ticket_id,
        'resolution' as metric,
        resolution_targets.target_hours,
        resolution_targets.target_source,
        tickets.created_at as started_at,
        -- The final resolution: a reopened ticket that is not resolved again is
        -- still open, and a re-resolution after the deadline is a breach.
        tickets.resolved_at as completed_at

    from tickets
    inner join resolution_targets
        on tickets.ticket_id = resolution_targets.ticket_id

),

clocks as (

    select * from first_response_clocks
    union all
    select * from resolution_clocks

),

measured as (

    select
        clocks.*,
        data_as_of.as_of_at,
        clocks.started_at
        + to_microseconds(cast(round(clocks.target_hours * 3600000000) as bigint))
            as breach_at,
        date_diff(
            'second', clocks.started_at, coalesce(clocks.completed_at, data_as_of.as_of_at)
        ) / 3600.0 as elapsed_hours

    from clocks
    cross join data_as_of

),

flagged as (

    select
        *,
        completed_at is not null as is_completed,
        -- Breached: completed after the deadline, or still running and the
        -- deadline has passed by the last event time. Completing exactly at
        -- breach_at meets the SLA.
        coalesce(completed_at > breach_at, breach_at < as_of_at) as is_breached

    from measured

),

final as (

    select
        -- ids
        flagged.ticket_id || ':' || flagged.metric as ticket_sla_id,
        flagged.ticket_id,
        tickets.customer_id,
        coalesce(tickets.scenario_id, 'untagged') as scenario_id,
        coalesce(tickets.first_department, scenarios.owner_department_id) as department_id,

        -- SLA facts
        flagged.metric,
        'calendar' as clock,
        tickets.domain,
        tickets.channel,
        tickets.priority_at_creation as priority,
        tickets.highest_tier,
        tickets.reopened_count,
        flagged.target_hours,
        flagged.target_source,
        flagged.elapsed_hours,

        -- booleans
        flagged.is_completed,
        flagged.is_breached,
        -- Active: the clock is still running and can still be met.
        not flagged.is_completed and not flagged.is_breached as is_active,

        -- timestamps (UTC)
        flagged.started_at,
        flagged.breach_at,
        flagged.completed_at,
        flagged.as_of_at

    from flagged
    inner join tickets
        on flagged.ticket_id = tickets.ticket_id
    left join scenarios
        on coalesce(tickets.scenario_id, 'untagged') = scenarios.scenario_id

)

select * from final
