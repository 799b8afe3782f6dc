-- One row per time a ticket waited on the customer: from a 'pending' event to
-- the next event that ends the wait (the customer's reply, a resolution, a
-- reopen or another agent response); resumed_at is null while still waiting.
-- Consecutive 'pending' events are one pause (the first one starts it), so that
-- pauses never overlap and can be subtracted from SLA clocks.

with

ticket_events as (

    select * from {{ ref('stg_voc__ticket_events') }}

),

status_events as (

    select
        ticket_id,
        ticket_event_id,
        event_type,
        event_at,
        lag(event_type) over by_ticket as previous_event_type

    from ticket_events
    where event_type in ('pending', 'customer_replied', 'responded', 'resolved', 'reopened')
    window by_ticket as (partition by ticket_id order by event_at, ticket_event_id)

),

-- keep a pending only when it starts a wait, and every event that can end one
boundaries as (

    select
        *,
        lead(event_at) over by_ticket as next_event_at

    from status_events
    where
        event_type != 'pending'
        or previous_event_type is distinct from 'pending'
    window by_ticket as (partition by ticket_id order by event_at, ticket_event_id)

),

final as (

    select
        ticket_event_id as ticket_pause_id,
        ticket_id,
        event_at as paused_at,
        next_event_at as resumed_at

    from boundaries
    where event_type = 'pending'

)

select * from final
