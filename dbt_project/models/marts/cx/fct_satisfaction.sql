-- One row per scenario, department and channel over the whole data: contacts,
-- call CSAT and ticket CSAT (two surveys, kept apart), first-contact resolution
-- on complete windows, and repeat contacts on complete look-back windows. For
-- figures by day or week use fct_cx_daily / fct_cx_weekly.

with

contacts as (

    select * from {{ ref('fct_contacts') }}

),

scenarios as (

    select * from {{ ref('dim_scenarios') }}

),

aggregated as (

    select
        scenario_id,
        department_id,
        channel,
        count(*) as contacts,
        count(distinct resolved_customer_id) as customers,
        count(case when is_call_surveyed then 1 end) as call_surveys,
        count(case when is_call_satisfied then 1 end) as call_satisfied,
        count(case when is_ticket_rated then 1 end) as ticket_ratings,
        count(case when is_ticket_satisfied then 1 end) as ticket_satisfied,
        count(case when not is_repeat_censored then 1 end) as repeat_base_contacts,
        count(case when is_repeat_contact and not is_repeat_censored then 1 end)
            as repeat_contacts,
        count(case when is_repeat_censored then 1 end) as repeat_censored_contacts,
        count(case when is_first_contact_resolved is not null then 1 end) as fcr_contacts,
        count(case when is_first_contact_resolved then 1 end) as fcr_resolved_contacts,
        count(case when is_fcr_censored then 1 end) as fcr_censored_contacts

    from contacts
    group by scenario_id, department_id, channel

),

final as (

    select
        -- ids
        aggregated.scenario_id || ':' || coalesce(aggregated.department_id, '')
        || ':' || aggregated.channel as satisfaction_id,
        aggregated.scenario_id,
        aggregated.department_id,
        aggregated.channel,
        scenarios.scenario_name_en,
        scenarios.scenario_name_zh,

        -- counts
        aggregated.contacts,
        aggregated.customers,
        aggregated.call_surveys,
        aggregated.call_satisfied,
        aggregated.ticket_ratings,
        aggregated.ticket_satisfied,
        aggregated.repeat_base_contacts,
        aggregated.repeat_contacts,
        aggregated.repeat_censored_contacts,
        aggregated.fcr_contacts,
        aggregated.fcr_resolved_contacts,
        aggregated.fcr_censored_contacts,

        -- rates (null when there is nothing to divide by)
        aggregated.call_satisfied / nullif(aggregated.call_surveys, 0) as call_csat,
        aggregated.ticket_satisfied / nullif(aggregated.ticket_ratings, 0) as ticket_csat,
        aggregated.fcr_resolved_contacts / nullif(aggregated.fcr_contacts, 0) as fcr_rate,
        aggregated.repeat_contacts / nullif(aggregated.repeat_base_contacts, 0)
            as repeat_contact_rate

    from aggregated
    left join scenarios
        on aggregated.scenario_id = scenarios.scenario_id

)

select * from final
