-- Assert that a contact that opened a ticket has the ticket's department in
-- fct_contacts, and that every SLA row, tier stint and compensation claim of a
-- ticket has that same department: one department definition for a ticket,
-- used everywhere.

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

),

stint_mismatches as (

    select
        stints.ticket_tier_stint_id as id,
        stints.department_id,
        tickets.department_id as other

    from stints
    inner join tickets
        on stints.ticket_id = tickets.ticket_id
    where stints.department_id is distinct from tickets.department_id

),

claim_mismatches as (

    select
        claims.compensation_id as id,
        claims.department_id,
        tickets.department_id as other

    from claims
    inner join tickets
        on claims.ticket_id = tickets.ticket_id
    where claims.department_id is distinct from tickets.department_id

)

select * from contact_mismatches
union all
select * from sla_mismatches
union all
select * from stint_mismatches
union all
select * from claim_mismatches
