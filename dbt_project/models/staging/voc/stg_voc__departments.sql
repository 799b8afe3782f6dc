with

source as (

    select * from {{ source('voc', 'departments') }}

),

renamed as (

    select
        -- ids
        department_id,

        -- department facts
        name_zh as department_name_zh,
        name_en as department_name_en,

        -- timestamps (UTC)
        _loaded_at as loaded_at

    from source

)

select * from renamed
