-- One row per contact across channels (call, ticket, social), tagged with its
-- scenario, its department (the ticket's when it opened one, else the scenario
-- owner's), its two satisfaction scores kept apart, repeat flags across channels
-- with identity resolution, and first-contact resolution.

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
        repeats.resolved_customer_id,
        contacts.order_id,
        contacts.ticket_id,
        contacts.scenario_id,
        -- One department per contact (DECISIONLOG "Department of a ticket"): the
        -- department of the ticket it opened, else the scenario's owner.
        coalesce(contacts.ticket_department_id, scenarios.owner_department_id) as department_id,

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
        contacts.call_survey_score,
        contacts.ticket_rating,
        contacts.nps_score,
        -- The score that rates this contact itself (never a blend): a call's own
        -- survey, a ticket contact's ticket rating; a post has none.
        case contacts.channel
            when 'call' then contacts.call_survey_score
            when 'ticket' then contacts.ticket_rating
        end as satisfaction_score,
        repeats.identity_source,
        repeats.contact_sequence,

        -- booleans
        contacts.is_late,
        case contacts.channel
            when 'call' then contacts.call_survey_score
            when 'ticket' then contacts.ticket_rating
        end is not null as is_rated,
        coalesce(
            case contacts.channel
                when 'call' then contacts.call_survey_score
                when 'ticket' then contacts.ticket_rating
            end >= {{ var('voc_csat_min_score') }},
            false
        ) as is_satisfied,
        contacts.call_survey_score is not null as is_call_surveyed,
        contacts.call_survey_score >= {{ var('voc_csat_min_score') }} as is_call_satisfied,
        contacts.ticket_rating is not null as is_ticket_rated,
        -- NPS (DECISIONLOG "Satisfaction"): promoters 9-10, detractors 0-6, null
        -- when the caller gave no answer
        contacts.nps_score >= 9 as is_nps_promoter,
        contacts.nps_score <= 6 as is_nps_detractor,
        contacts.ticket_rating >= {{ var('voc_csat_min_score') }} as is_ticket_satisfied,
        repeats.is_repeat_eligible,
        repeats.is_repeat_contact,
        repeats.has_repeat_contact,
        repeats.is_repeat_window_complete,
        -- FCR is asked of assisted contacts (calls and tickets); a social post
        -- is not answered by an agent. Censored: the window is not complete.
        contacts.channel in ('call', 'ticket') as is_fcr_eligible,
        contacts.channel in ('call', 'ticket')
        and not repeats.is_repeat_window_complete as is_fcr_censored,
        -- First-contact resolution: settled on the call, no ticket opened, and no
        -- repeat about the same scenario within the window (any channel).
        case
            when contacts.channel not in ('call', 'ticket') then null
            when not repeats.is_repeat_window_complete then null
            else
                contacts.channel = 'call'
                and coalesce(contacts.resolved_on_call, false)
                and contacts.ticket_id is null
                and not repeats.has_repeat_contact
        end as is_first_contact_resolved,
        contacts.resolved_on_call,
        -- the earlier name of is_first_contact_resolved (一次解决), same values
        case
            when contacts.channel not in ('call', 'ticket') then null
            when not repeats.is_repeat_window_complete then null
            else
                contacts.channel = 'call'
                and coalesce(contacts.resolved_on_call, false)
                and contacts.ticket_id is null
                and not repeats.has_repeat_contact
        end as is_one_time_resolved,

        -- timestamps (UTC)
        contacts.contacted_at,
        -- the local (Asia/Shanghai) calendar day: the business reports by it
        cast(contacts.contacted_at + interval 8 hour as date) as contacted_date

    from contacts
    inner join repeats
        on contacts.contact_id = repeats.contact_id
    left join scenarios
        on contacts.scenario_id = scenarios.scenario_id

)

select * from final
