"""A new event as the DynamoDB item the service writes: the one definition of it, and
writing it on its own.

Built as a plain dict in DynamoDB's attribute-value form rather than through a
PynamoDB model: a batch of 25 spent about half of its CPU constructing and serializing
models (docs/PERFORMANCE.md). The single-event path turns the same item into an
`Event` (`pending_event`), and events/tests/test_items.py holds the item to what
PynamoDB itself writes for that model, attribute by attribute.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings

from events.models import DEFAULT_PRIORITY, STATUS_PENDING, Event, inbox_key
from triggers.core.clock import format_timestamp, utcnow
from triggers.core.ids import new_event_id

if TYPE_CHECKING:
    from events.services import EventDraft

__all__ = ["PendingItem", "pending_event", "pending_item", "put_pending_item"]

RawItem = dict[str, Any]
# How PynamoDB's UTCDateTimeAttribute stores a time: "2026-11-29T07:03:41.748978+0000".
_STORED_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+0000"


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


def _text(value: str) -> dict[str, str]:
    return {"S": value}


def pending_item(*, tenant_id: str, draft: EventDraft, now: datetime | None = None) -> PendingItem:
    """A new pending event (not written): in the tenant's inbox and in the per-source and
    per-type inbox indexes until it is acknowledged; gone after EVENT_RETENTION_DAYS."""
    now = (now or utcnow()).astimezone(UTC)
    event_id = new_event_id(now)
    metadata = {
        "priority": _text(draft.metadata.get("priority", DEFAULT_PRIORITY)),
        **{
            name: _text(draft.metadata[name])
            for name in ("correlation_id", "idempotency_key")
            if draft.metadata.get(name) is not None
        },
    }
    expires_at = now + timedelta(days=settings.EVENT_RETENTION_DAYS)
    item = {
        "tenant_id": _text(tenant_id),
        "created_key": _text(f"{format_timestamp(now)}#{event_id}"),
        "event_id": _text(event_id),
        "created_at": _text(now.strftime(_STORED_TIME_FORMAT)),
        "source": _text(draft.source),
        "event_type": _text(draft.event_type),
        "payload": _text(draft.payload),
        "metadata": {"M": metadata},
        "status": _text(STATUS_PENDING),
        "inbox_tenant": _text(tenant_id),
        "inbox_source": _text(inbox_key(tenant_id, draft.source)),
        "inbox_event_type": _text(inbox_key(tenant_id, draft.event_type)),
        "expires_at": {"N": str(calendar.timegm(expires_at.utctimetuple()))},
    }
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
    Event._get_connection().put_item(tenant_id, range_key=created_key, attributes=attributes)
