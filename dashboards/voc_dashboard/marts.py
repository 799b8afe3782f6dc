"""The warehouse relations the dashboard reads, in one place: a mart renamed in
dbt is a one-line change here. Every page reads these through the snapshot
(voc_dashboard.snapshot), never the warehouse file itself.

`REQUIRED` must exist for the dashboard to start; `OPTIONAL` marts are used by
the pages when a warehouse has them (built by later dbt work) and are named on
the page as missing otherwise."""

from __future__ import annotations

# logical name -> relation in the warehouse's `main` schema (dbt's marts)
REQUIRED: dict[str, str] = {
    "contacts": "fct_contacts",
    "ticket_sla": "fct_ticket_sla",
    "satisfaction": "fct_satisfaction",
    "alerts": "fct_alerts",
    "scenarios": "dim_scenarios",
    # The contact's text and journey steps for the drill-down (masked on the page);
    # fct_contacts carries neither.
    "contact_texts": "stg_voc__contacts",
}

OPTIONAL: dict[str, str] = {
    "cx_daily": "fct_cx_daily",
    "cx_weekly": "fct_cx_weekly",
    "sla_backlog_daily": "fct_sla_backlog_daily",
    "ticket_metrics": "fct_ticket_metrics",
    "ticket_escalations": "fct_ticket_escalations",
    "compensations": "fct_compensations",
    "journey_breakpoints": "fct_journey_breakpoints",
    "alert_episodes": "fct_alert_episodes",
    "issues": "fct_issues",
}

# Columns copied from the text relation (texts are large; the rest is in fct_contacts).
CONTACT_TEXT_COLUMNS = ("contact_id", "contact_text", "recent_events")
