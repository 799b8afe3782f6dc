-- One row per ISO week (Monday, Asia/Shanghai) x domain x department x channel:
-- fct_cx_daily's figures over the week, recomputed from the daily counts (rates
-- are ratios of sums, percentiles over the week's tickets, never averages of days).

with

measures as (

    select * from {{ ref('int_cx__daily_measures') }}

),

-- orders are per domain: count each domain-day once before summing to the week
domain_orders as (

    select
        date_trunc('week', date_day) as week_start,
        domain,
        sum(domain_orders) as domain_orders

    from (select distinct date_day, domain, domain_orders from measures)
    group by all

),

weekly as (

    select
        cast(date_trunc('week', date_day) as date) as week_start,
        domain,
        department_id,
        channel,
        sum(contacts) as contacts,
        sum(repeat_contacts) as repeat_contacts,
        sum(fcr_contacts) as fcr_contacts,
        sum(fcr_resolved_contacts) as fcr_resolved_contacts,
        sum(fcr_censored_contacts) as fcr_censored_contacts,
        sum(call_surveys) as call_surveys,
        sum(call_satisfied) as call_satisfied,
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
        weekly.repeat_contacts,
        weekly.fcr_contacts,
        weekly.fcr_resolved_contacts,
        weekly.fcr_censored_contacts,
        weekly.call_surveys,
        weekly.call_satisfied,
        weekly.ticket_ratings,
        weekly.ticket_satisfied,
        weekly.completed_resolution_clocks,
        weekly.breached_resolution_clocks,
        weekly.tickets_created,

        -- rates (null when there is nothing to divide by)
        1000.0 * weekly.contacts / nullif(domain_orders.domain_orders, 0)
            as contacts_per_1000_orders,
        weekly.fcr_resolved_contacts / nullif(weekly.fcr_contacts, 0) as fcr_rate,
        weekly.repeat_contacts / nullif(weekly.contacts, 0) as repeat_rate,
        weekly.call_satisfied / nullif(weekly.call_surveys, 0) as call_csat,
        weekly.ticket_satisfied / nullif(weekly.ticket_ratings, 0) as ticket_csat,
        weekly.breached_resolution_clocks
        / nullif(weekly.completed_resolution_clocks, 0) as resolution_breach_rate,
        list_aggregate(weekly.first_reply_business_minutes_list, 'quantile_cont', 0.5)
            as p50_first_reply_business_minutes,
        list_aggregate(weekly.first_reply_business_minutes_list, 'quantile_cont', 0.9)
            as p90_first_reply_business_minutes

    from weekly
    left join domain_orders
        on
            weekly.week_start = domain_orders.week_start
            and weekly.domain = domain_orders.domain

)

select * from final
