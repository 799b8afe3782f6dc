-- One row per contact across channels (call, ticket, social), tagged with its
-- scenario and the department that owns it.

with

contacts as (

    select * from {{ ref('int_contacts__joined') }}

),

repeats as (

    select * from {{ ref('int_contacts__repeats') }}

),

scenarios as (

    select * from {{ ref('dim_scenarios') }}

),

final as (

    select
        -- ids
        contacts.contact_id,
        contacts.customer_id,
        contacts.order_id,
        contacts.ticket_id,
        contacts.scenario_id,
        -- The scenario's owner is accountable for the contact.
        scenarios.owner_department_id as department_id,

        -- contact facts
        contacts.channel,
        contacts.domain,
        contacts.journey_stage,
        contacts.tag_method,
        contacts.tag_confidence,
        contacts.entry_point,
        contacts.emotion,
        contacts.platform,
        contacts.reach,
        contacts.sentiment,
        contacts.satisfaction_score,
        contacts.satisfaction_score_source,
        repeats.contact_sequence,

        -- booleans
        contacts.is_late,
        contacts.satisfaction_score is not null as is_rated,
        coalesce(
            contacts.satisfaction_score >= {{ var('voc_csat_min_score') }}, false
        ) as is_satisfied,
        repeats.is_repeat_eligible,
        repeats.is_repeat_contact,
        repeats.has_repeat_contact,
        case
            when repeats.is_repeat_eligible then not repeats.has_repeat_contact
        end as is_one_time_resolved,
        contacts.resolved_on_call,

        -- timestamps (UTC)
        contacts.contacted_at

    from contacts
    inner join repeats
        on contacts.contact_id = repeats.contact_id
    left join scenarios
        on contacts.scenario_id = scenarios.scenario_id

)

select * from final
