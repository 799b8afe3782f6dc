-- One row per contact: whether the same customer contacted us about the same
-- scenario shortly before (this one is a repeat) or shortly after (this one was
-- not resolved the first time). Channels are pooled: a call followed by a ticket
-- about the same scenario is a repeat.

{% set window_days = var('voc_repeat_window_days') %}

with

contacts as (

    select * from {{ ref('stg_voc__contacts') }}

),

-- Only contacts with a known customer and a scenario can repeat: two untagged
-- contacts are not known to be about the same problem.
eligible as (

    select
        contact_id,
        customer_id,
        scenario_id,
        contacted_at

    from contacts
    where
        customer_id is not null
        and scenario_id is not null

),

neighbours as (

    select
        contact_id,
        contacted_at,
        lag(contacted_at) over customer_scenario as previous_contacted_at,
        lead(contacted_at) over customer_scenario as next_contacted_at,
        row_number() over customer_scenario as contact_sequence

    from eligible
    window customer_scenario as (
        partition by customer_id, scenario_id
        order by contacted_at, contact_id
    )

),

flagged as (

    select
        contacts.contact_id,
        neighbours.contact_id is not null as is_repeat_eligible,
        neighbours.contact_sequence,
        neighbours.previous_contacted_at,
        neighbours.next_contacted_at,
        coalesce(
            neighbours.previous_contacted_at
            >= neighbours.contacted_at - interval '{{ window_days }} days',
            false
        ) as is_repeat_contact,
        coalesce(
            neighbours.next_contacted_at
            <= neighbours.contacted_at + interval '{{ window_days }} days',
            false
        ) as has_repeat_contact

    from contacts
    left join neighbours
        on contacts.contact_id = neighbours.contact_id

),

final as (

    select * from flagged

)

select * from final
