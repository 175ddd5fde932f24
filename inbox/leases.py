"""Consumer leases: many consumers share a tenant's pending events, each event in one pair
of hands at a time, redelivered when a lease runs out, dead-lettered when poison.

An event's life in its queue (queue-index, events.models.QueueIndex):

    pending, visible --lease--> leased: `visible_key` moves to the lease's expiry, a new
                                `lease_id`, `delivery_count` + 1
    leased --ack (token)--> acknowledged: out of every queue
    leased --extend-------> leased until a later time (at most MAX_LEASE_SECONDS after
                            the lease was taken)
    leased --release------> pending, visible after `delay`, no lease
    leased, time passes --> visible again (nothing is written: the key's time has come)
    visible, delivered LEASE_MAX_DELIVERIES times --the next lease meets it--> dead-lettered
    leased, N-th delivery --release--> dead-lettered
    dead-lettered --redrive--> pending, visible now, delivery_count 0

Every transition is one conditional UpdateItem on what its writer saw: a lease on the
exact `visible_key` it read (any later transition moved it), everything else on the
lease's secret and, where a lease must still hold, on its expiry being ahead. So two
consumers never hold one event, and no transition undoes a newer one. A refused write
asks DynamoDB for the item as it was (ReturnValuesOnConditionCheckFailure), which says
why without another read.

Time is each instance's own clock (docs/RELIABILITY.md, "Clock skew").
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from events.fields import RawItem, event_connection, parsed_time, stored_time
from events.items import created_key_of
from events.models import (
    STATUS_ACKNOWLEDGED,
    STATUS_DEAD_LETTERED,
    STATUS_PENDING,
    Event,
    dead_letter_queue,
)
from events.selectors import event_item
from inbox.lease_tokens import LeaseToken, encode_lease_token, new_lease_id
from inbox.queue import Position, QueueRead, read_queue, visible_key, visible_until
from observability import metrics
from observability.constants import READ_LEASE
from observability.logging import get_logger
from triggers.core.clock import format_timestamp, utcnow
from triggers.core.errors import (
    CONDITION_FAILED,
    ConflictError,
    LeaseLostError,
    NotFoundError,
    TriggersError,
    ValidationFailedError,
    dynamodb_error_code,
)

__all__ = [
    "MAX_LEASE_SECONDS",
    "Acknowledged",
    "Lease",
    "LeaseBatch",
    "LeasedEvent",
    "RangeRedrive",
    "Redriven",
    "ack_event",
    "ack_lease",
    "extend_lease",
    "lease_events",
    "record_oldest_returned",
    "redrive_by_id",
    "redrive_event",
    "redrive_range",
    "release_lease",
]

logger = get_logger(__name__)

# SQS's bounds: a visibility timeout, a release's delay, and a lease's whole life with
# every extension, are at most 12 hours.
MAX_LEASE_SECONDS = 43200


@dataclass(frozen=True, slots=True)
class Lease:
    token: str
    expires_at: datetime
    delivery_count: int


@dataclass(frozen=True, slots=True)
class LeasedEvent:
    item: RawItem  # the event as it is now, leased
    lease: Lease


@dataclass(frozen=True, slots=True)
class LeaseBatch:
    events: list[LeasedEvent]
    lost: int  # candidates another consumer leased first
    dead_lettered: int
    # Where the read budget stopped the read before the queue's end: a filtered lease
    # continues there (its cursor), instead of reading the same head again.
    stopped_at: Position | None = None


@dataclass(frozen=True, slots=True)
class Acknowledged:
    event_id: str
    acknowledged_at: datetime
    delivery_count: int


@dataclass(frozen=True, slots=True)
class Redriven:
    event_id: str


@dataclass(frozen=True, slots=True)
class _Refused:
    """A conditional write that did not happen, and the item as it was (None: no item)."""

    item: RawItem | None


def _update(
    tenant_id: str,
    created_key: str,
    *,
    actions: Sequence[Action],
    condition: Condition,
    return_values: str = "NONE",
) -> RawItem | _Refused:
    """One conditional UpdateItem: the attributes it returns, or what refused it."""
    table = event_connection()
    request = table.connection.get_operation_kwargs(
        table.table_name,
        tenant_id,
        range_key=created_key,
        actions=actions,
        condition=condition,
        return_values=return_values,
        return_values_on_condition_failure="ALL_OLD",
    )
    try:
        answer = table.connection.dispatch("UpdateItem", request)
    except (BotoCoreError, ClientError) as exc:
        if dynamodb_error_code(exc) != CONDITION_FAILED:
            raise UpdateError("Failed to update item", exc) from None
        cause = exc.__cause__ if isinstance(exc.__cause__, ClientError) else exc
        item: RawItem | None = (
            cause.response.get("Item") if isinstance(cause, ClientError) else None  # type: ignore[assignment]
        )
        return _Refused(dict(item) if item else None)
    return dict(answer.get("Attributes", {}))


def _count(item: RawItem) -> int:
    value = item.get("delivery_count")
    return 0 if value is None else int(value["N"])


def _event_id(created_key: str) -> str:
    return created_key.rpartition("#")[2]


def _at(entry: RawItem) -> Condition:
    """The entry is still where the reader saw it: no transition happened since."""
    seen = entry.get("visible_key")
    if seen is None:  # read from the table: an event written before queue-index existed
        return Event.visible_key.does_not_exist()
    condition: Condition = Event.visible_key == seen["S"]
    return condition


def _live(item: RawItem | None, now: datetime) -> bool:
    return item is not None and int(item["expires_at"]["N"]) > int(now.timestamp())


# --- lease ------------------------------------------------------------------------------


def lease_events(
    *,
    tenant_id: str,
    limit: int,
    visibility_timeout: int,
    source: str | None = None,
    event_type: str | None = None,
    after: Position | None = None,
    now: datetime | None = None,
) -> LeaseBatch:
    """Lease up to `limit` of the tenant's visible pending events, oldest first (after
    `after`, a previous lease's stopping point, if given).

    Reads the queue within the read budget, then makes at most `limit` +
    LEASE_SPARE_WRITES conditional writes: one per event leased, lost to another
    consumer, or dead-lettered on the way (delivered LEASE_MAX_DELIVERIES times). The
    writes go in waves, as many at once as events are still wanted.
    """
    now = now or utcnow()
    writes = limit + settings.LEASE_SPARE_WRITES
    read: QueueRead = read_queue(
        tenant_id=tenant_id,
        queue=tenant_id,
        now=now,
        want=writes,
        below=visible_until(now),
        after=after,
        source=source,
        event_type=event_type,
    )
    leased: list[LeasedEvent] = []
    lost = dead = expired = 0
    candidates = read.entries[:writes]
    taken = 0
    while taken < len(candidates) and len(leased) < limit:
        # as many candidates as events still wanted, written at once; oldest first
        wave = candidates[taken : taken + limit - len(leased)]
        taken += len(wave)
        for outcome in _in_parallel(
            lambda entry: _take(tenant_id, entry, now, visibility_timeout), wave
        ):
            if outcome is _DEAD_LETTERED:
                dead += 1
            elif isinstance(outcome, _Refused):
                lost += 1
            else:
                event, was_leased = outcome
                expired += was_leased
                leased.append(event)
    metrics.record_leases_granted(len(leased), expired=expired)
    if read.stopped_at is not None:
        metrics.record_budget_exhausted(READ_LEASE)
    if dead:
        metrics.record_dead_letters(dead)
    record_oldest_returned([event.item for event in leased], now)
    logger.info(
        "events_leased",
        limit=limit,
        visibility_timeout=visibility_timeout,
        leased=len(leased),
        lost=lost,
        dead_lettered=dead,
        redelivered=sum(event.lease.delivery_count > 1 for event in leased),
        max_delivery_count=max((event.lease.delivery_count for event in leased), default=0),
        has_cursor=after is not None,
        budget_exhausted=read.stopped_at is not None,
        read_from=read.read_from,
        filters={"source": source, "event_type": event_type},
    )
    # A cursor only when every candidate read was looked at: one that stopped at `limit`
    # leaves candidates before the budget's stopping point, for the next lease from the head.
    stopped_at = read.stopped_at if len(leased) < limit else None
    return LeaseBatch(leased, lost=lost, dead_lettered=dead, stopped_at=stopped_at)


_DEAD_LETTERED = _Refused(None)  # a candidate moved to the dead letters instead


def _take(
    tenant_id: str, entry: RawItem, now: datetime, visibility_timeout: int
) -> tuple[LeasedEvent, bool] | _Refused:
    """Lease one candidate, or dead-letter it after its last allowed delivery."""
    if _count(entry) >= settings.LEASE_MAX_DELIVERIES:
        moved = _dead_letter_seen(tenant_id, entry, now)
        return _DEAD_LETTERED if moved else _Refused(None)
    return _lease_one(tenant_id, entry, now, visibility_timeout)


T = TypeVar("T")
R = TypeVar("R")


@functools.cache
def _writers() -> ThreadPoolExecutor:
    """The process's lease writers (made in the worker that first leases, never before a
    fork)."""
    return ThreadPoolExecutor(settings.LEASE_WRITE_CONCURRENCY, thread_name_prefix="lease")


def _in_parallel(work: Callable[[T], R], items: list[T]) -> list[R]:
    """`work` on each item, at most LEASE_WRITE_CONCURRENCY at once, results in order.
    Each runs in a copy of the request's context: its DynamoDB deadline, call counts and
    log fields."""
    if len(items) <= 1 or settings.LEASE_WRITE_CONCURRENCY == 1:
        return [work(item) for item in items]
    futures = [_writers().submit(contextvars.copy_context().run, work, item) for item in items]
    return [future.result() for future in futures]


def record_oldest_returned(items: list[RawItem], now: datetime) -> None:
    """The backlog signal: the age of the oldest event a lease or an inbox page returned."""
    created = [item["created_at"]["S"] for item in items if "created_at" in item]
    if created:
        oldest = parsed_time(min(created))
        metrics.record_oldest_pending_age((now - oldest).total_seconds())


def _lease_one(
    tenant_id: str, entry: RawItem, now: datetime, visibility_timeout: int
) -> tuple[LeasedEvent, bool] | _Refused:
    created_key = entry["created_key"]["S"]
    event_id = _event_id(created_key)
    expires = now + timedelta(seconds=visibility_timeout)
    lease_id = new_lease_id()
    moved_to = visible_key(expires, event_id)
    outcome = _update(
        tenant_id,
        created_key,
        actions=[
            Event.visible_key.set(moved_to),
            Event.lease_id.set(lease_id),
            Event.leased_at.set(now),
            Event.delivery_count.add(1),
        ],
        condition=(Event.inbox_tenant == tenant_id) & _at(entry),
        return_values="ALL_OLD",
    )
    if isinstance(outcome, _Refused):
        return outcome
    item = outcome
    count = _count(item) + 1
    was_leased = "lease_id" in item  # its last lease ran out (a release removes it)
    item.update(
        visible_key={"S": moved_to},
        lease_id={"S": lease_id},
        leased_at={"S": stored_time(now)},
        delivery_count={"N": str(count)},
    )
    token = encode_lease_token(
        tenant_id=tenant_id, created_key=created_key, lease_id=lease_id, delivery_count=count
    )
    return LeasedEvent(item, Lease(token, expires, count)), was_leased


def _dead_letter_actions(created_key: str, now: datetime, tenant_id: str) -> list[Action]:
    return [
        Event.status.set(STATUS_DEAD_LETTERED),
        Event.dead_lettered_at.set(now),
        Event.inbox_tenant.set(dead_letter_queue(tenant_id)),
        Event.visible_key.set(created_key),  # dead letters are kept in creation order
        Event.lease_id.remove(),
        Event.leased_at.remove(),
    ]


def _dead_letter_seen(tenant_id: str, entry: RawItem, now: datetime) -> int:
    """Dead-letter an event a lease found visible after its last allowed delivery."""
    created_key = entry["created_key"]["S"]
    outcome = _update(
        tenant_id,
        created_key,
        actions=_dead_letter_actions(created_key, now, tenant_id),
        condition=(Event.inbox_tenant == tenant_id) & _at(entry),
    )
    if isinstance(outcome, _Refused):
        return 0
    logger.info(
        "event_dead_lettered",
        event_id=_event_id(created_key),
        delivery_count=_count(entry),
        cause="lease_expired",
    )
    return 1


# --- acting on a lease -------------------------------------------------------------------


def _held(tenant_id: str, token: LeaseToken, now: datetime) -> Condition:
    """The token is the event's current lease, and the lease has not run out."""
    held: Condition = (
        (Event.lease_id == token.lease_id)
        & (Event.inbox_tenant == tenant_id)
        & (Event.visible_key > visible_until(now))
    )
    return held


