-- One row per department and local date it works: the working window of that
-- day in UTC. Asia/Shanghai is UTC+8 without daylight saving (since 1991), so
-- local -> UTC is a fixed 8-hour shift. A department with no row in the
-- department_working_windows seed works around the clock, like customer service.
-- Departments: int_departments (the catalog's and any a ticket was assigned to).

with

calendar_days as (

    select * from {{ ref('dim_business_calendar') }}

),

department_windows as (

    select * from {{ ref('int_departments') }}

),

working_days as (

    select
        department_windows.department_id,
        calendar_days.date_day,
        department_windows.start_local,
        department_windows.end_local

    from department_windows
    cross join calendar_days
    where
        department_windows.working_days = 'all'
        or calendar_days.is_workday

),

final as (

    select
        department_id,
        date_day,
        cast(date_day as timestamp)
        + to_minutes(
            cast(split_part(start_local, ':', 1) as integer) * 60
            + cast(split_part(start_local, ':', 2) as integer)
        )
        - interval 8 hour as window_start_at,
        cast(date_day as timestamp)
        + to_minutes(
            cast(split_part(end_local, ':', 1) as integer) * 60
            + cast(split_part(end_local, ':', 2) as integer)
        )
        - interval 8 hour as window_end_at

    from working_days

)

select * from final
