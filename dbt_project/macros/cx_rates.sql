{#
    The CX rates of fct_cx_daily and fct_cx_weekly, defined once: each is a
    ratio of the grain's summed counts (never an average of finer rates), null
    when there is nothing to divide by; percentiles over the grain's whole list
    of first replies. `counts` is the relation alias holding the summed counts,
    `orders` the expression for the domain's orders in the same grain.
#}

{% macro cx_rates(counts, orders) %}
    1000.0 * {{ counts }}.contacts / nullif({{ orders }}, 0) as contacts_per_1000_orders,
    {{ counts }}.fcr_resolved_contacts / nullif({{ counts }}.fcr_contacts, 0) as fcr_rate,
    {{ counts }}.repeat_contacts / nullif({{ counts }}.repeat_base_contacts, 0) as repeat_rate,
    {{ counts }}.call_satisfied / nullif({{ counts }}.call_surveys, 0) as call_csat,
    {{ counts }}.ticket_satisfied / nullif({{ counts }}.ticket_ratings, 0) as ticket_csat,
    -- NPS in points (-100..100): % promoters - % detractors of the answers
    100.0 * ({{ counts }}.nps_promoters - {{ counts }}.nps_detractors)
    / nullif({{ counts }}.nps_responses, 0) as nps,
    {{ counts }}.breached_resolution_clocks
    / nullif({{ counts }}.completed_resolution_clocks, 0) as resolution_breach_rate,
    list_aggregate({{ counts }}.first_reply_business_minutes_list, 'quantile_cont', 0.5)
        as p50_first_reply_business_minutes,
    list_aggregate({{ counts }}.first_reply_business_minutes_list, 'quantile_cont', 0.9)
        as p90_first_reply_business_minutes
{% endmacro %}