def _lost(token: LeaseToken, item: RawItem | None, now: datetime) -> TriggersError:
    """Why a write conditioned on a lease was refused, from the item as it was."""
    if not _live(item, now):
        return NotFoundError("Event not found.")
    assert item is not None  # noqa: S101 - _live
    status = item["status"]["S"]
    current = item.get("lease_id", {}).get("S")
    if status == STATUS_ACKNOWLEDGED:
        reason = "acknowledged"
    elif status == STATUS_DEAD_LETTERED:
        reason = "dead_lettered"
    elif current is None:
        reason = "released"
    elif current != token.lease_id:
        reason = "leased_again"
    else:
        reason = "expired"
    messages = {
        "acknowledged": "The event was already acknowledged.",
        "dead_lettered": "The event was dead-lettered.",
        "released": "The lease was released.",
        "leased_again": "The lease expired and another consumer leased the event.",
        "expired": "The lease expired; the event can be leased again.",
    }
    return LeaseLostError(
        f"{messages[reason]} Nothing was changed.",
        details={"event_id": token.event_id, "reason": reason},
    )


def ack_event(*, tenant_id: str, event_id: str, now: datetime | None = None) -> Acknowledged:
    """Acknowledge the event whoever holds it (no lease token): pending, leased or
    dead-lettered, it leaves every queue. Acking again answers the first ack."""
    now = now or utcnow()
    found = event_item(tenant_id=tenant_id, event_id=event_id)
    if found["status"]["S"] == STATUS_ACKNOWLEDGED:  # nothing to write
        return _acknowledged_already(event_id, found)
    outcome = _update(
        tenant_id,
        found["created_key"]["S"],
        actions=_ack_actions(now),
        condition=Event.status.is_in(STATUS_PENDING, STATUS_DEAD_LETTERED)
        & (Event.expires_at > now),
        return_values="ALL_OLD",
    )
    if isinstance(outcome, _Refused):
        item = outcome.item
        if not _live(item, now) or item is None or item["status"]["S"] != STATUS_ACKNOWLEDGED:
            raise NotFoundError("Event not found.")  # deleted by a concurrent request
        return _acknowledged_already(event_id, item)
    logger.info("event_acknowledged", event_id=event_id, already_acknowledged=False,
                delivery_count=_count(outcome), lease=False)  # fmt: skip
    return Acknowledged(event_id, now, _count(outcome))


