-- One row per local (Asia/Shanghai) date x department x SLA metric: the SLA
-- clocks still open at the end of that day (or at the last event, on the last
-- day), how many are at risk or already breached, and how old they are.
-- Elapsed time at the snapshot is measured on the clock's own clock (business
-- or calendar) but, unlike fct_ticket_sla, does not subtract waits on the
-- customer (DECISIONLOG "SLA backlog"): ageing is how long the customer has
-- had an open problem.

with

sla as (

    select * from {{ ref('fct_ticket_sla') }}

),

schedule as (

    select * from {{ ref('int_department_schedule') }}

),

calendar_days as (

    select * from {{ ref('dim_business_calendar') }}

),

span as (

    select
        cast(min(applied_at) + interval 8 hour as date) as first_day,
        max(as_of_at) as as_of_at

    from sla

),

snapshots as (

    select
        calendar_days.date_day,
        -- local midnight at the end of the day, in UTC; the last day stops at as_of
        least(
            cast(calendar_days.date_day as timestamp) + interval 16 hour, span.as_of_at
        ) as snapshot_at

    from calendar_days
    cross join span
    where
        calendar_days.date_day >= span.first_day
        and calendar_days.date_day <= cast(span.as_of_at + interval 8 hour as date)

),

open_clocks as (

    select
        snapshots.date_day,
        snapshots.snapshot_at,
        sla.ticket_sla_id,
        sla.department_id,
        sla.metric,
        sla.clock,
        sla.target_minutes,
        sla.applied_at

    from sla
    inner join snapshots
        on
            sla.applied_at < snapshots.snapshot_at
            and (sla.completed_at is null or sla.completed_at > snapshots.snapshot_at)

),

working as (

    select
        open_clocks.ticket_sla_id,
        open_clocks.date_day,
        sum(
            epoch(least(open_clocks.snapshot_at, schedule.window_end_at))
            - epoch(greatest(open_clocks.applied_at, schedule.window_start_at))
        ) / 60.0 as business_minutes

    from open_clocks
    inner join schedule
        on
            open_clocks.department_id = schedule.department_id
            and schedule.window_end_at > open_clocks.applied_at
            and schedule.window_start_at < open_clocks.snapshot_at
    group by all

),

aged as (

    select
        open_clocks.*,
        (epoch(open_clocks.snapshot_at) - epoch(open_clocks.applied_at)) / 60.0
            as age_minutes,
        case open_clocks.clock
            when 'business' then coalesce(working.business_minutes, 0)
            else (epoch(open_clocks.snapshot_at) - epoch(open_clocks.applied_at)) / 60.0
        end as elapsed_minutes

    from open_clocks
    left join working
        on
            open_clocks.ticket_sla_id = working.ticket_sla_id
            and open_clocks.date_day = working.date_day

),

final as (

    select
        -- ids
        date_day || ':' || department_id || ':' || metric as sla_backlog_daily_id,
        date_day,
        department_id,
        metric,

        -- counts
        count(*) as open_clocks,
        count(
            case
                when
                    elapsed_minutes <= target_minutes
                    and target_minutes - elapsed_minutes
                    < {{ var('voc_sla_at_risk_share') }} * target_minutes
                    then 1
            end
        ) as at_risk_clocks,
        count(case when elapsed_minutes > target_minutes then 1 end) as breached_open_clocks,
        count(case when age_minutes > 24 * 60 then 1 end) as older_than_24h_clocks,
        count(case when age_minutes > 72 * 60 then 1 end) as older_than_72h_clocks,

        -- ageing
        avg(age_minutes) / 60.0 as avg_age_hours,
        max(age_minutes) / 60.0 as max_age_hours,
        max(snapshot_at) as snapshot_at

    from aged
    group by date_day, department_id, metric

)

select * from final
