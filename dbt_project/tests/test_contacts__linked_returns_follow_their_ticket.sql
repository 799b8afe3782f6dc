-- A linked return names a ticket of its own customer opened before it, and is a
-- repeat (int_contacts__repeats: a linked return pairs with the contact that
-- opened its ticket, whatever order it names) when that contact lies within the
-- repeat window before it. Tickets opened before the data are not in it and are
-- not checked.

with

contacts as (

    select * from {{ ref('fct_contacts') }}

),

tickets as (

    select * from {{ ref('fct_ticket_metrics') }}

)

select
    contacts.contact_id,
    contacts.related_ticket_id

from contacts
inner join tickets
    on contacts.related_ticket_id = tickets.ticket_id
left join contacts as openers
    on tickets.origin_contact_id = openers.contact_id
where
    contacts.customer_id is distinct from tickets.customer_id
    or tickets.created_at >= contacts.contacted_at
    or (
        openers.contacted_at
        >= contacts.contacted_at - interval '{{ var("voc_repeat_window_hours") }} hours'
        and not contacts.is_repeat_contact
    )
