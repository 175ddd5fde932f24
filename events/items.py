"""A new event as the DynamoDB item the service writes, and writing it on its own.

The item is built from the one table of an event's fields (events/fields.py), as a
plain dict in DynamoDB's attribute-value form rather than through a PynamoDB model. The
single-event path turns the same item into an `Event` when it needs one (a
transaction), and events/tests/test_items.py holds the item to what PynamoDB itself
writes for that model, attribute by attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

from events.fields import EventDraft, RawItem, event_connection, new_item
from events.models import STATUS_PENDING, Event, inbox_key
from triggers.core.clock import format_timestamp, utcnow
from triggers.core.ids import new_event_id

__all__ = ["PendingItem", "pending_event", "pending_item", "put_pending_item"]


@dataclass(frozen=True, slots=True)
class PendingItem:
    """A new pending event: its item, and the fields its answer shows."""

    item: RawItem
    event_id: str
    created_at: datetime
    source: str
    event_type: str

    @property
    def key(self) -> tuple[str, str]:
        return self.item["tenant_id"]["S"], self.item["created_key"]["S"]


def pending_item(*, tenant_id: str, draft: EventDraft, now: datetime | None = None) -> PendingItem:
    """A new pending event (not written): in the tenant's inbox and in the per-source and
    per-type inbox indexes until it is acknowledged; gone after EVENT_RETENTION_DAYS."""
    now = (now or utcnow()).astimezone(UTC)
    event_id = new_event_id(now)
    item = new_item(
        {
            "tenant_id": tenant_id,
            "created_key": f"{format_timestamp(now)}#{event_id}",
            "event_id": event_id,
            "created_at": now,
            **draft.values(),
            "status": STATUS_PENDING,
            "inbox_tenant": tenant_id,
            "inbox_source": inbox_key(tenant_id, draft.source),
            "inbox_event_type": inbox_key(tenant_id, draft.event_type),
            "expires_at": now + timedelta(days=settings.EVENT_RETENTION_DAYS),
        }
    )
    return PendingItem(item, event_id, now, draft.source, draft.event_type)


def pending_event(*, tenant_id: str, draft: EventDraft, now: datetime | None = None) -> Event:
    """The same new event as a model, for the writes that need one (a transaction)."""
    return Event.from_raw_data(pending_item(tenant_id=tenant_id, draft=draft, now=now).item)


def put_pending_item(pending: PendingItem) -> None:
    """Write one new event (PutItem): what `Event.save()` sends, without building the model.
    Raises PynamoDB's PutError, as `save()` does."""
    attributes = dict(pending.item)
    tenant_id = attributes.pop("tenant_id")["S"]
    created_key = attributes.pop("created_key")["S"]
    event_connection().put_item(tenant_id, range_key=created_key, attributes=attributes)
