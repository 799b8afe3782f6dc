-- One row per root-cause issue: current status and owner from its append-only
-- history, the fix SLA and whether it is overdue, and the last verification
-- (contacts before / after the fix, rate ratio, contacts avoided per week).

with

issues as (

    select * from {{ ref('stg_voc__issues') }}

),

events as (

    select * from {{ ref('stg_voc__issue_events') }}

),

checks as (

    select * from {{ ref('stg_voc__issue_checks') }}

),

scenarios as (

    select * from {{ ref('dim_scenarios') }}

),

-- The data clock: the latest contact in the warehouse (not now(): the same
-- data always builds the same mart).
data_clock as (

    select max(contacted_at) as as_of_at from {{ ref('stg_voc__contacts') }}

),

history as (

    select
        issue_id,
        arg_max(status, event_seq) filter (where status <> 'edited') as status,
        arg_max(owner_department_id, event_seq) filter (
            where owner_department_id is not null
        ) as owner_department_id,
        arg_max(external_ref, event_seq) filter (
            where external_ref is not null
        ) as external_ref,
        min(occurred_at) filter (where status = 'acknowledged') as first_acknowledged_at,
        min(occurred_at) filter (where status = 'fix_released') as first_fix_released_at,
        max(release_at) as release_at,
        max(occurred_at) filter (where status = 'verified') as verified_at,
        max(occurred_at) filter (where status = 'reopened') as reopened_at,
        max(occurred_at) filter (where status = 'wont_fix') as wont_fix_at,
        max(occurred_at) as last_event_at,
        count(*) filter (where status = 'reopened') as times_reopened,
        count(*) as events

    from events
    group by issue_id

),

last_check as (

    select
        issue_id,
        arg_max(verdict, checked_through_at) as last_verdict,
        max(checked_through_at) as last_checked_at,
        arg_max(before_contacts, checked_through_at) as contacts_before_fix,
        arg_max(after_contacts, checked_through_at) as contacts_after_fix,
        arg_max(rate_before, checked_through_at) as rate_before_per_1000,
        arg_max(rate_after, checked_through_at) as rate_after_per_1000,
        arg_max(rate_ratio, checked_through_at) as rate_ratio,
        arg_max(rate_ratio_ci_low, checked_through_at) as rate_ratio_ci_low,
        arg_max(rate_ratio_ci_high, checked_through_at) as rate_ratio_ci_high,
        arg_max(p_value, checked_through_at) as p_value,
        -- contacts avoided: the latest check of the fix's effect (the verifying
        -- one or a later, longer `holding` one); claimed only while verified
        arg_max(contacts_avoided_per_week, checked_through_at) filter (
            where verdict in ('drop', 'holding')
        ) as drop_contacts_avoided_per_week

    from checks
    group by issue_id

),

final as (

    select
        -- ids
        issues.issue_id,
        issues.scenario_id,
        history.owner_department_id,
        issues.source_kind,
        issues.source_ref,
        history.external_ref,

        -- attributes
        issues.title,
        scenarios.scenario_name_en,
        scenarios.scenario_name_zh,
        scenarios.domain,
        issues.severity,
        history.status,
        history.status in ('verified', 'wont_fix') as is_closed,
        history.status = 'verified' as is_verified,
        issues.fix_sla_hours,
        issues.rate_unit,
        history.times_reopened,
        history.events,

        -- overdue: no fix released by the due time (wont_fix is closed, not late)
        history.status <> 'wont_fix'
        and coalesce(
            history.first_fix_released_at, data_clock.as_of_at
        ) > issues.opened_at + to_microseconds(
            cast(issues.fix_sla_hours * 3600 * 1000000 as bigint)
        ) as is_overdue,

        -- verification (last check)
        last_check.last_verdict,
        last_check.contacts_before_fix,
        last_check.contacts_after_fix,
        last_check.rate_before_per_1000,
        last_check.rate_after_per_1000,
        last_check.rate_ratio,
        last_check.rate_ratio_ci_low,
        last_check.rate_ratio_ci_high,
        last_check.p_value,
        case
            when history.status = 'verified'
                then coalesce(last_check.drop_contacts_avoided_per_week, 0)
            else 0
        end as contacts_avoided_per_week,

        -- timestamps (UTC)
        issues.opened_at,
        issues.opened_at + to_microseconds(
            cast(issues.fix_sla_hours * 3600 * 1000000 as bigint)
        ) as fix_due_at,
        history.first_acknowledged_at as acknowledged_at,
        history.first_fix_released_at as fix_released_at,
        history.release_at,
        history.verified_at,
        history.reopened_at,
        history.wont_fix_at,
        case
            when history.status = 'verified' then history.verified_at
            when history.status = 'wont_fix' then history.wont_fix_at
        end as closed_at,
        last_check.last_checked_at,
        history.last_event_at

    from issues
    inner join history on issues.issue_id = history.issue_id
    left join last_check on issues.issue_id = last_check.issue_id
    left join scenarios on issues.scenario_id = scenarios.scenario_id
    cross join data_clock

)

select * from final
