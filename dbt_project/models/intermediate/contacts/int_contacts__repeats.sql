-- One row per contact: who made it once identities are resolved
-- (int_customer_identity: a social post without a customer id is linked through
-- its handle), and whether the same customer contacted us about the same
-- scenario within var voc_repeat_window_hours before (this one is a repeat) or
-- after (this one was not settled the first time). Channels are pooled. The
-- window is censored at the edges of the data: a contact whose window runs past
-- the last event (or before the first) cannot be judged and is flagged.

{% set window_hours = var('voc_repeat_window_hours') %}

with

contacts as (

    select * from {{ ref('stg_voc__contacts') }}

),

social_posts as (

    select * from {{ ref('stg_voc__social_posts') }}

),

identity as (

    select * from {{ ref('int_customer_identity') }}

),

ticket_events as (

    select * from {{ ref('stg_voc__ticket_events') }}

),

data_span as (

    select
        min(contacted_at) as data_from_at,
        greatest(
            max(contacted_at), (select max(event_at) from ticket_events)
        ) as data_as_of_at

    from contacts

),

resolved as (

    select
        contacts.contact_id,
        contacts.scenario_id,
        contacts.contacted_at,
        coalesce(contacts.customer_id, handle_identity.customer_id) as resolved_customer_id,
        case
            when contacts.customer_id is not null then 'customer_id'
            when handle_identity.customer_id is not null then 'social_handle'
        end as identity_source

    from contacts
    left join social_posts
        on
            contacts.channel = 'social'
            and contacts.contact_id = social_posts.social_post_id
    left join identity as handle_identity
        on
            handle_identity.key_type = 'social_handle'
            and social_posts.platform || ':' || social_posts.author_handle
            = handle_identity.identity_key

),

-- Only contacts with a known customer and a scenario can repeat: two untagged
-- contacts are not known to be about the same problem.
neighbours as (

    select
        contact_id,
        contacted_at,
        lag(contacted_at) over customer_scenario as previous_contacted_at,
        lead(contacted_at) over customer_scenario as next_contacted_at,
        row_number() over customer_scenario as contact_sequence

    from resolved
    where
        resolved_customer_id is not null
        and scenario_id is not null
    window customer_scenario as (
        partition by resolved_customer_id, scenario_id
        order by contacted_at, contact_id
    )

),

flagged as (

    select
        resolved.contact_id,
        resolved.resolved_customer_id,
        resolved.identity_source,
        neighbours.contact_id is not null as is_repeat_eligible,
        neighbours.contact_sequence,
        neighbours.previous_contacted_at,
        neighbours.next_contacted_at,
        coalesce(
            neighbours.previous_contacted_at
            >= neighbours.contacted_at - interval '{{ window_hours }} hours',
            false
        ) as is_repeat_contact,
        coalesce(
            neighbours.next_contacted_at
            <= neighbours.contacted_at + interval '{{ window_hours }} hours',
            false
        ) as has_repeat_contact,
        resolved.contacted_at + interval '{{ window_hours }} hours'
        <= data_span.data_as_of_at as is_repeat_window_complete,
        resolved.contacted_at - interval '{{ window_hours }} hours'
        >= data_span.data_from_at as is_lookback_window_complete,
        data_span.data_as_of_at

    from resolved
    cross join data_span
    left join neighbours
        on resolved.contact_id = neighbours.contact_id

),

final as (

    select * from flagged

)

select * from final
