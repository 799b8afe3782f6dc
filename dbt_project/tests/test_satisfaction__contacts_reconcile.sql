-- Assert that fct_satisfaction counts every contact in fct_contacts exactly once,
-- per scenario and in total.

with

contacts as (

    select
        scenario_id,
        count(*) as contacts

    from {{ ref('fct_contacts') }}
    group by scenario_id

),

satisfaction as (

    select
        scenario_id,
        sum(contacts) as contacts

    from {{ ref('fct_satisfaction') }}
    group by scenario_id

),

final as (

    select
        coalesce(contacts.scenario_id, satisfaction.scenario_id) as scenario_id,
        contacts.contacts as contacts_in_fct_contacts,
        satisfaction.contacts as contacts_in_fct_satisfaction

    from contacts
    full outer join satisfaction
        on contacts.scenario_id = satisfaction.scenario_id
    where contacts.contacts is distinct from satisfaction.contacts

)

select * from final
