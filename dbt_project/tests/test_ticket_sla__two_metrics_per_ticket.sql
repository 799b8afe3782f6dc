-- Assert that every ticket has exactly one first_response and one resolution SLA row
-- applied at its creation (escalations add resolution rows applied later).

with

tickets as (

    select ticket_id from {{ ref('int_tickets__lifecycle') }}

),

sla_rows as (

    select
        ticket_id,
        count(case when metric = 'first_response' then 1 end) as first_response_rows,
        count(case when metric = 'resolution' and applied_reason = 'created' then 1 end)
            as resolution_rows

    from {{ ref('fct_ticket_sla') }}
    group by ticket_id

),

final as (

    select
        tickets.ticket_id,
        sla_rows.first_response_rows,
        sla_rows.resolution_rows

    from tickets
    left join sla_rows
        on tickets.ticket_id = sla_rows.ticket_id
    where
        coalesce(sla_rows.first_response_rows, 0) != 1
        or coalesce(sla_rows.resolution_rows, 0) != 1

)

select * from final
