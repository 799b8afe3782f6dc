-- Assert that a contact that opened a ticket has the ticket's department in
-- fct_contacts, and that every SLA row, tier stint and compensation claim of a
-- ticket has that same department: one department definition for a ticket,
-- used everywhere. A missing department on either side is a mismatch too
-- (`is distinct from`, not `!=`, which lets nulls through).

with

contacts as (

    select * from {{ ref('fct_contacts') }}

),

tickets as (

    select * from {{ ref('fct_ticket_metrics') }}

),

sla as (

    select * from {{ ref('fct_ticket_sla') }}

),

stints as (

    select * from {{ ref('fct_ticket_escalations') }}

),

claims as (

    select * from {{ ref('fct_compensations') }}

),

-- Every row that names a ticket and a department, whichever mart it is in.
ticket_rows as (

    select
        'fct_contacts' as mart,
        contact_id as id,
        ticket_id,
        department_id
    from contacts

    union all

    select
        'fct_ticket_sla' as mart,
        ticket_sla_id as id,
        ticket_id,
        department_id
    from sla

    union all

    select
        'fct_ticket_escalations' as mart,
        ticket_tier_stint_id as id,
        ticket_id,
        department_id
    from stints

    union all

    select
        'fct_compensations' as mart,
        compensation_id as id,
        ticket_id,
        department_id
    from claims

),

final as (

    select
        ticket_rows.mart,
        ticket_rows.id,
        ticket_rows.ticket_id,
        ticket_rows.department_id,
        tickets.department_id as ticket_department_id

    from ticket_rows
    inner join tickets
        on ticket_rows.ticket_id = tickets.ticket_id
    where ticket_rows.department_id is distinct from tickets.department_id

)

select * from final
