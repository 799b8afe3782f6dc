-- Assert that a contact that opened a ticket has the ticket's department in
-- fct_contacts, and that every SLA row of a ticket has that same department:
-- one department definition for a ticket, used everywhere.

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

contact_mismatches as (

    select
        contacts.contact_id as id,
        contacts.department_id,
        tickets.department_id as other

    from contacts
    inner join tickets
        on contacts.ticket_id = tickets.ticket_id
    where contacts.department_id != tickets.department_id

),

sla_mismatches as (

    select
        sla.ticket_sla_id as id,
        sla.department_id,
        tickets.department_id as other

    from sla
    inner join tickets
        on sla.ticket_id = tickets.ticket_id
    where sla.department_id != tickets.department_id

)

select * from contact_mismatches
union all
select * from sla_mismatches
