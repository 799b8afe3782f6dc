-- Assert that no contact that opened a ticket, was not resolved on the call, or
-- came back within the window counts as resolved at first contact, and that a
-- censored contact is never counted (FCR null).

select
    contact_id,
    ticket_id,
    resolved_on_call,
    has_repeat_contact,
    is_fcr_censored,
    is_first_contact_resolved

from {{ ref('fct_contacts') }}
where
    (
        is_first_contact_resolved
        and (
            ticket_id is not null
            or not coalesce(resolved_on_call, false)
            or has_repeat_contact
        )
    )
    or (is_fcr_censored and is_first_contact_resolved is not null)
