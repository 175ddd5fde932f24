"""Putting many events in one BatchWriteItem, retrying what DynamoDB leaves unprocessed.

DynamoDB may accept part of a batch and return the rest as `UnprocessedItems` (when
it throttles); those are resent with exponential back-off and jitter, as its
documentation asks, until they are written or the request's deadline leaves no room
for another try. What is still unprocessed then was certainly not written.
"""

from __future__ import annotations

import random
import time
from typing import Any

from events.fields import event_connection
from events.models import Event
from triggers.core.deadline import remaining_seconds

__all__ = ["MAX_BATCH_ITEMS", "put_events"]

RawItem = dict[str, Any]

MAX_BATCH_ITEMS = 25  # BatchWriteItem's own limit
_ATTEMPTS = 5
_FIRST_BACKOFF_SECONDS = 0.05


def put_events(items: list[RawItem]) -> set[tuple[str, str]]:
    """Write new event items (at most 25) in one BatchWriteItem, resending unprocessed ones.
    Returns the keys (tenant_id, created_key) of the items DynamoDB did not write."""
    pending = items
    for attempt in range(_ATTEMPTS):
        if not pending:
            return set()
        if attempt:
            backoff = random.uniform(0, _FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))  # noqa: S311
            left = remaining_seconds()
            if left is not None and left < backoff + 0.1:
                break  # no time for another try: report them unwritten
            time.sleep(backoff)
        # PynamoDB's BatchWrite resends without back-off, so the table connection is used.
        response = event_connection().batch_write_item(put_items=pending)
        unprocessed = response.get("UnprocessedItems", {}).get(Event.Meta.table_name, [])
        pending = [request["PutRequest"]["Item"] for request in unprocessed]
    return {(item["tenant_id"]["S"], item["created_key"]["S"]) for item in pending}
