"""The inbox: a tenant's pending events, oldest first, in cursor-paginated pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.models import Event
from inbox.cursor import decode_cursor, encode_cursor
from observability.logging import get_logger
from triggers.clock import utcnow

__all__ = ["InboxPage", "inbox_page"]

logger = get_logger(__name__)

# With filters, DynamoDB evaluates items before filtering them: read in larger pages.
_FILTERED_PAGE_FACTOR = 4
_MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class InboxPage:
    events: list[Event]
    next_cursor: str | None


def inbox_page(
    *,
    tenant_id: str,
    limit: int,
    cursor: str | None = None,
    source: str | None = None,
    event_type: str | None = None,
) -> InboxPage:
    """Up to `limit` pending events after `cursor`.

    Reads until the page is full or the inbox is exhausted, so a filtered page is
    never empty while matching events remain; `next_cursor` is None exactly when
    nothing matching follows (one extra event is read to know).
    """
    start_key: dict[str, Any] | None = None
    if cursor is not None:
        created_key = decode_cursor(cursor, tenant_id=tenant_id)
        start_key = {
            "inbox_tenant": {"S": tenant_id},
            "created_key": {"S": created_key},
            "tenant_id": {"S": tenant_id},
        }

    condition = Event.expires_at > utcnow()  # TTL deletion lags; expired items may linger
    if source is not None:
        condition &= Event.source == source
    if event_type is not None:
        condition &= Event.event_type == event_type
    filtered = source is not None or event_type is not None
    page_size = min((limit + 1) * (_FILTERED_PAGE_FACTOR if filtered else 1), _MAX_PAGE_SIZE)

    results = Event.inbox_index.query(
        tenant_id,
        filter_condition=condition,
        limit=limit + 1,
        page_size=page_size,
        last_evaluated_key=start_key,
    )
    events = list(results)
    next_cursor = None
    if len(events) > limit:
        events = events[:limit]
        next_cursor = encode_cursor(tenant_id=tenant_id, created_key=events[-1].created_key)
    logger.info(
        "inbox_listed",
        limit=limit,
        has_cursor=cursor is not None,
        result_count=len(events),
        has_more=next_cursor is not None,
        filters={"source": source, "event_type": event_type},
    )
    return InboxPage(events=events, next_cursor=next_cursor)
