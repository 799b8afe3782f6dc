-- One row per ISO week (Monday, Asia/Shanghai) x domain x department x channel:
-- fct_cx_daily's figures over the week, recomputed from the daily counts (rates
-- are ratios of sums, percentiles over the week's tickets, never averages of days).

with

measures as (

    select * from {{ ref('int_cx__daily_measures') }}

),

-- orders are per domain: count each domain-day once before summing to the week
domain_days as (

    select distinct
        date_day,
        domain,
        domain_orders

    from measures

),

domain_orders as (

    select
        date_trunc('week', date_day) as week_start,
        domain,
        sum(domain_orders) as domain_orders

    from domain_days
    group by all

),

weekly as (

    select
        cast(date_trunc('week', date_day) as date) as week_start,
        domain,
        department_id,
        channel,
        sum(contacts) as contacts,
        sum(repeat_base_contacts) as repeat_base_contacts,
        sum(repeat_contacts) as repeat_contacts,
        sum(repeat_censored_contacts) as repeat_censored_contacts,
        sum(fcr_contacts) as fcr_contacts,
        sum(fcr_resolved_contacts) as fcr_resolved_contacts,
        sum(fcr_censored_contacts) as fcr_censored_contacts,
        sum(call_surveys) as call_surveys,
        sum(call_satisfied) as call_satisfied,
        sum(nps_responses) as nps_responses,
        sum(nps_promoters) as nps_promoters,
        sum(nps_detractors) as nps_detractors,
        sum(ticket_ratings) as ticket_ratings,
        sum(ticket_satisfied) as ticket_satisfied,
        sum(completed_resolution_clocks) as completed_resolution_clocks,
        sum(breached_resolution_clocks) as breached_resolution_clocks,
        sum(tickets_created) as tickets_created,
        flatten(list(first_reply_business_minutes_list)) as first_reply_business_minutes_list,
        count(distinct date_day) as days_with_data

    from measures
    group by all

),

final as (

    select
        -- ids
        weekly.week_start || ':' || weekly.domain || ':' || weekly.department_id
        || ':' || weekly.channel as cx_weekly_id,
        weekly.week_start,
        weekly.domain,
        weekly.department_id,
        weekly.channel,

        -- counts
        weekly.days_with_data,
        weekly.contacts,
        domain_orders.domain_orders,
        weekly.repeat_base_contacts,
        weekly.repeat_contacts,
        weekly.repeat_censored_contacts,
        weekly.fcr_contacts,
        weekly.fcr_resolved_contacts,
        weekly.fcr_censored_contacts,
        weekly.call_surveys,
        weekly.call_satisfied,
        weekly.nps_responses,
        weekly.nps_promoters,
        weekly.nps_detractors,
        weekly.ticket_ratings,
        weekly.ticket_satisfied,
        weekly.completed_resolution_clocks,
        weekly.breached_resolution_clocks,
        weekly.tickets_created,

        -- rates (macros/cx_rates.sql: ratios of this grain's sums)
        {{ cx_rates('weekly', 'domain_orders.domain_orders') }}

    from weekly
    left join domain_orders
        on
            weekly.week_start = domain_orders.week_start
            and weekly.domain = domain_orders.domain

)

select * from final
