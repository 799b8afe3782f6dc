with

source as (

    select * from {{ source('voc', 'alerts') }}

),

renamed as (

    select
        -- ids
        alert_id,
        scenario_id,

        -- alert facts
        kind as alert_kind,
        key as alert_key,
        subject as alert_subject,
        severity as alert_severity,
        domain,
        journey_stage,
        count as contact_count,
        baseline_mean,
        threshold,
        suggested_owner,
        evidence,

        -- timestamps (UTC)
        window_start as window_start_at,
        window_end as window_end_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