def _acknowledged_already(event_id: str, item: RawItem) -> Acknowledged:
    logger.info("event_acknowledged", event_id=event_id, already_acknowledged=True,
                delivery_count=_count(item), lease=False)  # fmt: skip
    return Acknowledged(event_id, parsed_time(item["acknowledged_at"]["S"]), _count(item))


def _ack_actions(now: datetime) -> list[Action]:
    return [
        Event.status.set(STATUS_ACKNOWLEDGED),
        Event.acknowledged_at.set(now),
        Event.inbox_tenant.remove(),
        Event.visible_key.remove(),
        Event.dead_lettered_at.remove(),
        Event.inbox_source.remove(),
        Event.inbox_event_type.remove(),
    ]


def ack_lease(*, tenant_id: str, token: LeaseToken, now: datetime | None = None) -> Acknowledged:
    """Acknowledge the event while `token` holds its lease. Acking again with the same
    token answers the first ack (a retry whose answer was lost)."""
    now = now or utcnow()
    outcome = _update(
        tenant_id,
        token.created_key,
        actions=_ack_actions(now),
        condition=_held(tenant_id, token, now),
        return_values="ALL_OLD",
    )
    if isinstance(outcome, _Refused):
        item = outcome.item
        if (
            _live(item, now)
            and item is not None
            and item["status"]["S"] == STATUS_ACKNOWLEDGED
            and item.get("lease_id", {}).get("S") == token.lease_id
        ):
            logger.info("event_acknowledged", event_id=token.event_id, already_acknowledged=True,
                        delivery_count=_count(item), lease=True)  # fmt: skip
            first = parsed_time(item["acknowledged_at"]["S"])
            return Acknowledged(token.event_id, first, _count(item))
        raise _lost(token, item, now)
    count = _count(outcome)
    logger.info("event_acknowledged", event_id=token.event_id, already_acknowledged=False,
                delivery_count=count, lease=True)  # fmt: skip
    return Acknowledged(token.event_id, now, count)


