"""Reads of events by id. Keyword-only; raise NotFoundError, never return junk."""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from django.conf import settings

from events.fields import READ_ATTRIBUTES, event_connection
from events.indexes import read_with_fallback
from events.items import created_key_of
from events.models import Event, EventIdIndex
from events.reads import ReadBudget, budgeted_pages
from observability import metrics
from observability.constants import LOOKUP_GSI, LOOKUP_KEY, LOOKUP_SCAN, READ_LOOKUP_SCAN
from observability.logging import get_logger
from triggers.core.clock import utcnow
from triggers.core.errors import NotFoundError, ServiceUnavailableError, UnavailableCause
from triggers.core.ids import is_event_id

__all__ = ["event_get", "event_item"]

RawItem = dict[str, Any]

logger = get_logger(__name__)

EVENT_ID_INDEX = EventIdIndex.Meta.index_name
_EXPIRES_AT = "expires_at"


def _key_by_index(tenant_id: str, event_id: str) -> str | None:
    """The tenant's `created_key` for this id, from one Query of the (KEYS_ONLY) id index,
    scoped to the tenant by a filter, so another tenant's event and a missing one look
    the same."""
    # No Limit: the id has one item, so this is always exactly one call, whoever owns it.
    query = Event.event_id_index.query(
        event_id,
        filter_condition=Event.tenant_id == tenant_id,
        attributes_to_get=["tenant_id", "created_key"],
    )
    for page in query.page_iter:
        if page["Items"]:
            return str(page["Items"][0]["created_key"]["S"])
    return None


def _get(tenant_id: str, created_key: str) -> RawItem | None:
    """One strongly consistent GetItem of the tenant's item under this key: it sees every
    write that was answered, which no index promises."""
    item = (
        event_connection()
        .get_item(
            tenant_id,
            range_key=created_key,
            consistent_read=True,
            attributes_to_get=[*READ_ATTRIBUTES, _EXPIRES_AT],
        )
        .get("Item")
    )
    if item is None or int(item.pop(_EXPIRES_AT)["N"]) <= int(utcnow().timestamp()):
        return None  # missing, expired or deleted (a tombstone has expired)
    return dict(item)


@functools.cache
def _scan_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(settings.EVENT_SCAN_MAX_CONCURRENT)


def _lookup_by_scan(tenant_id: str, event_id: str) -> RawItem | None:
    """The fallback while the id index is missing or backfilling: a consistent Scan of the
    table, within EVENT_SCAN_BUDGET_ITEMS and EVENT_SCAN_MAX_CONCURRENT per process."""
    if not _scan_slots().acquire(blocking=False):
        raise ServiceUnavailableError(
            "Lookups are degraded while event-id-index is being built; retry shortly.",
            cause=UnavailableCause.SCAN_BUSY,
        )
    try:
        condition = (
            (Event.event_id == event_id)
            & (Event.tenant_id == tenant_id)
            & (Event.expires_at > utcnow())
        )
        results = Event.scan(
            condition, consistent_read=True, attributes_to_get=list(READ_ATTRIBUTES)
        )
        budget = ReadBudget.per_read(items=settings.EVENT_SCAN_BUDGET_ITEMS)
        for page in budgeted_pages(results, budget, wanted=lambda: budget.items):
            if page.items:
                return page.items[0]
            if page.last_evaluated_key is None:
                return None
    finally:
        _scan_slots().release()
    metrics.record_budget_exhausted(READ_LOOKUP_SCAN)
    raise ServiceUnavailableError(
        "Lookups are degraded while event-id-index is being built; retry shortly.",
        cause=UnavailableCause.SCAN_BUDGET,
    )


def event_get(*, tenant_id: str, event_id: str) -> Event:
    """The tenant's live event with this id, as a model (to act on it)."""
    return Event.from_raw_data(event_item(tenant_id=tenant_id, event_id=event_id))


def event_item(*, tenant_id: str, event_id: str) -> RawItem:
    """The tenant's live event with this id, as DynamoDB returned it (to show it:
    events.rendering.item_json).

    A UUIDv7 id gives the item's key (events.items.created_key_of): one consistent
    GetItem. Other ids (UUIDv4, and UUIDv7 ids written before keys were the id's own
    millisecond) are found through `event-id-index`, then read by their key; while the
    live table cannot serve the index (not yet built, or backfilling), by a bounded Scan.
    Another tenant's event, an expired one and a malformed id are all "not found", and
    cost the same: a miss is at most two calls, and never a sleep.
    """
    if not is_event_id(event_id):
        raise NotFoundError("Event not found.")
    started = time.monotonic()
    calls = 0
    item: RawItem | None = None
    method = LOOKUP_KEY
    derived = created_key_of(event_id)
    if derived is not None:
        calls += 1
        item = _get(tenant_id, derived)
    if item is None:

        def by_index() -> RawItem | None:
            nonlocal calls
            calls += 1
            created_key = _key_by_index(tenant_id, event_id)
            if created_key is None or created_key == derived:
                return None
            calls += 1
            return _get(tenant_id, created_key)

        item, indexed = read_with_fallback(
            EVENT_ID_INDEX,
            indexed=by_index,
            fallback=lambda: _lookup_by_scan(tenant_id, event_id),
        )
        method = LOOKUP_GSI if indexed else LOOKUP_SCAN
    metrics.record_lookup(method)
    logger.info(
        "event_lookup",
        event_id=event_id,
        method=method,
        found=item is not None,
        calls=calls,
        duration_ms=round((time.monotonic() - started) * 1000, 3),
    )
    if item is None:
        raise NotFoundError("Event not found.")
    return item
