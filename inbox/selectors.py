"""The inbox and the dead letters: a tenant's events in cursor-paginated pages, oldest
first, read from its queues (inbox.queue).

`GET /v1/inbox` lists the events available now: pending and not under a lease, in the
order they became available (creation order for events never leased). A leased event
is not listed until its lease runs out or is released, so a consumer that reads the
inbox and acks by id never takes an event a lease holds.

A page reads the queue within the read budget: when it is spent first, the page holds
what was found (possibly nothing) and a cursor that resumes exactly where reading
stopped. Filters are DynamoDB filters on the queue, evaluated within the same budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from events.models import STATUS_DEAD_LETTERED, STATUS_PENDING, dead_letter_queue
from inbox.cursor import decode_cursor, encode_cursor
from inbox.leases import record_oldest_returned
from inbox.queue import QUEUE_INDEX, position_of, read_queue, visible_until
from observability import metrics
from observability.constants import READ_DEAD_LETTERS, READ_INBOX
from observability.logging import get_logger
from triggers.core.clock import utcnow

__all__ = ["QueuePage", "dead_letter_page", "inbox_page"]

logger = get_logger(__name__)

RawItem = dict[str, Any]


@dataclass(frozen=True, slots=True)
class QueuePage:
    # The events as DynamoDB returned them (events.rendering.item_json renders them):
    # a page of 50 PynamoDB models would cost more than the page's own DynamoDB call.
    items: list[RawItem]
    next_cursor: str | None
    budget_exhausted: bool = False
    read_from: str = QUEUE_INDEX  # or "table", while queue-index cannot serve reads


@dataclass(frozen=True, slots=True)
class _Listing:
    """What a kind of page lists, and how it is logged."""

    queue_of: Callable[[str], str]  # the tenant's queue (an `inbox_tenant` value)
    status: str
    visible_now: bool  # only events that can be leased now
    log_event: str
    operation: str  # of the ReadBudgetExhausted metric


_INBOX = _Listing(lambda tenant_id: tenant_id, STATUS_PENDING, True, "inbox_listed", READ_INBOX)
_DEAD_LETTERS = _Listing(
    dead_letter_queue, STATUS_DEAD_LETTERED, False, "dead_letters_listed", READ_DEAD_LETTERS
)


def _page(
    listing: _Listing,
    *,
    tenant_id: str,
    limit: int,
    cursor: str | None,
    source: str | None,
    event_type: str | None,
) -> QueuePage:
    now = utcnow()
    after = None if cursor is None else decode_cursor(cursor, tenant_id=tenant_id)
    read = read_queue(
        tenant_id=tenant_id,
        queue=listing.queue_of(tenant_id),
        now=now,
        want=limit,
        below=visible_until(now) if listing.visible_now else None,
        after=after,
        source=source,
        event_type=event_type,
    )
    items = [item for item in read.entries if item["status"]["S"] == listing.status]
    if read.more and read.entries:
        next_cursor = encode_cursor(tenant_id=tenant_id, position=position_of(read.entries[-1]))
    elif read.stopped_at is not None:
        next_cursor = encode_cursor(tenant_id=tenant_id, position=read.stopped_at)
    else:
        next_cursor = None
    if listing.visible_now:
        record_oldest_returned(items, now)
    page = QueuePage(
        items,
        next_cursor,
        budget_exhausted=read.stopped_at is not None,
        read_from=read.read_from,
    )
    if page.budget_exhausted:
        metrics.record_budget_exhausted(listing.operation)
    logger.info(
        listing.log_event,
        limit=limit,
        has_cursor=cursor is not None,
        result_count=len(page.items),
        has_more=page.next_cursor is not None,
        budget_exhausted=page.budget_exhausted,
        read_from=page.read_from,
        filters={"source": source, "event_type": event_type},
    )
    return page


def inbox_page(
    *,
    tenant_id: str,
    limit: int,
    cursor: str | None = None,
    source: str | None = None,
    event_type: str | None = None,
) -> QueuePage:
    """Up to `limit` events available now after `cursor`, oldest first.

    `next_cursor` is None exactly when nothing matching follows. A page cut short by
    the read budget may hold fewer than `limit` events, even none, with a cursor that
    resumes where reading stopped.
    """
    return _page(_INBOX, tenant_id=tenant_id, limit=limit, cursor=cursor, source=source,
                 event_type=event_type)  # fmt: skip


def dead_letter_page(
    *,
    tenant_id: str,
    limit: int,
    cursor: str | None = None,
    source: str | None = None,
    event_type: str | None = None,
) -> QueuePage:
    """Up to `limit` dead-lettered events after `cursor`, oldest (created) first."""
    return _page(_DEAD_LETTERS, tenant_id=tenant_id, limit=limit, cursor=cursor,
                 source=source, event_type=event_type)  # fmt: skip