def extend_lease(
    *, tenant_id: str, token: LeaseToken, visibility_timeout: int, now: datetime | None = None
) -> Lease:
    """Hold the lease until `visibility_timeout` seconds from now (SQS's
    ChangeMessageVisibility), within MAX_LEASE_SECONDS of when it was taken."""
    now = now or utcnow()
    expires = now + timedelta(seconds=visibility_timeout)
    earliest_taken = expires - timedelta(seconds=MAX_LEASE_SECONDS)
    outcome = _update(
        tenant_id,
        token.created_key,
        actions=[Event.visible_key.set(visible_key(expires, token.event_id))],
        condition=_held(tenant_id, token, now) & (Event.leased_at >= earliest_taken),
        return_values="ALL_NEW",
    )
    if isinstance(outcome, _Refused):
        item = outcome.item
        error = _lost(token, item, now)
        if item is not None and isinstance(error, LeaseLostError) and _still_held(item, token, now):
            taken = parsed_time(item["leased_at"]["S"])
            limit = format_timestamp(taken + timedelta(seconds=MAX_LEASE_SECONDS))
            raise ValidationFailedError(
                f"A lease lasts at most {MAX_LEASE_SECONDS} s from when it was taken: "
                f"this one can be extended to {limit} at the latest.",
                details={"visibility_timeout": [f"Extends the lease past {limit}."]},
            )
        raise error
    count = _count(outcome)
    logger.info("lease_extended", event_id=token.event_id, delivery_count=count,
                visibility_timeout=visibility_timeout)  # fmt: skip
    return Lease(
        encode_lease_token(
            tenant_id=tenant_id,
            created_key=token.created_key,
            lease_id=token.lease_id,
            delivery_count=token.delivery_count,
        ),
        expires,
        count,
    )


