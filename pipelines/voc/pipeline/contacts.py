"""ExtractContacts: which validated records are contacts (DECISIONLOG.md, "What a contact is")."""

from __future__ import annotations

import apache_beam as beam

from voc.contracts.streams import Stream
from voc.pipeline.coders import RecordBatch
from voc.pipeline.elements import Contact, ValidRecord

# The only streams a contact can come from (to_contact says which records are).
CONTACT_STREAMS = frozenset({Stream.CALLS, Stream.TICKET_EVENTS, Stream.SOCIAL_POSTS})


def to_contact(v: ValidRecord) -> Contact | None:
    """A call, a ticket opened without a call, or a social post; None for the rest.

    A ticket opened from a call (source_contact_id set) is the same contact as
    that call, so it is not counted twice.
    """
    r = v.record
    if v.stream == Stream.CALLS:
        return Contact(
            r["event_id"],
            "call",
            v.event_time_us,
            r["domain"],
            r["customer_id"],
            r.get("order_id"),
            r["transcript"],
            r["language"],
            r["entry_point"],
            None,
            r.get("ticket_id"),
            r.get("related_ticket_id"),
        )
    if v.stream == Stream.TICKET_EVENTS:
        if r["event_type"] != "created" or r.get("source_contact_id"):
            return None
        return Contact(
            r["event_id"],
            "ticket",
            v.event_time_us,
            r["domain"],
            r["customer_id"],
            r.get("order_id"),
            r["text"],
            r["language"],
            None,
            r.get("category_code"),
            r["ticket_id"],
            r.get("related_ticket_id"),
        )
    if v.stream == Stream.SOCIAL_POSTS:
        return Contact(
            r["event_id"],
            "social",
            v.event_time_us,
            r["domain"],
            r.get("customer_id"),
            r.get("order_id"),
            r["text"],
            r["language"],
            None,
            None,
        )
    return None


class ExtractContacts(beam.PTransform):
    """list[ValidRecord] (any stream) -> list[Contact] (batches without a
    contact emit nothing)."""

    def expand(self, valid):
        return valid | "ToContacts" >> beam.FlatMap(_contacts_of).with_output_types(RecordBatch)


def _contacts_of(batch: list[ValidRecord]):
    contacts = [c for v in batch if (c := to_contact(v)) is not None]
    return [contacts] if contacts else []
