-- One row per local (Asia/Shanghai) date x domain x department x channel: the CX
-- dashboard's daily figures, each on its own definition (DECISIONLOG): contacts,
-- contacts per 1,000 orders (the domain's orders that day), FCR on complete
-- windows, repeat rate, call CSAT, ticket CSAT, resolution breach rate on
-- completed clocks, p50/p90 first reply in business minutes.

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
        measures.repeat_contacts,
        measures.fcr_contacts,
        measures.fcr_resolved_contacts,
        measures.fcr_censored_contacts,
        measures.call_surveys,
        measures.call_satisfied,
        measures.ticket_ratings,
        measures.ticket_satisfied,
        measures.completed_resolution_clocks,
        measures.breached_resolution_clocks,
        measures.tickets_created,

        -- rates (null when there is nothing to divide by)
        1000.0 * measures.contacts / nullif(measures.domain_orders, 0) as contacts_per_1000_orders,
        measures.fcr_resolved_contacts / nullif(measures.fcr_contacts, 0) as fcr_rate,
        measures.repeat_contacts / nullif(measures.contacts, 0) as repeat_rate,
        measures.call_satisfied / nullif(measures.call_surveys, 0) as call_csat,
        measures.ticket_satisfied / nullif(measures.ticket_ratings, 0) as ticket_csat,
        measures.breached_resolution_clocks
        / nullif(measures.completed_resolution_clocks, 0) as resolution_breach_rate,
        list_aggregate(measures.first_reply_business_minutes_list, 'quantile_cont', 0.5)
            as p50_first_reply_business_minutes,
        list_aggregate(measures.first_reply_business_minutes_list, 'quantile_cont', 0.9)
            as p90_first_reply_business_minutes

    from measures
    left join calendar_days
        on measures.date_day = calendar_days.date_day

)

select * from final
