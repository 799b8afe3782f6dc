-- One row per local (Asia/Shanghai) date x domain: the call queue's day. Calls
-- offered to an agent (answered + abandoned in the queue), abandonment rate =
-- abandoned in the queue / offered (IVR hang-ups are counted apart, never in
-- the rate), and the queue wait: average and p90 of answered calls (average
-- speed of answer) and average wait of the callers who gave up.

with

calls as (

    select * from {{ ref('fct_calls') }}

),

final as (

    select
        -- ids
        called_date || ':' || domain as call_queue_daily_id,
        called_date as date_day,
        domain,

        -- counts
        count(*) as calls,
        count(case when is_offered then 1 end) as offered_calls,
        count(case when is_answered then 1 end) as answered_calls,
        count(case when is_abandoned then 1 end) as abandoned_calls,
        count(case when is_abandoned_in_ivr then 1 end) as abandoned_in_ivr_calls,

        -- rates (null when there is nothing to divide by)
        count(case when is_abandoned then 1 end)
        / nullif(count(case when is_offered then 1 end), 0) as abandonment_rate,

        -- queue waits (seconds)
        avg(queue_wait_s) filter (where is_answered) as avg_answer_wait_s,
        quantile_cont(queue_wait_s, 0.9) filter (where is_answered) as p90_answer_wait_s,
        avg(queue_wait_s) filter (where is_abandoned) as avg_abandon_wait_s,
        sum(queue_wait_s) filter (where is_offered) as total_queue_wait_s

    from calls
    group by called_date, domain

)

select * from final
