"""Reading a tenant's queues: the pending one (what can be leased, and the inbox's
pages) and the dead letters, both through `queue-index` (events.models.QueueIndex).

A read asks the index for one key range of one queue, oldest first, with the filters
as a DynamoDB filter, within a ReadBudget (events.reads): it evaluates at most the
budget's items and calls, however many events are leased, acknowledged or filtered
out, and says where it stopped so that a page can resume there. Leased events are never
evaluated: a lease moves its event's key past the lease's expiry, out of the range
"visible now".

While queue-index is missing or backfilling (the release that added it is deployed, and
`migrate_gsi` has not finished), the same read is served by the tenant's partition of
the table, filtered to the queue: slower, still within the budget.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from events.fields import READ_ATTRIBUTES
from events.indexes import read_with_fallback
from events.models import Event, QueueIndex
from events.reads import ReadBudget, budgeted_pages
from triggers.core.clock import format_timestamp

__all__ = [
    "KEY_PATTERN",
    "QUEUE_INDEX",
    "TABLE",
    "Position",
    "QueueRead",
    "position_of",
    "read_queue",
    "visible_key",
    "visible_until",
]

RawItem = dict[str, Any]
QUEUE_INDEX = str(QueueIndex.Meta.index_name)
TABLE = "table"
# What a read fetches: what responses show, and the event's place in its queue.
_ATTRIBUTES = [*READ_ATTRIBUTES, "inbox_tenant", "visible_key"]
# With a DynamoDB filter, a read evaluates more items than it keeps: ask for more per call.
_FILTERED_PAGE_FACTOR = 4


def visible_key(moment: datetime, event_id: str) -> str:
    """An event's key in its queue: when it can next be leased, then its id."""
    return f"{format_timestamp(moment)}#{event_id}"


def visible_until(moment: datetime) -> str:
    """The upper bound (exclusive) of the keys visible at `moment`: "$" sorts right after
    "#", so every `visible_key(moment, id)` is below it and every later one above."""
    return f"{format_timestamp(moment)}$"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a read of a queue resumes: after the event with these keys."""

    visible_key: str
    created_key: str


@dataclass(frozen=True, slots=True)
class QueueRead:
    # The events, as the index (or the table, while the index cannot serve) holds them.
    entries: list[RawItem]
    more: bool  # an entry follows the last one returned (`want` + 1 were found)
    stopped_at: Position | None  # the budget ran out here before `want` were found
    read_from: str = QUEUE_INDEX  # or TABLE, while queue-index cannot serve reads


# A table or queue key as the service writes them: a time to the microsecond, then an id.
KEY_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#[0-9a-f-]{36}")


def position_of(item: RawItem) -> Position:
    """Where a read resumes after this item (an event never moved is at its table key)."""
    created = item["created_key"]["S"]
    return Position(item.get("visible_key", {}).get("S", created), created)


def _filters(source: str | None, event_type: str | None, now: datetime) -> Condition:
    condition = Event.expires_at > now  # TTL deletion lags: expired items may linger
    if source is not None:
        condition &= Event.source == source
    if event_type is not None:
        condition &= Event.event_type == event_type
    return condition


def read_queue(
    *,
    tenant_id: str,
    queue: str,
    now: datetime,
    want: int,
    below: str | None = None,
    from_key: str | None = None,
    after: Position | None = None,
    source: str | None = None,
    event_type: str | None = None,
    budget: ReadBudget | None = None,
) -> QueueRead:
    """Up to `want` entries of `queue` (an `inbox_tenant` value) after `after`, with keys
    in [`from_key`, `below`), oldest first, and whether another follows."""
    budget = budget or ReadBudget.per_read()
    filtered = source is not None or event_type is not None
    factor = _FILTERED_PAGE_FACTOR if filtered else 1
    condition = _filters(source, event_type, now)

    def collect(results: Any) -> QueueRead:
        found: list[RawItem] = []
        stopped_at: RawItem | None = None
        for page in budgeted_pages(
            results, budget, wanted=lambda: (want + 1 - len(found)) * factor
        ):
            found.extend(page.items[: want + 1 - len(found)])
            stopped_at = page.last_evaluated_key
            if len(found) > want:
                return QueueRead(found[:want], more=True, stopped_at=None)
        position = None if stopped_at is None or not budget.spent else position_of(stopped_at)
        return QueueRead(found, more=False, stopped_at=position)

    def by_index() -> QueueRead:
        range_condition = _range(Event.visible_key, from_key, below)
        start = None
        if after is not None:
            start = {
                "inbox_tenant": {"S": queue},
                "visible_key": {"S": after.visible_key},
                "tenant_id": {"S": tenant_id},
                "created_key": {"S": after.created_key},
            }
        return collect(
            Event.queue_index.query(
                queue,
                range_key_condition=range_condition,
                filter_condition=condition,
                last_evaluated_key=start,
                attributes_to_get=_ATTRIBUTES,
            )
        )

    def by_table() -> QueueRead:
        in_queue = condition & (Event.inbox_tenant == queue)
        if below is not None:
            in_queue &= Event.visible_key.does_not_exist() | (Event.visible_key < below)
        if from_key is not None:
            in_queue &= Event.visible_key.does_not_exist() | (Event.visible_key >= from_key)
        start = None
        if after is not None:
            start = {"tenant_id": {"S": tenant_id}, "created_key": {"S": after.created_key}}
        return collect(
            Event.query(
                tenant_id,
                filter_condition=in_queue,
                last_evaluated_key=start,
                attributes_to_get=_ATTRIBUTES,
            )
        )

    read, indexed = read_with_fallback(QUEUE_INDEX, indexed=by_index, fallback=by_table)
    return read if indexed else dataclasses.replace(read, read_from=TABLE)


def _range(attribute: Any, low: str | None, high: str | None) -> Condition | None:
    """Keys in [low, high): a key condition takes one comparison, so both bounds are a
    BETWEEN, which never meets `high` itself (a bound from `visible_until`, or a time's
    start: no key equals either)."""
    if low is not None and high is not None:
        return attribute.between(low, high)  # type: ignore[no-any-return]
    if high is not None:
        return attribute < high  # type: ignore[no-any-return]
    if low is not None:
        return attribute >= low  # type: ignore[no-any-return]
    return None
