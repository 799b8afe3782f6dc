-- One row per local (Asia/Shanghai) date, domain, department and channel with
-- every additive CX measure, each counted on the day of its own event:
-- contacts and FCR on the contact's day, ticket ratings on the day rated,
-- resolution breaches on the day the clock completed, first replies on the day
-- the ticket was created, orders on the day an order first appears in the app.
-- Ticket channels map to the contact channel that opened them (call, social,
-- else ticket). fct_cx_daily and fct_cx_weekly roll this up.

with

contacts as (

    select * from {{ ref('fct_contacts') }}

),

tickets as (

    select * from {{ ref('fct_ticket_metrics') }}

),

sla as (

    select * from {{ ref('fct_ticket_sla') }}

),

app_events as (

    select * from {{ ref('stg_voc__app_events') }}

),

contact_measures as (

    select
        contacted_date as date_day,
        domain,
        department_id,
        channel,
        count(*) as contacts,
        -- repeats among the contacts whose look-back window is complete (the
        -- repeat rate's base); the others are counted apart, like FCR's
        count(case when not is_repeat_censored then 1 end) as repeat_base_contacts,
        count(case when is_repeat_contact and not is_repeat_censored then 1 end)
            as repeat_contacts,
        count(case when is_repeat_censored then 1 end) as repeat_censored_contacts,
        count(case when is_first_contact_resolved is not null then 1 end) as fcr_contacts,
        count(case when is_first_contact_resolved then 1 end) as fcr_resolved_contacts,
        count(case when is_fcr_censored then 1 end) as fcr_censored_contacts,
        count(case when is_call_surveyed then 1 end) as call_surveys,
        count(case when is_call_satisfied then 1 end) as call_satisfied,
        count(nps_score) as nps_responses,
        count(case when is_nps_promoter then 1 end) as nps_promoters,
        count(case when is_nps_detractor then 1 end) as nps_detractors

    from contacts
    group by all

),

ticket_channels as (

    select
        *,
        case when channel in ('call', 'social') then channel else 'ticket' end as contact_channel

    from tickets

),

rating_measures as (

    select
        cast(rated_at + interval 8 hour as date) as date_day,
        domain,
        department_id,
        contact_channel as channel,
        count(*) as ticket_ratings,
        count(case when is_satisfied then 1 end) as ticket_satisfied

    from ticket_channels
    where is_rated
    group by all

),

breach_measures as (

    select
        cast(sla.completed_at + interval 8 hour as date) as date_day,
        ticket_channels.domain,
        sla.department_id,
        ticket_channels.contact_channel as channel,
        count(*) as completed_resolution_clocks,
        count(case when sla.is_breached then 1 end) as breached_resolution_clocks

    from sla
    inner join ticket_channels
        on sla.ticket_id = ticket_channels.ticket_id
    where
        sla.metric = 'resolution'
        and sla.applied_reason = 'created'
        and sla.is_completed
    group by all

),

reply_measures as (

    select
        cast(created_at + interval 8 hour as date) as date_day,
        domain,
        department_id,
        contact_channel as channel,
        count(*) as tickets_created,
        -- kept as lists so that weekly percentiles are exact, not averages of days
        list(first_reply_business_minutes) filter (
            where first_reply_business_minutes is not null
        ) as first_reply_business_minutes_list

    from ticket_channels
    group by all

),

order_firsts as (

    select
        domain,
        order_id,
        cast(min(event_at) + interval 8 hour as date) as date_day

    from app_events
    where order_id is not null
    group by domain, order_id

),

order_measures as (

    select
        date_day,
        domain,
        count(*) as orders

    from order_firsts
    group by all

),

keys as (

    select
        date_day,
        domain,
        department_id,
        channel
    from contact_measures
    union
    select
        date_day,
        domain,
        department_id,
        channel
    from rating_measures
    union
    select
        date_day,
        domain,
        department_id,
        channel
    from breach_measures
    union
    select
        date_day,
        domain,
        department_id,
        channel
    from reply_measures

),

final as (

    select
        keys.date_day,
        keys.domain,
        keys.department_id,
        keys.channel,
        coalesce(contact_measures.contacts, 0) as contacts,
        coalesce(contact_measures.repeat_base_contacts, 0) as repeat_base_contacts,
        coalesce(contact_measures.repeat_contacts, 0) as repeat_contacts,
        coalesce(contact_measures.repeat_censored_contacts, 0) as repeat_censored_contacts,
        coalesce(contact_measures.fcr_contacts, 0) as fcr_contacts,
        coalesce(contact_measures.fcr_resolved_contacts, 0) as fcr_resolved_contacts,
        coalesce(contact_measures.fcr_censored_contacts, 0) as fcr_censored_contacts,
        coalesce(contact_measures.call_surveys, 0) as call_surveys,
        coalesce(contact_measures.call_satisfied, 0) as call_satisfied,
        coalesce(contact_measures.nps_responses, 0) as nps_responses,
        coalesce(contact_measures.nps_promoters, 0) as nps_promoters,
        coalesce(contact_measures.nps_detractors, 0) as nps_detractors,
        coalesce(rating_measures.ticket_ratings, 0) as ticket_ratings,
        coalesce(rating_measures.ticket_satisfied, 0) as ticket_satisfied,
        coalesce(breach_measures.completed_resolution_clocks, 0) as completed_resolution_clocks,
        coalesce(breach_measures.breached_resolution_clocks, 0) as breached_resolution_clocks,
        coalesce(reply_measures.tickets_created, 0) as tickets_created,
        coalesce(reply_measures.first_reply_business_minutes_list, [])
            as first_reply_business_minutes_list,
        -- orders are per domain and day, not per department or channel
        order_measures.orders as domain_orders

    from keys
    left join contact_measures
        using (date_day, domain, department_id, channel)
    left join rating_measures
        using (date_day, domain, department_id, channel)
    left join breach_measures
        using (date_day, domain, department_id, channel)
    left join reply_measures
        using (date_day, domain, department_id, channel)
    left join order_measures
        using (date_day, domain)

)

select * from final
