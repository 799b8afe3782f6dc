with

source as (

    select * from {{ source('voc', 'issue_checks') }}

),

renamed as (

    select
        -- ids
        check_id as issue_check_id,
        issue_id,

        -- windows (UTC)
        checked_through as checked_through_at,
        release_at,
        before_start as before_start_at,
        before_end as before_end_at,
        after_start as after_start_at,
        after_end as after_end_at,

        -- measures
        before_contacts,
        after_contacts,
        before_exposure as before_exposure_thousands,
        after_exposure as after_exposure_thousands,
        rate_before,
        rate_after,
        rate_ratio,
        ci_low as rate_ratio_ci_low,
        ci_high as rate_ratio_ci_high,
        p_value,
        verdict,
        contacts_avoided_per_week

    from source

)

select * from renamed
