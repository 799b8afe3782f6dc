-- One row per contact: who made it once identities are resolved, and whether
-- the same person contacted us again within var voc_repeat_window_hours
-- (DECISIONLOG "Repeat contacts"): same person, any channel, any stated reason,
-- unless the two contacts name different orders (two orders, two problems).
-- The person is the contact's customer id, else the customer of the ticket the
-- social team opened from the post (once the author said who they are), else
-- the customer its social handle, an order id written in its text, or a
-- phone/email key in its text resolves to (int_customer_identity), else its
-- social handle itself (an anonymous account is still one person). The order of
-- that ticket, else an order written in an anonymous post, is also the post's
-- order for the different-orders rule. The
-- tagged scenario is not used: on real text it is too often wrong to say that
-- two contacts are about the same problem, while the order and the person are
-- recorded facts. The window is censored at the edges of the data: a contact
-- whose window runs past the last event (or before the first) is flagged.

{% set window_hours = var('voc_repeat_window_hours') %}

with

contacts as (

    select * from {{ ref('stg_voc__contacts') }}

),

social_posts as (

    select * from {{ ref('stg_voc__social_posts') }}

),

identity as (

    select * from {{ ref('int_customer_identity') }}

),

ticket_events as (

    select * from {{ ref('stg_voc__ticket_events') }}

),

care_tickets as (

    select * from {{ ref('int_social_posts__care_tickets') }}

),

data_span as (

    select
        min(contacts.contacted_at) as data_from_at,
        greatest(
            max(contacts.contacted_at), (select max(ticket_events.event_at) from ticket_events)
        ) as data_as_of_at

    from contacts

),

-- the customer (and order) that the tickets opened from an anonymous post name
-- (one customer, or none)
post_ticket_customers as (

    select
        social_post_id,
        min(customer_id) as customer_id,
        case when count(distinct order_id) = 1 then min(order_id) end as order_id

    from care_tickets
    where post_customer_id is null
    group by social_post_id
    having count(distinct customer_id) = 1

),

-- the customer each anonymous post's phone/email keys point to (one, or none)
post_key_customers as (

    select
        social_posts.social_post_id,
        min(identity.customer_id) as customer_id

    from social_posts
    inner join identity
        on
            identity.key_type in ('phone', 'email')
            and list_contains(social_posts.pii_keys, identity.identity_id)
    where social_posts.customer_id is null
    group by social_posts.social_post_id
    having count(distinct identity.customer_id) = 1

),

-- Known order ids (int_customer_identity) written in an anonymous post's text,
-- as a whole token (not inside a longer id), any letter case. Ids shorter than
-- var voc_min_mentioned_order_id_chars are not looked for: in free text they
-- are amounts, dates and house numbers as often as orders.
post_order_mentions as (

    select
        social_posts.social_post_id,
        identity.identity_key as order_id,
        identity.customer_id

    from social_posts
    inner join identity
        on
            identity.key_type = 'order'
            and length(identity.identity_key) >= {{ var('voc_min_mentioned_order_id_chars') }}
            and contains(lower(social_posts.post_text), lower(identity.identity_key))
    where
        social_posts.customer_id is null
        and regexp_matches(
            social_posts.post_text,
            '(?i)(^|[^a-z0-9])' || regexp_escape(identity.identity_key) || '($|[^a-z0-9])'
        )

),

-- the one customer (and the one order) an anonymous post's written order ids name
post_order_customers as (

    select
        social_post_id,
        min(customer_id) as customer_id,
        case when count(distinct order_id) = 1 then min(order_id) end as order_id

    from post_order_mentions
    group by social_post_id
    having count(distinct customer_id) = 1

),

