"""The four input streams and the outputs, each with its JSON Schema file."""

from __future__ import annotations

import enum


class Stream(enum.StrEnum):
    CALLS = "calls"
    TICKET_EVENTS = "ticket_events"
    APP_EVENTS = "app_events"
    SOCIAL_POSTS = "social_posts"

    @property
    def schema_name(self) -> str:
        return _SCHEMA_OF[self]


_SCHEMA_OF = {
    Stream.CALLS: "call",
    Stream.TICKET_EVENTS: "ticket_event",
    Stream.APP_EVENTS: "app_event",
    Stream.SOCIAL_POSTS: "social_post",
}

INPUT_STREAMS: tuple[Stream, ...] = tuple(Stream)
OUTPUT_SCHEMAS = ("tagged_contact", "alert", "dead_letter")
SCHEMA_VERSION = "1"
