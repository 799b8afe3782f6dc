with

source as (

    select * from {{ source('voc', 'social_posts') }}

),

renamed as (

    select
        -- ids
        event_id as social_post_id,
        customer_id,
        order_id,
        -- keyed hashes of phones/emails masked in the text (DECISIONLOG "Privacy")
        pii_keys,

        -- post facts
        domain,
        platform,
        author_handle,
        text as post_text,
        language,
        reach,
        sentiment,

        -- timestamps (UTC)
        event_time as posted_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
