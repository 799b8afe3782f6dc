-- One row per ticket the social team opened from a public post and that names a
-- customer (DECISIONLOG "Simulated identity": the team opens it once the author
-- has said who they are, or straight away when the listening tool matched the
-- author). The ticket's customer is the post's author: identity resolution
-- (int_customer_identity) links the post's handle to them, and repeat detection
-- (int_contacts__repeats) makes an anonymous post theirs. The ticket is read from
-- its created event (int_tickets__lifecycle.has_created_event): a ticket whose
-- created event has not arrived names no author yet.

with

tickets as (

    select * from {{ ref('int_tickets__lifecycle') }}

),

social_posts as (

    select * from {{ ref('stg_voc__social_posts') }}

),

final as (

    select
        tickets.ticket_id,
        social_posts.social_post_id,
        social_posts.platform,
        social_posts.author_handle,
        -- who the post's own record names (null: an anonymous post)
        social_posts.customer_id as post_customer_id,
        tickets.customer_id,
        tickets.order_id,
        tickets.created_at as ticket_created_at

    from tickets
    inner join social_posts
        on tickets.source_contact_id = social_posts.social_post_id
    where
        tickets.has_created_event
        and tickets.customer_id is not null

)

select * from final
