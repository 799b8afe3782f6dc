-- One row per ticket: its lifecycle folded from the ticket events, and the scenario
-- of the contact that opened it.

with

ticket_events as (

    select * from {{ ref('stg_voc__ticket_events') }}

),

contacts as (

    select * from {{ ref('stg_voc__contacts') }}

),

scenarios as (

    select * from {{ ref('stg_voc__scenarios') }}

),

-- The created event fixes what was in force when the SLA applied (priority, due
-- date, channel). Duplicated created events keep the earliest; a ticket whose
-- created event has not arrived falls back to its earliest event of any type.
opening_events as (

    select
        ticket_id,
        ticket_event_id as opening_event_id,
        event_type = 'created' as has_created_event,
        event_at as created_at,
        domain,
        customer_id,
        order_id,
        channel,
        source_contact_id,
        priority as priority_at_creation,
        sla_due_at,
        category_code

    from ticket_events
    qualify row_number() over (
        partition by ticket_id
        order by event_type = 'created' desc, event_at asc, ticket_event_id asc
    ) = 1

),

-- Where the ticket stands after its last event (priority may be raised later;
-- the SLA keeps the priority at creation, this is for reference only).
latest_events as (

    select
        ticket_id,
        priority as current_priority,
        event_at as last_event_at

    from ticket_events
    qualify row_number() over (
        partition by ticket_id
        order by event_at desc, ticket_event_id desc
    ) = 1

),

first_assignments as (

    select
        ticket_id,
        department as first_department,
        event_at as first_assigned_at

    from ticket_events
    where
        event_type in ('assigned', 'escalated')
        and department is not null
    qualify row_number() over (
        partition by ticket_id
        order by event_at, ticket_event_id
    ) = 1

),

latest_ratings as (

    select
        ticket_id,
        rating as latest_rating,
        event_at as rated_at

    from ticket_events
    where
        event_type = 'rated'
        and rating is not null
    qualify row_number() over (
        partition by ticket_id
        order by event_at desc, ticket_event_id desc
    ) = 1

),

-- The status after the last resolved/reopened event decides whether the ticket
-- is resolved now: a reopen after the last resolution reopens the clock.
last_status_events as (

    select
        ticket_id,
        event_type as last_status_event_type,
        event_at as last_status_at

    from ticket_events
    where event_type in ('resolved', 'reopened')
    qualify row_number() over (
        partition by ticket_id
        order by event_at desc, event_type = 'resolved' asc, ticket_event_id desc
    ) = 1

),

event_rollups as (

    select
        ticket_id,
        min(case when event_type = 'responded' then event_at end) as first_responded_at,
        min(case when event_type = 'resolved' then event_at end) as first_resolved_at,
        count(case when event_type = 'reopened' then 1 end) as reopened_count,
        count(case when event_type = 'escalated' then 1 end) as escalated_count,
        -- tiers are L1..L4, so the greatest string is the highest tier
        max(tier) as highest_tier,
        count(*) as event_count

    from ticket_events
    group by ticket_id

),

joined as (

    select
        opening_events.ticket_id,
        opening_events.opening_event_id,
        -- The ticket's originating contact: the call it came from when
        -- source_contact_id is set, else the created event itself.
        coalesce(
            opening_events.source_contact_id,
            opening_events.opening_event_id
        ) as origin_contact_id,
        opening_events.source_contact_id,
        opening_events.domain,
        opening_events.customer_id,
        opening_events.order_id,
        opening_events.channel,
        opening_events.category_code,
        contacts.scenario_id,
        opening_events.priority_at_creation,
        latest_events.current_priority,
        first_assignments.first_department,
        -- The ticket's department, one definition used by every mart
        -- (DECISIONLOG "Department of a ticket"): the department it was first
        -- assigned to, else the owner of its tagged scenario, else the desk that
        -- triages untagged contacts.
        coalesce(
            first_assignments.first_department,
            scenarios.owner_department_id,
            '{{ var("voc_untagged_owner") }}'
        ) as department_id,
        event_rollups.highest_tier,
        event_rollups.escalated_count,
        event_rollups.reopened_count,
        event_rollups.event_count,
        latest_ratings.latest_rating,
        opening_events.has_created_event,
        coalesce(last_status_events.last_status_event_type = 'resolved', false) as is_resolved,
        opening_events.created_at,
        opening_events.sla_due_at,
        first_assignments.first_assigned_at,
        event_rollups.first_responded_at,
        event_rollups.first_resolved_at,
        case
            when last_status_events.last_status_event_type = 'resolved'
                then last_status_events.last_status_at
        end as resolved_at,
        latest_ratings.rated_at,
        latest_events.last_event_at

    from opening_events
    inner join latest_events
        on opening_events.ticket_id = latest_events.ticket_id
    inner join event_rollups
        on opening_events.ticket_id = event_rollups.ticket_id
    left join first_assignments
        on opening_events.ticket_id = first_assignments.ticket_id
    left join latest_ratings
        on opening_events.ticket_id = latest_ratings.ticket_id
    left join last_status_events
        on opening_events.ticket_id = last_status_events.ticket_id
    left join contacts
        on coalesce(
            opening_events.source_contact_id,
            opening_events.opening_event_id
        ) = contacts.contact_id
    left join scenarios
        on contacts.scenario_id = scenarios.scenario_id

),

final as (

    select * from joined

)

select * from final
