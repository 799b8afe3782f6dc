with

source as (

    select * from {{ source('voc', 'contacts') }}

),

renamed as (

    select
        -- ids: contact_id is the event_id of the call, ticket or post it came from
        contact_id,
        customer_id,
        order_id,
        -- the ticket it opened, and the earlier ticket it comes back about
        ticket_id as opened_ticket_id,
        related_ticket_id,
        scenario_id,

        -- contact facts
        channel,
        domain,
        text as contact_text,
        language,
        journey_stage,
        recent_events,
        method as tag_method,
        confidence as tag_confidence,
        evidence as tag_evidence,
        is_late,

        -- timestamps (UTC)
        event_time as contacted_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
