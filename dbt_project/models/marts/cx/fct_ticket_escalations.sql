-- One row per ticket and tier stint: the tier a ticket sat in (L1 line one, L2
-- line two, L3 senior, L4 line four / headquarters), how it got there (assigned,
-- escalated one tier, or jumped tiers: direct to HQ when the jump lands on L4)
-- and the time it spent there, up to the next escalation or the final resolution.

with

ticket_events as (

    select * from {{ ref('stg_voc__ticket_events') }}

),

tickets as (

    select * from {{ ref('int_tickets__lifecycle') }}

),

-- The first assignment opens the L1 stint; every escalation opens a new one.
tier_entries as (

    select
        ticket_id,
        ticket_event_id,
        event_type,
        coalesce(tier, 'L1') as tier,
        department,
        event_at as entered_at

    from ticket_events
    where event_type = 'escalated'
    union all
    select
        ticket_id,
        ticket_event_id,
        event_type,
        coalesce(tier, 'L1') as tier,
        department,
        event_at as entered_at

    from ticket_events
    where event_type = 'assigned'
    qualify row_number() over (partition by ticket_id order by event_at, ticket_event_id) = 1

),

numbered as (

    select
        *,
        row_number() over by_ticket as tier_sequence,
        lag(tier) over by_ticket as from_tier,
        lead(entered_at) over by_ticket as next_entered_at

    from tier_entries
    window by_ticket as (partition by ticket_id order by entered_at, ticket_event_id)

),

-- A stint ends at the next escalation, else at the final resolution when that
-- came after it; an escalation logged after the final resolution (real
-- help-desk data does this) leaves its stint open-ended (null), not negative.
sequenced as (

    select
        numbered.*,
        coalesce(
            numbered.next_entered_at,
            case
                when tickets.resolved_at >= numbered.entered_at then tickets.resolved_at
            end
        ) as left_at

    from numbered
    inner join {{ ref('int_tickets__lifecycle') }} as tickets
        on numbered.ticket_id = tickets.ticket_id

),

final as (

    select
        -- ids
        sequenced.ticket_id || ':' || sequenced.tier_sequence as ticket_tier_stint_id,
        sequenced.ticket_id,
        sequenced.ticket_event_id,
        tickets.department_id,
        sequenced.department as handling_department_id,

        -- stint facts
        sequenced.tier_sequence,
        sequenced.from_tier,
        sequenced.tier,
        cast(substr(sequenced.tier, 2) as integer)
        - cast(substr(coalesce(sequenced.from_tier, 'L1'), 2) as integer) as tiers_jumped,
        sequenced.left_at,
        (epoch(sequenced.left_at) - epoch(sequenced.entered_at)) / 60.0 as minutes_in_tier,

        -- booleans
        sequenced.event_type = 'escalated' as is_escalation,
        sequenced.tier = 'L4'
        and cast(substr(coalesce(sequenced.from_tier, 'L1'), 2) as integer) < 3 as is_direct_to_hq,
        sequenced.left_at is null as is_current_tier,

        -- timestamps (UTC)
        sequenced.entered_at

    from sequenced
    inner join tickets
        on sequenced.ticket_id = tickets.ticket_id

)

select * from final
