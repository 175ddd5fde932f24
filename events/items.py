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
from pynamodb.exceptions import PutError

from events.fields import EventDraft, RawItem, event_connection, new_item
from events.models import STATUS_PENDING, Event
from observability.logging import get_logger
from triggers.core.clock import format_timestamp, utcnow
from triggers.core.errors import CONDITION_FAILED, dynamodb_error_code, permanent_write_error
from triggers.core.ids import event_id_time, new_event_id

__all__ = [
    "PendingItem",
    "created_key",
    "created_key_of",
    "pending_event",
    "pending_item",
    "put_pending_item",
]

logger = get_logger(__name__)


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


def created_key(created_at: datetime, event_id: str) -> str:
    """An event's range key: its creation time, then its id (unique per tenant)."""
    return f"{format_timestamp(created_at)}#{event_id}"


def created_key_of(event_id: str) -> str | None:
    """The range key of the event with this UUIDv7 id: the id holds its creation time (to
    the millisecond, as `pending_item` keeps it). None for an older UUIDv4 id."""
    made = event_id_time(event_id)
    return None if made is None else created_key(made, event_id)


def pending_item(*, tenant_id: str, draft: EventDraft, now: datetime | None = None) -> PendingItem:
    """A new pending event (not written): in the tenant's queue (queue-index), visible at
    once and never leased, until it is acknowledged; gone after EVENT_RETENTION_DAYS.

    Its time is kept to the millisecond, its id's own precision, so that the id alone
    gives the item's key (`created_key_of`)."""
    now = (now or utcnow()).astimezone(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    event_id = new_event_id(now)
    key = created_key(now, event_id)
    item = new_item(
        {
            "tenant_id": tenant_id,
            "created_key": key,
            "event_id": event_id,
            "created_at": now,
            **draft.values(),
            "status": STATUS_PENDING,
            "delivery_count": 0,
            "inbox_tenant": tenant_id,
            # visible since it was made: its key in the queue is its key in the table
            "visible_key": key,
            "expires_at": now + timedelta(days=settings.EVENT_RETENTION_DAYS),
        }
    )
    return PendingItem(item, event_id, now, draft.source, draft.event_type)


def pending_event(*, tenant_id: str, draft: EventDraft, now: datetime | None = None) -> Event:
    """The same new event as a model, for the writes that need one (a transaction)."""
    return Event.from_raw_data(pending_item(tenant_id=tenant_id, draft=draft, now=now).item)


def put_pending_item(pending: PendingItem) -> None:
    """Write one new event (PutItem), only if no item has its key. Raises PynamoDB's
    PutError, as `Event.save()` does.

    The key holds a new random id, so an item already there is this very event: an SDK
    retry whose first attempt landed while its answer was lost. That counts as written,
    and the retry changes nothing: a consumer's ack (or a delete: a tombstone, see
    services.event_delete) made in between stays.
    """
    attributes = dict(pending.item)
    tenant_id = attributes.pop("tenant_id")["S"]
    created_key = attributes.pop("created_key")["S"]
    try:
        event_connection().put_item(
            tenant_id,
            range_key=created_key,
            attributes=attributes,
            condition=Event.created_key.does_not_exist(),
        )
    except PutError as exc:
        code = dynamodb_error_code(exc)
        if code == CONDITION_FAILED:
            logger.info("event_put_found_written", event_id=pending.event_id)
            return
        if code == "ValidationException":
            raise permanent_write_error(code, str(exc.cause)) from None
        raise
