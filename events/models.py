"""DynamoDB tables, as PynamoDB models. DESIGN.md "DynamoDB data model" is the contract."""

from __future__ import annotations

from pynamodb.attributes import (
    MapAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from triggers.aws import DynamoDBMeta, table_name
from triggers.constants import DEFAULT_PRIORITY

__all__ = ["ApiKey", "Event", "EventIdIndex", "EventMetadata", "IdempotencyRecord", "InboxIndex"]


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
    inbox_tenant = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()

    event_id_index = EventIdIndex()
    inbox_index = InboxIndex()


class ApiKey(Model):
    """An API key, stored only as the SHA-256 hex digest of the key."""

    class Meta(DynamoDBMeta):
        table_name = table_name("api-keys")

    key_hash = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    key_prefix = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


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


ALL_MODELS: tuple[type[Model], ...] = (Event, ApiKey, IdempotencyRecord)
