-- One row per department: the catalog's, plus any department a ticket was
-- assigned to that the catalog does not know (replayed real data, e.g. a help
-- desk's support sections), with its working window from the seed (a
-- department missing from the seed works around the clock).

with

catalog_departments as (

    select * from {{ ref('stg_voc__departments') }}

),

ticket_departments as (

    select distinct department as department_id
    from {{ ref('stg_voc__ticket_events') }}
    where department is not null

),

windows as (

    select * from {{ ref('department_working_windows') }}

),

all_departments as (

    select
        department_id,
        department_name_zh,
        department_name_en,
        true as is_in_catalog

    from catalog_departments
    union all
    select
        ticket_departments.department_id,
        null as department_name_zh,
        ticket_departments.department_id as department_name_en,
        false as is_in_catalog

    from ticket_departments
    where ticket_departments.department_id not in (
        select catalog_departments.department_id from catalog_departments
    )

),

final as (

    select
        all_departments.*,
        coalesce(windows.days, 'all') as working_days,
        coalesce(windows.start_local, '00:00') as start_local,
        coalesce(windows.end_local, '24:00') as end_local,
        windows.department_id is not null as has_seeded_window

    from all_departments
    left join windows
        on all_departments.department_id = windows.department_id

)

select * from final
