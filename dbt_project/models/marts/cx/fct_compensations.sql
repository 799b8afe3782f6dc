-- One row per 先行赔付 claim (a ticket with a compensation_requested event):
-- requested -> approved -> paid, in hours, against the 2-hour target, with the
-- amount, the department whose budget pays it and the scenario it compensated.

with

ticket_events as (

    select * from {{ ref('stg_voc__ticket_events') }}

),

tickets as (

    select * from {{ ref('int_tickets__lifecycle') }}

),

claims as (

    select
        ticket_id,
        min(case when event_type = 'compensation_requested' then event_at end) as requested_at,
        min(case when event_type = 'compensation_approved' then event_at end) as approved_at,
        min(case when event_type = 'compensation_paid' then event_at end) as paid_at,
        arg_max(compensation_amount_cny, event_at) as amount_cny,
        arg_max(budget_owner_department_id, event_at) filter (
            where budget_owner_department_id is not null
        ) as budget_owner_department_id

    from ticket_events
    where event_type like 'compensation_%'
    group by ticket_id

),

data_as_of as (

    select max(last_event_at) as as_of_at from tickets

),

final as (

    select
        -- ids
        claims.ticket_id as compensation_id,
        claims.ticket_id,
        coalesce(tickets.scenario_id, 'untagged') as scenario_id,
        tickets.department_id,
        claims.budget_owner_department_id,

        -- claim facts
        claims.amount_cny,
        {{ var('voc_compensation_sla_hours') }} as target_hours,
        (epoch(claims.approved_at) - epoch(claims.requested_at)) / 3600.0 as hours_to_approve,
        (epoch(claims.paid_at) - epoch(claims.requested_at)) / 3600.0 as hours_to_pay,

        -- booleans
        claims.paid_at is not null as is_paid,
        -- null while unpaid and still within the target
        case
            when claims.paid_at is not null
                then
                    epoch(claims.paid_at) - epoch(claims.requested_at)
                    <= {{ var('voc_compensation_sla_hours') }} * 3600
            when
                epoch(data_as_of.as_of_at) - epoch(claims.requested_at)
                > {{ var('voc_compensation_sla_hours') }} * 3600
                then false
        end as is_paid_within_target,

        -- timestamps (UTC)
        claims.requested_at,
        claims.approved_at,
        claims.paid_at

    from claims
    cross join data_as_of
    left join tickets
        on claims.ticket_id = tickets.ticket_id
    where claims.requested_at is not null

)

select * from final
