"""The inbox: a tenant's pending events, oldest first, in cursor-paginated pages.

Each page is read from a sparse index that holds only pending events:

| filters              | index                                  | DynamoDB filter        |
|----------------------|----------------------------------------|------------------------|
| none                 | inbox-index (`tenant_id`)              | -                      |
| source               | inbox-source-index (`tenant#source`)   | -                      |
| event_type           | inbox-event-type-index (`tenant#type`) | -                      |
| source and event_type| inbox-source-index                     | event_type             |

so a filtered page reads about `limit` items however many other events are pending.
While a per-filter index is missing or backfilling, the page is read from inbox-index
with the filters as DynamoDB filter expressions. Every page is read within a
ReadBudget: when it is spent first, the page holds what was found (possibly nothing)
and a cursor that resumes exactly where reading stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex

from events.fields import READ_ATTRIBUTES
from events.indexes import read_with_fallback
from events.models import Event, inbox_key
from events.reads import ReadBudget, budgeted_pages
from inbox.cursor import decode_cursor, encode_cursor
from observability import metrics
from observability.constants import READ_INBOX
from observability.logging import get_logger
from triggers.core.clock import utcnow

__all__ = ["InboxPage", "inbox_page"]

logger = get_logger(__name__)

# With a DynamoDB filter, a page evaluates more items than it keeps: ask for more per call.
_FILTERED_PAGE_FACTOR = 4


@dataclass(frozen=True, slots=True)
class InboxPage:
    # The events as DynamoDB returned them (events.rendering.item_json renders them):
    # a page of 50 PynamoDB models would cost more than the page's own DynamoDB call.
    items: list[dict[str, Any]]
    next_cursor: str | None
    budget_exhausted: bool = False


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one page is read: which index, under which hash key, filtered how."""

    index: GlobalSecondaryIndex[Event]
    hash_attribute: str
    hash_key: str
    residual: Condition | None = None  # DynamoDB filter beyond the index's own selection

    @property
    def name(self) -> str:
        return str(self.index.Meta.index_name)

    def start_key(self, *, tenant_id: str, after: str | None) -> dict[str, Any] | None:
        if after is None:
            return None
        return {
            self.hash_attribute: {"S": self.hash_key},
            "created_key": {"S": after},
            "tenant_id": {"S": tenant_id},
        }


def _unfiltered_plan(tenant_id: str, source: str | None, event_type: str | None) -> _Plan:
    residual = None
    if source is not None:
        residual = Event.source == source
    if event_type is not None:
        by_type = Event.event_type == event_type
        residual = by_type if residual is None else residual & by_type
    return _Plan(Event.inbox_index, "inbox_tenant", tenant_id, residual)


def _plan(tenant_id: str, source: str | None, event_type: str | None) -> _Plan:
    if source is not None:
        residual = None if event_type is None else Event.event_type == event_type
        return _Plan(
            Event.inbox_source_index, "inbox_source", inbox_key(tenant_id, source), residual
        )
    if event_type is not None:
        return _Plan(
            Event.inbox_event_type_index, "inbox_event_type", inbox_key(tenant_id, event_type)
        )
    return _unfiltered_plan(tenant_id, None, None)


def _read(plan: _Plan, *, tenant_id: str, limit: int, after: str | None) -> InboxPage:
    """Up to `limit` events after `after`, reading one more to know whether any follow."""
    want = limit + 1
    condition = Event.expires_at > utcnow()  # TTL deletion lags; expired items may linger
    factor = 1
    if plan.residual is not None:
        condition &= plan.residual
        factor = _FILTERED_PAGE_FACTOR
    results = plan.index.query(
        plan.hash_key,
        filter_condition=condition,
        last_evaluated_key=plan.start_key(tenant_id=tenant_id, after=after),
        attributes_to_get=list(READ_ATTRIBUTES),
    )
    budget = ReadBudget.per_read()
    found: list[dict[str, Any]] = []
    stopped_at: dict[str, Any] | None = None
    for page in budgeted_pages(results, budget, wanted=lambda: (want - len(found)) * factor):
        found.extend(page.items[: want - len(found)])
        stopped_at = page.last_evaluated_key
        if len(found) == want:
            break

    items = found[:limit]
    if len(found) > limit:
        return InboxPage(items, _cursor(tenant_id, items[-1]["created_key"]["S"]))
    if stopped_at is not None:  # the budget ran out before the index did
        return InboxPage(
            items, _cursor(tenant_id, stopped_at["created_key"]["S"]), budget_exhausted=True
        )
    return InboxPage(items, None)


def _cursor(tenant_id: str, created_key: str) -> str:
    return encode_cursor(tenant_id=tenant_id, created_key=created_key)


def inbox_page(
    *,
    tenant_id: str,
    limit: int,
    cursor: str | None = None,
    source: str | None = None,
    event_type: str | None = None,
) -> InboxPage:
    """Up to `limit` pending events after `cursor`, oldest first.

    `next_cursor` is None exactly when nothing matching follows. A page cut short by
    the read budget may hold fewer than `limit` events, even none, with a cursor that
    resumes where reading stopped.
    """
    after = None if cursor is None else decode_cursor(cursor, tenant_id=tenant_id)
    plan = _plan(tenant_id, source, event_type)
    if plan.index is Event.inbox_index:
        page, indexed = _read(plan, tenant_id=tenant_id, limit=limit, after=after), True
    else:
        page, indexed = read_with_fallback(
            plan.name,
            indexed=lambda: _read(plan, tenant_id=tenant_id, limit=limit, after=after),
            fallback=lambda: _read(
                _unfiltered_plan(tenant_id, source, event_type),
                tenant_id=tenant_id,
                limit=limit,
                after=after,
            ),
        )
    if page.budget_exhausted:
        metrics.record_budget_exhausted(READ_INBOX)
    logger.info(
        "inbox_listed",
        limit=limit,
        has_cursor=cursor is not None,
        result_count=len(page.items),
        has_more=page.next_cursor is not None,
        budget_exhausted=page.budget_exhausted,
        index=plan.name if indexed else Event.inbox_index.Meta.index_name,
        filters={"source": source, "event_type": event_type},
    )
    return page
