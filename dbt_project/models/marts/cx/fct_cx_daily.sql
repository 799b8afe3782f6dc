-- One row per local (Asia/Shanghai) date x domain x department x channel: the CX
-- dashboard's daily figures, each on its own definition (DECISIONLOG): contacts,
-- contacts per 1,000 orders (the domain's orders that day), FCR on complete
-- windows, repeat rate on complete look-back windows, call CSAT, ticket CSAT,
-- resolution breach rate on completed clocks, p50/p90 first reply in business
-- minutes.

with

measures as (

    select * from {{ ref('int_cx__daily_measures') }}

),

calendar_days as (

    select * from {{ ref('dim_business_calendar') }}

),

final as (

    select
        -- ids
        measures.date_day || ':' || measures.domain || ':' || measures.department_id
        || ':' || measures.channel as cx_daily_id,
        measures.date_day,
        measures.domain,
        measures.department_id,
        measures.channel,

        -- calendar
        calendar_days.is_workday,
        calendar_days.holiday_name,
        calendar_days.promotion_id,

        -- counts
        measures.contacts,
        measures.domain_orders,
        measures.repeat_base_contacts,
        measures.repeat_contacts,
        measures.repeat_censored_contacts,
        measures.fcr_contacts,
        measures.fcr_resolved_contacts,
        measures.fcr_censored_contacts,
        measures.call_surveys,
        measures.call_satisfied,
        measures.nps_responses,
        measures.nps_promoters,
        measures.nps_detractors,
        measures.ticket_ratings,
        measures.ticket_satisfied,
        measures.completed_resolution_clocks,
        measures.breached_resolution_clocks,
        measures.tickets_created,

        -- rates (macros/cx_rates.sql: ratios of this grain's sums)
        {{ cx_rates('measures', 'measures.domain_orders') }}

    from measures
    left join calendar_days
        on measures.date_day = calendar_days.date_day

)

select * from final
