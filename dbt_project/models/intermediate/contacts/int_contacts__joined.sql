-- One row per tagged contact with the facts of the call, ticket or post it came
-- from, the ticket it opened (if any), the call's survey score and the rating of
-- the ticket it opened (two surveys, never blended).

with

contacts as (

    select * from {{ ref('stg_voc__contacts') }}

),

calls as (

    select * from {{ ref('stg_voc__calls') }}

),

social_posts as (

    select * from {{ ref('stg_voc__social_posts') }}

),

tickets as (

    select * from {{ ref('int_tickets__lifecycle') }}

),

-- A contact can open more than one ticket; the first one created speaks for it.
tickets_by_contact as (

    select
        origin_contact_id as contact_id,
        ticket_id,
        latest_rating as ticket_rating,
        reopened_count as ticket_reopened_count,
        is_resolved as is_ticket_resolved,
        department_id as ticket_department_id

    from tickets
    qualify row_number() over (
        partition by origin_contact_id
        order by created_at, ticket_id
    ) = 1

),

joined as (

    select
        contacts.contact_id,
        contacts.channel,
        contacts.domain,
        contacts.customer_id,
        contacts.order_id,
        coalesce(contacts.scenario_id, 'untagged') as scenario_id,
        contacts.journey_stage,
        contacts.tag_method,
        contacts.tag_confidence,
        contacts.is_late,
        calls.entry_point,
        calls.emotion,
        calls.resolved_on_call,
        calls.survey_score,
        -- would-you-recommend (0-10): rates the company, apart from both surveys
        calls.nps_score,
        social_posts.platform,
        social_posts.reach,
        social_posts.sentiment,
        coalesce(tickets_by_contact.ticket_id, calls.ticket_id) as ticket_id,
        -- a linked return: the customer's earlier ticket it names (DECISIONLOG
        -- "Satisfaction, FCR, repeats")
        contacts.related_ticket_id,
        tickets_by_contact.ticket_rating,
        tickets_by_contact.ticket_reopened_count,
        tickets_by_contact.is_ticket_resolved,
        tickets_by_contact.ticket_department_id,
        -- Two surveys, kept apart (DECISIONLOG "Satisfaction"): the call's own
        -- survey rates the call; the ticket rating rates how the ticket was handled.
        calls.survey_score as call_survey_score,
        contacts.contacted_at

    from contacts
    left join calls
        on
            contacts.channel = 'call'
            and contacts.contact_id = calls.call_id
    left join social_posts
        on
            contacts.channel = 'social'
            and contacts.contact_id = social_posts.social_post_id
    left join tickets_by_contact
        on contacts.contact_id = tickets_by_contact.contact_id

),

final as (

    select * from joined

)

select * from final
