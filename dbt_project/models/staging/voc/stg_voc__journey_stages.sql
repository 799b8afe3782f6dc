with

source as (

    select * from {{ source('voc', 'journey_stages') }}

),

renamed as (

    select
        -- ids
        domain || '.' || stage as journey_stage_key,
        domain,
        stage as journey_stage,

        -- stage facts
        name_zh as stage_name_zh,
        name_en as stage_name_en,
        expected_minutes,
        stage_order,

        -- timestamps (UTC)
        _loaded_at as loaded_at

    from source

)

select * from renamed
