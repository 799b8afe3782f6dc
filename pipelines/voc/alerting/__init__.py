"""Alerts as episodes with owners, routed and delivered through an outbox."""
