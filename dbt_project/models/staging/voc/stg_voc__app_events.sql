with

source as (

    select * from {{ source('voc', 'app_events') }}

),

renamed as (

    select
        -- ids
        event_id as app_event_id,
        customer_id,
        session_id,
        order_id,

        -- event facts
        domain,
        journey_stage,
        event_name,
        properties,

        -- timestamps (UTC)
        event_time as event_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
