"""The reference's one table: a handful of string attributes per item, and the service's
two indexes by the same names, keys and projections (a keys-only id index for ids that
do not give their key, a queue index the inbox pages read)."""

from __future__ import annotations

import os

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

EVENT_ID_INDEX = "event-id-index"
QUEUE_INDEX = "queue-index"


class ReferenceEventIdIndex(GlobalSecondaryIndex["ReferenceEvent"]):
    class Meta:
        index_name = EVENT_ID_INDEX
        projection = KeysOnlyProjection()

    event_id = UnicodeAttribute(hash_key=True)


class ReferenceQueueIndex(GlobalSecondaryIndex["ReferenceEvent"]):
    class Meta:
        index_name = QUEUE_INDEX
        projection = AllProjection()

    inbox_tenant = UnicodeAttribute(hash_key=True)
    visible_key = UnicodeAttribute(range_key=True)


class ReferenceEvent(Model):
    class Meta:
        table_name = os.environ.get("REFERENCE_TABLE", "triggers-reference-events")
        region = os.environ.get("AWS_REGION", "us-east-1")
        billing_mode = "PAY_PER_REQUEST"

    tenant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    source = UnicodeAttribute()
    event_type = UnicodeAttribute()
    payload = UnicodeAttribute()
    inbox_tenant = UnicodeAttribute(null=True)  # set while pending, as the service's
    visible_key = UnicodeAttribute(null=True)

    event_id_index = ReferenceEventIdIndex()
    queue_index = ReferenceQueueIndex()
