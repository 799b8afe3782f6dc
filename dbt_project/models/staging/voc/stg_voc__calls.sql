with

source as (

    select * from {{ source('voc', 'calls') }}

),

renamed as (

    select
        -- ids
        event_id as call_id,
        customer_id,
        order_id,
        agent_id,
        ticket_id,
        -- the customer's earlier ticket this call comes back about (a linked return)
        related_ticket_id,
        -- keyed hashes of phones/emails masked in the text (DECISIONLOG "Privacy")
        pii_keys,

        -- call facts
        domain,
        entry_point,
        ivr_path,
        transcript,
        language,
        emotion,
        emotion_score,
        queue_wait_s,
        talk_time_s,
        survey_score,
        nps_score,
        resolved_on_call,
        -- absent means answered (schemas/call.schema.json)
        coalesce(outcome, 'answered') as call_outcome,

        -- timestamps (UTC); event_time is when the call started
        event_time as called_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
