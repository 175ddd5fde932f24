"""The reference's one table: seven string attributes per item, and an id index (as the
service's lookups by id use `event-id-index`)."""

from __future__ import annotations

import os

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

EVENT_ID_INDEX = "event-id-index"


class ReferenceEventIdIndex(GlobalSecondaryIndex["ReferenceEvent"]):
    class Meta:
        index_name = EVENT_ID_INDEX
        projection = AllProjection()

    event_id = UnicodeAttribute(hash_key=True)


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

    event_id_index = ReferenceEventIdIndex()