def _still_held(item: RawItem, token: LeaseToken, now: datetime) -> bool:
    return bool(
        item.get("lease_id", {}).get("S") == token.lease_id
        and item["status"]["S"] == STATUS_PENDING
        and item.get("visible_key", {}).get("S", "") > visible_until(now)
    )


def release_lease(
    *, tenant_id: str, token: LeaseToken, delay: int, now: datetime | None = None
) -> str:
    """Give the event back (Pub/Sub's nack, SQS's visibility 0): visible again after
    `delay` seconds; after its LEASE_MAX_DELIVERIES-th delivery (the token says which
    delivery it is), dead-lettered instead. One conditional write either way. Returns the
    event's status afterwards."""
    now = now or utcnow()
    last = token.delivery_count >= settings.LEASE_MAX_DELIVERIES
    if last:
        actions = _dead_letter_actions(token.created_key, now, tenant_id)
    else:
        visible_at = now + timedelta(seconds=delay)
        actions = [
            Event.visible_key.set(visible_key(visible_at, token.event_id)),
            Event.lease_id.remove(),
            Event.leased_at.remove(),
        ]
    outcome = _update(
        tenant_id, token.created_key, actions=actions, condition=_held(tenant_id, token, now)
    )
    if isinstance(outcome, _Refused):
        raise _lost(token, outcome.item, now)
    metrics.record_lease_releases(1)
    if last:
        metrics.record_dead_letters(1)
        logger.info("event_dead_lettered", event_id=token.event_id,
                    delivery_count=token.delivery_count, cause="released")  # fmt: skip
        return STATUS_DEAD_LETTERED
    logger.info("lease_released", event_id=token.event_id, delivery_count=token.delivery_count,
                delay=delay)  # fmt: skip
    return STATUS_PENDING


