with

source as (

    select * from {{ source('voc', 'scenarios') }}

),

renamed as (

    select
        -- ids
        scenario_id,
        owner as owner_department_id,

        -- scenario facts
        domain,
        stage as journey_stage,
        category,
        name_zh as scenario_name_zh,
        name_en as scenario_name_en,
        description_zh,
        description_en,
        severity,
        keywords_zh,
        keywords_en,
        cast(sla_hours_urgent as double) as sla_hours_urgent,
        cast(sla_hours_high as double) as sla_hours_high,
        cast(sla_hours_normal as double) as sla_hours_normal,
        cast(sla_hours_low as double) as sla_hours_low,

        -- booleans
        is_guarantee,

        -- timestamps (UTC)
        _loaded_at as loaded_at

    from source

)

select * from renamed
