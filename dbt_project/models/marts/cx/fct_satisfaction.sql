-- One row per scenario, owning department and channel: how many contacts there
-- were, how satisfied the customers who scored them were, and how many needed a
-- second contact.

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
        count(distinct customer_id) as customers,
        count(case when is_rated then 1 end) as rated,
        count(case when is_satisfied then 1 end) as satisfied,
        avg(satisfaction_score) as avg_rating,
        count(case when is_repeat_contact then 1 end) as repeat_contacts,
        count(case when is_repeat_eligible then 1 end) as repeat_eligible_contacts,
        count(case when is_one_time_resolved then 1 end) as one_time_resolved_contacts

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
        aggregated.rated,
        aggregated.satisfied,
        aggregated.repeat_contacts,
        aggregated.repeat_eligible_contacts,
        aggregated.one_time_resolved_contacts,

        -- rates (null when there is nothing to divide by)
        aggregated.satisfied / nullif(aggregated.rated, 0) as csat,
        aggregated.avg_rating,
        aggregated.one_time_resolved_contacts
        / nullif(aggregated.repeat_eligible_contacts, 0) as one_time_resolution_rate,
        aggregated.repeat_contacts / nullif(aggregated.contacts, 0) as repeat_contact_rate

    from aggregated
    left join scenarios
        on aggregated.scenario_id = scenarios.scenario_id

)

select * from final
