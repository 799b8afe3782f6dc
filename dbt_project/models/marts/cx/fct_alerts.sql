-- One row per breakpoint alert, with the scenario it is about and who owns it.

with

alerts as (

    select * from {{ ref('stg_voc__alerts') }}

),

scenarios as (

    select * from {{ ref('dim_scenarios') }}

),

final as (

    select
        -- ids
        alerts.alert_id,
        alerts.scenario_id,
        scenarios.owner_department_id,
        alerts.suggested_owner,

        -- alert facts
        alerts.alert_kind,
        alerts.alert_key,
        alerts.alert_subject,
        alerts.alert_severity,
        alerts.domain,
        alerts.journey_stage,
        scenarios.scenario_name_en,
        scenarios.scenario_name_zh,
        scenarios.severity,
        alerts.contact_count,
        alerts.baseline_mean,
        alerts.threshold,
        alerts.contact_count / nullif(alerts.baseline_mean, 0) as lift_over_baseline,
        date_diff('second', alerts.window_start_at, alerts.window_end_at) / 60.0
            as window_minutes,

        -- timestamps (UTC)
        alerts.window_start_at,
        alerts.window_end_at

    from alerts
    left join scenarios
        on alerts.scenario_id = scenarios.scenario_id

)

select * from final
