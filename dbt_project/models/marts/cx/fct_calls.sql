-- One row per call: how long the caller waited in the queue, how long the agent
-- talked, and how the call ended (answered, abandoned in the queue or in the
-- IVR). Incremental (DECISIONLOG "dbt materialisations"): a call record is
-- written once, when the call ends, and never changes, so rows loaded since the
-- last build are merged on call_id and nothing already built can go stale.

{{
    config(
        materialized='incremental',
        unique_key='call_id',
        incremental_strategy='delete+insert',
    )
}}

with

calls as (

    select * from {{ ref('stg_voc__calls') }}

    {% if is_incremental() %}
        where loaded_at > (
            select coalesce(max(built.loaded_at), timestamp '-infinity')
            from {{ this }} as built
        )
    {% endif %}

),

final as (

    select
        -- ids
        call_id,
        customer_id,
        agent_id,

        -- call facts
        domain,
        entry_point,
        call_outcome,
        queue_wait_s,
        talk_time_s,

        -- booleans
        call_outcome = 'answered' as is_answered,
        -- Offered to an agent: answered, or abandoned while queueing for one (a
        -- caller who hangs up in the IVR never asked for an agent).
        call_outcome in ('answered', 'abandoned_in_queue') as is_offered,
        call_outcome = 'abandoned_in_queue' as is_abandoned,
        call_outcome = 'abandoned_in_ivr' as is_abandoned_in_ivr,

        -- timestamps (UTC)
        called_at,
        -- the local (Asia/Shanghai) calendar day: the business reports by it
        cast(called_at + interval 8 hour as date) as called_date,
        loaded_at

    from calls

)

select * from final
