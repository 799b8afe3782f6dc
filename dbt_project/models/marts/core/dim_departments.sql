-- One row per department (catalog and observed), with its working window.

with

departments as (

    select * from {{ ref('int_departments') }}

),

final as (

    select
        department_id,
        department_name_zh,
        department_name_en,
        is_in_catalog,
        working_days,
        start_local,
        end_local,
        has_seeded_window

    from departments

)

select * from final
