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

-- The two definitions every flag below reads, each written once.
defined as (

    select
        contacts.*,
        -- The score that rates this contact itself (never a blend): a call's own
        -- survey, a ticket contact's ticket rating; a post has none.
        case contacts.channel
            when 'call' then contacts.call_survey_score
            when 'ticket' then contacts.ticket_rating
        end as satisfaction_score,
        -- First-contact resolution (DECISIONLOG "Satisfaction, FCR, repeats"):
        -- asked of assisted contacts (calls and tickets; a post is not answered
        -- by an agent), null while the window after the contact is incomplete
        -- (censored); true when settled on the call, no ticket opened and the
        -- same person did not come back within the window (any channel, any
        -- stated reason, unless about another order).
        case
            when contacts.channel not in ('call', 'ticket') then null
            when not repeats.is_repeat_window_complete then null
            else
                contacts.channel = 'call'
                and coalesce(contacts.resolved_on_call, false)
                and contacts.ticket_id is null
                and not repeats.has_repeat_contact
        end as is_first_contact_resolved

    from contacts
    inner join repeats
        on contacts.contact_id = repeats.contact_id

),

final as (

    select
        -- ids
        defined.contact_id,
        defined.customer_id,
        repeats.resolved_customer_id,
        defined.order_id,
        defined.ticket_id,
        -- a linked return: the customer's earlier ticket this contact comes back about
        defined.related_ticket_id,
        defined.scenario_id,
        -- One department per contact (DECISIONLOG "Department of a ticket"): the
        -- department of the ticket it opened, else the scenario's owner.
        coalesce(defined.ticket_department_id, scenarios.owner_department_id) as department_id,

        -- contact facts
        defined.channel,
        defined.domain,
        defined.journey_stage,
        defined.tag_method,
        defined.tag_confidence,
        defined.entry_point,
        defined.emotion,
        defined.platform,
        defined.reach,
        defined.sentiment,
        defined.call_survey_score,
        defined.ticket_rating,
        defined.nps_score,
        defined.satisfaction_score,
        repeats.identity_source,
        repeats.contact_sequence,

        -- booleans
        defined.is_late,
        defined.satisfaction_score is not null as is_rated,
        coalesce(
            defined.satisfaction_score >= {{ var('voc_csat_min_score') }}, false
        ) as is_satisfied,
        defined.call_survey_score is not null as is_call_surveyed,
        defined.call_survey_score >= {{ var('voc_csat_min_score') }} as is_call_satisfied,
        defined.ticket_rating is not null as is_ticket_rated,
        -- NPS (DECISIONLOG "Satisfaction"): promoters 9-10, detractors 0-6, null
        -- when the caller gave no answer
        defined.nps_score >= 9 as is_nps_promoter,
        defined.nps_score <= 6 as is_nps_detractor,
        defined.ticket_rating >= {{ var('voc_csat_min_score') }} as is_ticket_satisfied,
        defined.related_ticket_id is not null as is_linked_return,
        repeats.is_repeat_eligible,
        repeats.is_repeat_contact,
        repeats.has_repeat_contact,
        repeats.is_repeat_window_complete,
        -- Whether this contact is a repeat is known only when the window before
        -- it lies in the data: near the first event an earlier contact may be
        -- missing (censored: counted apart, never as "not a repeat", in rates).
        not repeats.is_lookback_window_complete as is_repeat_censored,
        defined.channel in ('call', 'ticket') as is_fcr_eligible,
        defined.channel in ('call', 'ticket')
        and not repeats.is_repeat_window_complete as is_fcr_censored,
        defined.is_first_contact_resolved,
        defined.resolved_on_call,
        -- the earlier name of is_first_contact_resolved (一次解决), same values
        defined.is_first_contact_resolved as is_one_time_resolved,

        -- timestamps (UTC)
        defined.contacted_at,
        -- the local (Asia/Shanghai) calendar day: the business reports by it
        cast(defined.contacted_at + interval 8 hour as date) as contacted_date

    from defined
    inner join repeats
        on defined.contact_id = repeats.contact_id
    left join scenarios
        on defined.scenario_id = scenarios.scenario_id

)

select * from final
