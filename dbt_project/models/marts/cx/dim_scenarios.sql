-- One row per catalog scenario, plus an 'untagged' row so that every contact and
-- alert has a scenario to join to.

with

scenarios as (

    select * from {{ ref('stg_voc__scenarios') }}

),

departments as (

    select * from {{ ref('stg_voc__departments') }}

),

journey_stages as (

    select * from {{ ref('stg_voc__journey_stages') }}

),

catalog_scenarios as (

    select
        scenario_id,
        domain,
        journey_stage,
        category,
        scenario_name_zh,
        scenario_name_en,
        description_zh,
        description_en,
        severity,
        owner_department_id,
        sla_hours_urgent,
        sla_hours_high,
        sla_hours_normal,
        sla_hours_low,
        keywords_zh,
        keywords_en,
        is_guarantee,
        false as is_untagged

    from scenarios

),

untagged as (

    select
        'untagged' as scenario_id,
        cast(null as varchar) as domain,
        cast(null as varchar) as journey_stage,
        'untagged' as category,
        '未归类' as scenario_name_zh,
        'Untagged' as scenario_name_en,
        '没有任何场景匹配的联络，待聚类发现新问题。' as description_zh,
        'Contacts no scenario matched; clustered to surface new issues.' as description_en,
        cast(null as varchar) as severity,
        '{{ var("voc_untagged_owner") }}' as owner_department_id,
        cast(null as double) as sla_hours_urgent,
        cast(null as double) as sla_hours_high,
        cast(null as double) as sla_hours_normal,
        cast(null as double) as sla_hours_low,
        cast([] as varchar[]) as keywords_zh,
        cast([] as varchar[]) as keywords_en,
        false as is_guarantee,
        true as is_untagged

),

all_scenarios as (

    select * from catalog_scenarios
    union all
    select * from untagged

),

final as (

    select
        all_scenarios.scenario_id,
        all_scenarios.domain,
        all_scenarios.journey_stage,
        journey_stages.stage_name_zh,
        journey_stages.stage_name_en,
        journey_stages.stage_order,
        journey_stages.expected_minutes as stage_expected_minutes,
        all_scenarios.category,
        all_scenarios.scenario_name_zh,
        all_scenarios.scenario_name_en,
        all_scenarios.description_zh,
        all_scenarios.description_en,
        all_scenarios.severity,
        all_scenarios.owner_department_id,
        departments.department_name_zh as owner_department_name_zh,
        departments.department_name_en as owner_department_name_en,
        all_scenarios.sla_hours_urgent,
        all_scenarios.sla_hours_high,
        all_scenarios.sla_hours_normal,
        all_scenarios.sla_hours_low,
        all_scenarios.keywords_zh,
        all_scenarios.keywords_en,
        all_scenarios.is_guarantee,
        all_scenarios.is_untagged

    from all_scenarios
    left join journey_stages
        on
            all_scenarios.domain = journey_stages.domain
            and all_scenarios.journey_stage = journey_stages.journey_stage
    left join departments
        on all_scenarios.owner_department_id = departments.department_id

)

select * from final
