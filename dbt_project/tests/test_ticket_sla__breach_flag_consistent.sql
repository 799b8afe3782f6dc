-- Assert that is_breached, is_active and is_completed agree with the clock times:
-- a breach needs a deadline before completion (or before as_of when still open),
-- and an active clock is neither completed nor breached.

select
    ticket_sla_id,
    started_at,
    breach_at,
    completed_at,
    as_of_at,
    is_breached,
    is_active,
    is_completed

from {{ ref('fct_ticket_sla') }}
where
    breach_at < started_at
    or is_breached != coalesce(completed_at > breach_at, breach_at < as_of_at)
    or is_active != (not is_completed and not is_breached)
    or (completed_at is not null) != is_completed
    or elapsed_hours < 0
