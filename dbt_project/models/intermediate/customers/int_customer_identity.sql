-- One row per identity key seen in the data and the customer it belongs to:
-- the customer id itself, each social handle (platform:handle), each keyed
-- phone or email hash (pii_keys: 'phone:<hex>', 'email:<hex>', DECISIONLOG
-- "Privacy") and each order id that was seen on a record carrying a customer
-- id. A handle is also seen with the customer of a ticket opened from one of
-- its posts (the social team found out who the author is). A key seen with two
-- different customers is ambiguous and links to none (a wrong link would
-- invent a repeat).

with

social_posts as (

    select * from {{ ref('stg_voc__social_posts') }}

),

calls as (

    select * from {{ ref('stg_voc__calls') }}

),

ticket_events as (

    select * from {{ ref('stg_voc__ticket_events') }}

),

-- A ticket the social team opened from a public post names the post's author.
care_tickets as (

    select * from {{ ref('int_social_posts__care_tickets') }}

),

contacts as (

    select * from {{ ref('stg_voc__contacts') }}

),

app_events as (

    select * from {{ ref('stg_voc__app_events') }}

),

customer_keys as (

    select distinct
        'customer_id' as key_type,
        customer_id as identity_key,
        customer_id

    from contacts
    where customer_id is not null

),

-- every phone/email key on a record that names its customer
pii_sightings as (

    select
        unnest(pii_keys) as pii_key,
        customer_id

    from calls
    where customer_id is not null
    union all
    select
        unnest(pii_keys) as pii_key,
        customer_id

    from ticket_events
    where customer_id is not null
    union all
    select
        unnest(pii_keys) as pii_key,
        customer_id

    from social_posts
    where customer_id is not null

),

-- (key type, key, customer) for every key a record with a customer id carries
sightings as (

    select
        'social_handle' as key_type,
        platform || ':' || author_handle as identity_key,
        customer_id

    from social_posts
    where author_handle is not null and customer_id is not null
    union all
    select
        'social_handle' as key_type,
        platform || ':' || author_handle as identity_key,
        customer_id

    from care_tickets
    where author_handle is not null
    union all
    select
        split_part(pii_key, ':', 1) as key_type,
        split_part(pii_key, ':', 2) as identity_key,
        customer_id

    from pii_sightings
    union all
    -- an order is its buyer's/shipper's: whoever the order's records name
    select
        'order' as key_type,
        order_id as identity_key,
        customer_id

    from app_events
    where order_id is not null and customer_id is not null
    union all
    select
        'order' as key_type,
        order_id as identity_key,
        customer_id

    from contacts
    where order_id is not null and customer_id is not null

),

linked_keys as (

    select
        key_type,
        identity_key,
        min(customer_id) as customer_id

    from sightings
    group by key_type, identity_key
    having count(distinct customer_id) = 1

),

keys as (

    select * from customer_keys
    union all
    select * from linked_keys

),

final as (

    select
        key_type || ':' || identity_key as identity_id,
        key_type,
        identity_key,
        customer_id

    from keys

)

select * from final
