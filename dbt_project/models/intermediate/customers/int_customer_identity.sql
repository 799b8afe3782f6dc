-- One row per identity key seen in the data and the customer it belongs to:
-- the customer id itself, and each social handle (platform:handle) that was seen
-- on a post carrying a customer id. A handle seen with two different customers
-- is ambiguous and links to none (a wrong link would invent a repeat).
-- Phone/email hashes join here as further key types once the streams carry them.

with

social_posts as (

    select * from {{ ref('stg_voc__social_posts') }}

),

contacts as (

    select * from {{ ref('stg_voc__contacts') }}

),

customer_keys as (

    select distinct
        'customer_id' as key_type,
        customer_id as identity_key,
        customer_id

    from contacts
    where customer_id is not null

),

handle_sightings as (

    select
        platform || ':' || author_handle as identity_key,
        count(distinct customer_id) as customers,
        min(customer_id) as customer_id,
        count(*) as posts

    from social_posts
    where
        author_handle is not null
        and customer_id is not null
    group by platform || ':' || author_handle

),

handle_keys as (

    select
        'social_handle' as key_type,
        identity_key,
        customer_id

    from handle_sightings
    where customers = 1

),

final as (

    select
        key_type || ':' || identity_key as identity_id,
        key_type,
        identity_key,
        customer_id

    from customer_keys
    union all
    select
        key_type || ':' || identity_key as identity_id,
        key_type,
        identity_key,
        customer_id

    from handle_keys

)

select * from final
