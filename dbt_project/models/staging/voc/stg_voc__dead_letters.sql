with

source as (

    select * from {{ source('voc', 'dead_letters') }}

),

renamed as (

    select
        -- ids
        dead_letter_id,

        -- dead-letter facts
        stream,
        source as source_position,
        kind as dead_letter_kind,
        reason,
        raw_text,
        raw_b64,
        raw_size_bytes,
        raw_sha256,
        is_truncated,

        -- timestamps (UTC)
        _loaded_at as loaded_at

    from source

)

select * from renamed
