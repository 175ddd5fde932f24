"""DynamoDB tables, as PynamoDB models (the data model in docs/API.md)."""

from __future__ import annotations

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from triggers.core.aws import DynamoDBMeta, table_name

__all__ = [
    "LEGACY_INBOX_INDEX",
    "Event",
    "EventIdIndex",
    "EventMetadata",
    "IdempotencyRecord",
    "QueueIndex",
    "dead_letter_queue",
]


STATUS_PENDING = "pending"
STATUS_ACKNOWLEDGED = "acknowledged"
STATUS_DEAD_LETTERED = "dead_lettered"  # leased and dropped too often; waits for a redrive
STATUS_DELETED = "deleted"  # a tombstone: expired at once, every read skips it
PRIORITIES = ("low", "normal", "high")
DEFAULT_PRIORITY = "normal"


class EventIdIndex(GlobalSecondaryIndex["Event"]):
    """Lookup by id for the events whose key the id does not give (UUIDv4 ids, and UUIDv7
    ids written before `created_key` was kept to the id's millisecond).

    KEYS_ONLY: it finds the item's key, and a GetItem reads the item. No write but the
    put touches it: a lease, an ack or a release changes nothing it projects.
    """

    class Meta:
        index_name = "event-id-index"
        projection = KeysOnlyProjection()

    event_id = UnicodeAttribute(hash_key=True)


class QueueIndex(GlobalSecondaryIndex["Event"]):
    """A tenant's queues, in the order their events become available.

    Sparse: only events in a queue carry `inbox_tenant`. Its value names the queue: the
    tenant id for pending events, `dead_letter_queue(tenant)` for dead-lettered ones.
    `visible_key` is `{visible_at}#{event_id}`: when the event can next be leased (its
    creation time until a lease moves it past the lease's expiry), so "what can be leased
    now" is one key range, and leased events are never read.

    Projection ALL: an inbox page is one Query (a page from a keys-only index, then its
    items, cost twice the CPU and four times the read units). A lease moves the key (a
    delete and a put, each the item's size) and an ack deletes it; nothing else writes it.
    """

    class Meta:
        index_name = "queue-index"
        projection = AllProjection()

    inbox_tenant = UnicodeAttribute(hash_key=True)
    visible_key = UnicodeAttribute(range_key=True)


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
    # Times the event was leased since it was written (or last redriven).
    delivery_count = NumberAttribute(null=True)
    dead_lettered_at = UTCDateTimeAttribute(null=True)
    # The keys of queue-index, set only while the event is in a queue (QueueIndex).
    # Tenant ids never contain "#".
    inbox_tenant = UnicodeAttribute(null=True)
    visible_key = UnicodeAttribute(null=True)
    # The current lease: its secret (a lease token carries it) and when it was taken.
    lease_id = UnicodeAttribute(null=True)
    leased_at = UTCDateTimeAttribute(null=True)
    # Keys of the per-filter inbox indexes of earlier releases: never written now; acks
    # and deletes remove them, so those indexes stay right until they are removed.
    inbox_source = UnicodeAttribute(null=True)
    inbox_event_type = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()

    event_id_index = EventIdIndex()
    queue_index = QueueIndex()


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


def dead_letter_queue(tenant_id: str) -> str:
    """The `inbox_tenant` of a tenant's dead-lettered events."""
    return f"{tenant_id}#dead-letters"


# The sparse index of pending events of the releases before leases (hash `inbox_tenant`,
# range `created_key`): `migrate_gsi` finds older pending events there while a table
# still has it. It, `inbox-source-index` and `inbox-event-type-index` are no longer
# declared: `migrate_gsi --plan` lists their removal (docs/DEPLOYMENT.md).
LEGACY_INBOX_INDEX = "inbox-index"
