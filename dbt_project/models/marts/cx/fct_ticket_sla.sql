-- One row per ticket x SLA metric x time the SLA applied (int_tickets__sla_clocks),
-- measured on both clocks: business minutes (the overlap with the ticket
-- department's working windows on the Chinese business calendar) and calendar
-- minutes, each less the time the ticket waited on the customer. The target
-- counts on the clock named in `clock`. is_breached is null while a clock runs
-- and can still be met; a running clock already past its target is breached.

with

clocks as (

    select * from {{ ref('int_tickets__sla_clocks') }}

),

tickets as (

    select * from {{ ref('int_tickets__lifecycle') }}

),

-- "Now" is the last event time in the ticket data, not the wall clock, so that
-- rebuilding the same data always gives the same figures.
data_as_of as (

    select max(last_event_at) as as_of_at from tickets

),

spans as (

    select
        clocks.*,
        tickets.department_id,
        data_as_of.as_of_at,
        clocks.applied_at as span_from,
        coalesce(clocks.completed_at, data_as_of.as_of_at) as span_to

    from clocks
    inner join tickets
        on clocks.ticket_id = tickets.ticket_id
    cross join data_as_of

),

-- business and calendar minutes from the clock's start to its completion (or
-- "now"), less waits on the customer (macros/sla_elapsed.sql)
elapsed as (

    {{ sla_elapsed('spans', 'ticket_sla_id') }}

),

measured as (

    select
        spans.*,
        elapsed.business_minutes,
        elapsed.calendar_minutes,
        elapsed.paused_minutes

    from spans
    inner join elapsed
        on spans.ticket_sla_id = elapsed.ticket_sla_id

),

flagged as (

    select
        *,
        case clock
            when 'business' then business_minutes
            else calendar_minutes
        end as elapsed_minutes,
        completed_at is not null as is_completed

    from measured

),

final as (

    select
        -- ids
        flagged.ticket_sla_id,
        flagged.ticket_id,
        tickets.customer_id,
        coalesce(tickets.scenario_id, 'untagged') as scenario_id,
        flagged.department_id,

        -- SLA facts
        flagged.metric,
        flagged.applied_reason,
        flagged.clock,
        tickets.domain,
        tickets.channel,
        tickets.priority_at_creation as priority,
        tickets.highest_tier,
        tickets.reopened_count,
        flagged.target_minutes,
        flagged.target_source,
        flagged.elapsed_minutes,
        flagged.business_minutes,
        flagged.calendar_minutes,
        flagged.paused_minutes,
        greatest(flagged.target_minutes - flagged.elapsed_minutes, 0) as remaining_minutes,

        -- booleans
        flagged.is_completed,
        -- Met exactly at the target is met. Null: still running and can be met.
        case
            when flagged.elapsed_minutes > flagged.target_minutes then true
            when flagged.is_completed then false
        end as is_breached,
        not flagged.is_completed
        and flagged.elapsed_minutes <= flagged.target_minutes as is_active,
        not flagged.is_completed
        and flagged.elapsed_minutes <= flagged.target_minutes
        and flagged.target_minutes - flagged.elapsed_minutes
        < {{ var('voc_sla_at_risk_share') }} * flagged.target_minutes as is_at_risk,

        -- timestamps (UTC)
        flagged.applied_at,
        -- the clock's start, = applied_at (the name the dashboard and report read)
        flagged.applied_at as started_at,
        flagged.completed_at,
        flagged.as_of_at

    from flagged
    inner join tickets
        on flagged.ticket_id = tickets.ticket_id

)

select * from final
