{#
    Elapsed time of SLA clock spans, on both clocks, less the time the ticket
    waited on the customer (DECISIONLOG "SLA clocks on the business calendar").

    `spans` names a CTE with one row per span: `key` (its id), ticket_id,
    department_id, span_from, span_to. Returns a query with one row per span
    that has any elapsed time: key, business_minutes (the overlap with the
    department's working windows, int_department_schedule), calendar_minutes
    and paused_minutes (calendar minutes waiting on the customer, from
    int_tickets__pauses; a pause still open counts to span_to). Spans with no
    working window and no pause still get a row (calendar minutes).

    One definition for fct_ticket_sla (clock start to completion or "now") and
    fct_sla_backlog_daily (clock start to each day's snapshot).
#}

{% macro sla_elapsed(spans, key) %}

    with

    span_pauses as (

        select
            {{ spans }}.{{ key }} as span_key,
            {{ spans }}.department_id,
            greatest({{ spans }}.span_from, pauses.paused_at) as span_from,
            least({{ spans }}.span_to, coalesce(pauses.resumed_at, {{ spans }}.span_to)) as span_to

        from {{ spans }}
        inner join {{ ref('int_tickets__pauses') }} as pauses
            on
                {{ spans }}.ticket_id = pauses.ticket_id
                and pauses.paused_at < {{ spans }}.span_to
                and coalesce(pauses.resumed_at, {{ spans }}.span_to) > {{ spans }}.span_from

    ),

    clock_spans as (

        select
            {{ key }} as span_key,
            department_id,
            span_from,
            span_to,
            1 as sign

        from {{ spans }}
        union all
        select
            span_key,
            department_id,
            span_from,
            span_to,
            -1 as sign

        from span_pauses
        where span_to > span_from

    ),

    -- a pause counts negative: business and calendar seconds of the span less
    -- those of its pauses
    business as (

        select
            clock_spans.span_key,
            sum(
                clock_spans.sign * (
                    epoch(least(clock_spans.span_to, schedule.window_end_at))
                    - epoch(greatest(clock_spans.span_from, schedule.window_start_at))
                )
            ) as business_s

        from clock_spans
        inner join {{ ref('int_department_schedule') }} as schedule
            on
                clock_spans.department_id = schedule.department_id
                and schedule.window_end_at > clock_spans.span_from
                and schedule.window_start_at < clock_spans.span_to
        group by clock_spans.span_key

    ),

    calendar as (

        select
            span_key,
            sum(sign * (epoch(span_to) - epoch(span_from))) as calendar_s,
            sum(case when sign < 0 then epoch(span_to) - epoch(span_from) else 0 end) as paused_s

        from clock_spans
        group by span_key

    )

    select
        calendar.span_key as {{ key }},
        coalesce(business.business_s, 0) / 60.0 as business_minutes,
        calendar.calendar_s / 60.0 as calendar_minutes,
        calendar.paused_s / 60.0 as paused_minutes

    from calendar
    left join business
        on calendar.span_key = business.span_key

{% endmacro %}
