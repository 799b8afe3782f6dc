-- One row per local (Asia/Shanghai) date x department x SLA metric: the SLA
-- clocks still open at the end of that day (or at the last event, on the last
-- day), how many are at risk or already breached, and how old they are.
-- Elapsed time at the snapshot is measured as fct_ticket_sla measures it
-- (macros/sla_elapsed.sql: the clock's own clock, business or calendar, less
-- waits on the customer), so "at risk" and "breached" mean the same in both;
-- age is plain calendar time since the clock started (how long the customer
-- has had an open problem, waits included).

with

sla as (

    select * from {{ ref('fct_ticket_sla') }}

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
        sla.ticket_sla_id || ':' || snapshots.date_day as backlog_clock_id,
        sla.ticket_sla_id,
        sla.ticket_id,
        sla.department_id,
        sla.metric,
        sla.clock,
        sla.target_minutes,
        sla.applied_at,
        sla.applied_at as span_from,
        snapshots.snapshot_at as span_to

    from sla
    inner join snapshots
        on
            sla.applied_at < snapshots.snapshot_at
            and (sla.completed_at is null or sla.completed_at > snapshots.snapshot_at)

),

elapsed as (

    {{ sla_elapsed('open_clocks', 'backlog_clock_id') }}

),

aged as (

    select
        open_clocks.*,
        (epoch(open_clocks.snapshot_at) - epoch(open_clocks.applied_at)) / 60.0
            as age_minutes,
        case open_clocks.clock
            when 'business' then elapsed.business_minutes
            else elapsed.calendar_minutes
        end as elapsed_minutes

    from open_clocks
    inner join elapsed
        on open_clocks.backlog_clock_id = elapsed.backlog_clock_id

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
