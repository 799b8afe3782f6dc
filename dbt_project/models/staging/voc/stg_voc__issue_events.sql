with

source as (

    select * from {{ source('voc', 'issue_events') }}

),

renamed as (

    select
        -- ids
        event_id as issue_event_id,
        issue_id,
        seq as event_seq,

        -- event facts
        status,
        actor,
        note,
        owner_department as owner_department_id,
        external_ref,

        -- timestamps (UTC)
        occurred_at,
        release_at

    from source

)

select * from renamed
