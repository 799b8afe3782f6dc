with

source as (

    select * from {{ source('voc', 'issues') }}

),

renamed as (

    select
        -- ids
        issue_id,
        scenario_id,
        source_ref,

        -- attributes as opened
        title,
        source_kind,
        owner_department as opened_owner_department_id,
        severity,
        fix_sla_hours,
        rate_unit,
        external_ref as opened_external_ref,
        opened_by,

        -- timestamps (UTC)
        opened_at

    from source

)

select * from renamed