resolved as (

    select
        contacts.contact_id,
        coalesce(
            contacts.order_id, post_ticket_customers.order_id, post_order_customers.order_id
        ) as order_id,
        contacts.contacted_at,
        contacts.opened_ticket_id,
        contacts.related_ticket_id,
        coalesce(
            contacts.customer_id,
            post_ticket_customers.customer_id,
            handle_identity.customer_id,
            post_order_customers.customer_id,
            post_key_customers.customer_id
        ) as resolved_customer_id,
        case
            when contacts.customer_id is not null then 'customer_id'
            when post_ticket_customers.customer_id is not null then 'post_ticket'
            when handle_identity.customer_id is not null then 'social_handle'
            when post_order_customers.customer_id is not null then 'order_mention'
            when post_key_customers.customer_id is not null then 'pii_key'
        end as identity_source,
        coalesce(
            contacts.customer_id,
            post_ticket_customers.customer_id,
            handle_identity.customer_id,
            post_order_customers.customer_id,
            post_key_customers.customer_id,
            'social_handle:' || social_posts.platform || ':' || social_posts.author_handle
        ) as person_id

    from contacts
    left join social_posts
        on
            contacts.channel = 'social'
            and contacts.contact_id = social_posts.social_post_id
    left join identity as handle_identity
        on
            handle_identity.key_type = 'social_handle'
            and social_posts.platform || ':' || social_posts.author_handle
            = handle_identity.identity_key
    left join post_ticket_customers
        on contacts.contact_id = post_ticket_customers.social_post_id
    left join post_order_customers
        on contacts.contact_id = post_order_customers.social_post_id
    left join post_key_customers
        on contacts.contact_id = post_key_customers.social_post_id

),

-- Every pair of contacts by one person within the window, earlier -> later,
-- about the same order or where either names none, or where the later one names
-- the ticket the earlier one opened (a linked return is about that problem,
-- whatever order it names).
repeat_pairs as (

    select
        earlier.contact_id as earlier_contact_id,
        later.contact_id as later_contact_id,
        earlier.contacted_at as earlier_contacted_at,
        later.contacted_at as later_contacted_at

    from resolved as earlier
    inner join resolved as later
        on
            earlier.person_id = later.person_id
            and (earlier.contacted_at, earlier.contact_id)
            < (later.contacted_at, later.contact_id)
            and later.contacted_at
            <= earlier.contacted_at + interval '{{ window_hours }} hours'
            and (
                earlier.order_id is null
                or later.order_id is null
                or earlier.order_id = later.order_id
                or later.related_ticket_id = earlier.opened_ticket_id
            )

),

previous_contacts as (

    select
        later_contact_id as contact_id,
        max(earlier_contacted_at) as previous_contacted_at

    from repeat_pairs
    group by later_contact_id

),

next_contacts as (

    select
        earlier_contact_id as contact_id,
        min(later_contacted_at) as next_contacted_at

    from repeat_pairs
    group by earlier_contact_id

),

flagged as (

    select
        resolved.contact_id,
        resolved.resolved_customer_id,
        resolved.identity_source,
        resolved.person_id,
        resolved.person_id is not null as is_repeat_eligible,
        case
            when resolved.person_id is not null
                then row_number() over (
                    partition by resolved.person_id
                    order by resolved.contacted_at, resolved.contact_id
                )
        end as contact_sequence,
        previous_contacts.previous_contacted_at,
        next_contacts.next_contacted_at,
        previous_contacts.contact_id is not null as is_repeat_contact,
        next_contacts.contact_id is not null as has_repeat_contact,
        resolved.contacted_at + interval '{{ window_hours }} hours'
        <= data_span.data_as_of_at as is_repeat_window_complete,
        resolved.contacted_at - interval '{{ window_hours }} hours'
        >= data_span.data_from_at as is_lookback_window_complete,
        data_span.data_as_of_at

    from resolved
    cross join data_span
    left join previous_contacts
        on resolved.contact_id = previous_contacts.contact_id
    left join next_contacts
        on resolved.contact_id = next_contacts.contact_id

),

final as (

    select * from flagged

)

select * from final
