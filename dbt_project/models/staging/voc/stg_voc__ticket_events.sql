with

source as (

    select * from {{ source('voc', 'ticket_events') }}

),

renamed as (

    select
        -- ids
        event_id as ticket_event_id,
        ticket_id,
        customer_id,
        order_id,
        source_contact_id,
        -- on 'created': the customer's earlier ticket this one follows up
        related_ticket_id,
        -- keyed hashes of phones/emails masked in the text (DECISIONLOG "Privacy")
        pii_keys,

        -- event facts
        domain,
        event_type,
        channel,
        department,
        tier,
        priority,
        category_code,
        text as ticket_text,
        language,
        rating,
        compensation_amount_cny,
        budget_owner as budget_owner_department_id,

        -- timestamps (UTC)
        event_time as event_at,
        sla_due_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