# --- dead letters --------------------------------------------------------------------------


def _redrive_actions(event_id: str, now: datetime, tenant_id: str) -> list[Action]:
    return [
        Event.status.set(STATUS_PENDING),
        Event.inbox_tenant.set(tenant_id),
        Event.visible_key.set(visible_key(now, event_id)),
        Event.delivery_count.set(0),
        Event.dead_lettered_at.remove(),
    ]


def redrive_event(*, tenant_id: str, created_key: str, now: datetime | None = None) -> Redriven:
    """Return one dead-lettered event to the pending queue, visible now, its delivery
    count reset."""
    now = now or utcnow()
    event_id = _event_id(created_key)
    outcome = _update(
        tenant_id,
        created_key,
        actions=_redrive_actions(event_id, now, tenant_id),
        condition=Event.inbox_tenant == dead_letter_queue(tenant_id),
        return_values="ALL_OLD",
    )
    if isinstance(outcome, _Refused):
        if not _live(outcome.item, now):
            raise NotFoundError("Event not found.", details={"event_id": event_id})
        assert outcome.item is not None  # noqa: S101 - _live
        raise ConflictError(
            f"The event is {outcome.item['status']['S']}, not dead-lettered.",
            details={"event_id": event_id, "status": outcome.item["status"]["S"]},
        )
    metrics.record_redrives(1)
    logger.info("event_redriven", event_id=event_id, delivery_count=_count(outcome))
    return Redriven(event_id)


def redrive_by_id(*, tenant_id: str, event_id: str, now: datetime | None = None) -> Redriven:
    """Redrive the dead-lettered event with this id (its key from the id where the id
    gives it, else from a lookup)."""
    derived = created_key_of(event_id)
    if derived is not None:
        try:
            return redrive_event(tenant_id=tenant_id, created_key=derived, now=now)
        except NotFoundError:
            pass  # an event written before its key was the id's own millisecond
    try:
        created_key = event_item(tenant_id=tenant_id, event_id=event_id)["created_key"]["S"]
    except NotFoundError:
        raise NotFoundError("Event not found.", details={"event_id": event_id}) from None
    if created_key == derived:
        raise NotFoundError("Event not found.", details={"event_id": event_id})
    return redrive_event(tenant_id=tenant_id, created_key=created_key, now=now)


@dataclass(frozen=True, slots=True)
class RangeRedrive:
    results: list[Redriven | TriggersError]
    more: bool  # more dead letters may match: ask again


def redrive_range(
    *,
    tenant_id: str,
    since: datetime,
    until: datetime,
    limit: int,
    source: str | None = None,
    event_type: str | None = None,
    now: datetime | None = None,
) -> RangeRedrive:
    """Redrive up to `limit` dead letters created in [since, until] (with the filters),
    oldest first, within the read budget; `more` says whether to ask again."""
    now = now or utcnow()
    queue = dead_letter_queue(tenant_id)
    read = read_queue(
        tenant_id=tenant_id,
        queue=queue,
        now=now,
        want=limit,
        from_key=format_timestamp(since),
        below=visible_until(until),
        source=source,
        event_type=event_type,
    )
    results: list[Redriven | TriggersError] = []
    for entry in read.entries:
        try:
            results.append(
                redrive_event(tenant_id=tenant_id, created_key=entry["created_key"]["S"], now=now)
            )
        except (NotFoundError, ConflictError) as exc:  # acted on since the read
            results.append(exc)
    return RangeRedrive(results, more=read.more or read.stopped_at is not None)
