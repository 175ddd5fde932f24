"""DynamoDB tables, as PynamoDB models (the data model in docs/API.md)."""

from __future__ import annotations

from pynamodb.attributes import (
    MapAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from triggers.core.aws import DynamoDBMeta, table_name

__all__ = [
    "INBOX_FILTER_KEYS",
    "Event",
    "EventIdIndex",
    "EventMetadata",
    "IdempotencyRecord",
    "InboxByEventTypeIndex",
    "InboxBySourceIndex",
    "InboxIndex",
    "inbox_key",
]


STATUS_PENDING = "pending"
STATUS_ACKNOWLEDGED = "acknowledged"
STATUS_DELETED = "deleted"  # a tombstone: expired at once, every read skips it
PRIORITIES = ("low", "normal", "high")
DEFAULT_PRIORITY = "normal"


class EventIdIndex(GlobalSecondaryIndex["Event"]):
    """Lookup by id: GET, ack and delete address an event by `event_id` alone."""

    class Meta:
        index_name = "event-id-index"
        projection = AllProjection()

    event_id = UnicodeAttribute(hash_key=True)


class InboxIndex(GlobalSecondaryIndex["Event"]):
    """Sparse: only pending events carry `inbox_tenant`, so the inbox never reads acked ones."""

    class Meta:
        index_name = "inbox-index"
        projection = AllProjection()

    inbox_tenant = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class InboxBySourceIndex(GlobalSecondaryIndex["Event"]):
    """Sparse, like inbox-index, keyed `{tenant_id}#{source}`: an inbox page filtered by
    source reads only matching pending events, however many others are pending."""

    class Meta:
        index_name = "inbox-source-index"
        projection = AllProjection()

    inbox_source = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class InboxByEventTypeIndex(GlobalSecondaryIndex["Event"]):
    """Sparse, keyed `{tenant_id}#{event_type}`: the inbox filtered by event type."""

    class Meta:
        index_name = "inbox-event-type-index"
        projection = AllProjection()

    inbox_event_type = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class EventMetadata(MapAttribute[str, str]):
    correlation_id = UnicodeAttribute(null=True)
    priority = UnicodeAttribute(default=DEFAULT_PRIORITY)
    idempotency_key = UnicodeAttribute(null=True)


class Event(Model):
    class Meta(DynamoDBMeta):
        table_name = table_name("events")

    tenant_id = UnicodeAttribute(hash_key=True)
    # "{created_at}#{event_id}": a tenant's events in time order, unique per tenant.
    created_key = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    source = UnicodeAttribute()
    event_type = UnicodeAttribute()
    # Compact JSON text exactly as rendered back to clients (numbers keep their digits).
    payload = UnicodeAttribute()
    metadata = EventMetadata()
    status = UnicodeAttribute()
    acknowledged_at = UTCDateTimeAttribute(null=True)
    # Set only while the event is pending (ack removes them): the keys of the sparse
    # inbox indexes. Tenant ids never contain "#".
    inbox_tenant = UnicodeAttribute(null=True)
    inbox_source = UnicodeAttribute(null=True)  # "{tenant_id}#{source}"
    inbox_event_type = UnicodeAttribute(null=True)  # "{tenant_id}#{event_type}"
    expires_at = TTLAttribute()

    event_id_index = EventIdIndex()
    inbox_index = InboxIndex()
    inbox_source_index = InboxBySourceIndex()
    inbox_event_type_index = InboxByEventTypeIndex()


class IdempotencyRecord(Model):
    """What one `(tenant, Idempotency-Key)` produced, kept for IDEMPOTENCY_TTL_HOURS."""

    class Meta(DynamoDBMeta):
        table_name = table_name("idempotency")

    record_key = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{idempotency_key}"
    request_hash = UnicodeAttribute()
    event_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    source = UnicodeAttribute()
    event_type = UnicodeAttribute()
    expires_at = TTLAttribute()


def inbox_key(tenant_id: str, value: str) -> str:
    """The hash key of a per-filter inbox index: `{tenant_id}#{source or event_type}`."""
    return f"{tenant_id}#{value}"


# The per-filter inbox indexes: index name -> (its hash key attribute, the event field
# that key is made of). Events written before an index existed lack its key until
# `migrate_gsi` sets it on every pending event.
INBOX_FILTER_KEYS: dict[str, tuple[str, str]] = {
    InboxBySourceIndex.Meta.index_name: ("inbox_source", "source"),
    InboxByEventTypeIndex.Meta.index_name: ("inbox_event_type", "event_type"),
}
