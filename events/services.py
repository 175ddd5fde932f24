"""Writes: ingest and delete events. (Acknowledging is the consumer side's: inbox.leases.)"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from events.batch import put_events
from events.fields import EventDraft, event_connection
from events.items import PendingItem, pending_event, pending_item, put_pending_item
from events.models import (
    STATUS_DELETED,
    STATUS_PENDING,
    Event,
    IdempotencyRecord,
)
from events.selectors import event_get
from observability import metrics
from observability.logging import get_logger
from triggers.core.aws import dynamodb_connection
from triggers.core.clock import utcnow
from triggers.core.errors import (
    CONDITION_FAILED,
    CONDITION_FAILED_REASON,
    PASSING_CANCELLATION_REASONS,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    TriggersError,
    UnavailableCause,
    dynamodb_error_code,
    permanent_write_error,
    unavailable_cause,
)

__all__ = [
    "BatchItem",
    "BatchResult",
    "IngestedEvent",
    "event_delete",
    "event_ingest",
    "event_ingest_batch",
]

logger = get_logger(__name__)

_TRANSACTION_CANCELLED = "TransactionCanceledException"
_TRANSACTION_ATTEMPTS = 4
# A keyed transaction's cancellation reasons other than these are permanent: no retry.
_TRANSACTION_PASSING_REASONS = PASSING_CANCELLATION_REASONS | {CONDITION_FAILED_REASON}


@dataclass(frozen=True, slots=True)
class IngestedEvent:
    """What `POST /v1/events` answers, whether the event was written now or replayed."""

    event_id: str
    created_at: datetime
    source: str
    event_type: str
    status: str
    replayed: bool


def _request_hash(draft: EventDraft) -> str:
    """Fingerprint of a request body (EventDraft.fingerprint)."""
    return hashlib.sha256(
        orjson.dumps(draft.fingerprint(), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def _recorded(ingested: IngestedEvent, payload: str) -> IngestedEvent:
    if not ingested.replayed:
        metrics.record_event_ingestion(1)
    logger.info(
        "event_ingested",
        event_id=ingested.event_id,
        source=ingested.source,
        event_type=ingested.event_type,
        payload_bytes=len(payload.encode("utf-8")),
        idempotent_replay=ingested.replayed,
    )
    return ingested


def _answer(origin: Event | IdempotencyRecord | PendingItem, *, replayed: bool) -> IngestedEvent:
    """The POST answer, from the event just written or from the key's first answer."""
    return IngestedEvent(
        event_id=origin.event_id,
        created_at=origin.created_at,
        source=origin.source,
        event_type=origin.event_type,
        status=STATUS_PENDING,
        replayed=replayed,
    )


def _live_record(reason_item: dict[str, Any] | None) -> IdempotencyRecord | None:
    """The record that failed the transaction's condition (DynamoDB returns it: ALL_OLD),
    if it is still live. Without it, None: the caller tries the transaction again."""
    if not reason_item:
        return None
    record = IdempotencyRecord.from_raw_data(reason_item)
    return record if record.expires_at > utcnow() else None


def event_ingest(
    *, tenant_id: str, draft: EventDraft, idempotency_key: str | None = None
) -> IngestedEvent:
    """Store a new pending event.

    With an idempotency key, the key's record and the event are written in one
    transaction: a retry with the same body replays the first answer, a reuse with
    a different body is a ConflictError, and concurrent duplicates cannot both land.
    """
    payload = draft.payload
    if idempotency_key is None:
        pending = pending_item(tenant_id=tenant_id, draft=draft)
        put_pending_item(pending)
        return _recorded(_answer(pending, replayed=False), payload)

    draft = replace(draft, metadata={**draft.metadata, "idempotency_key": idempotency_key})
    event = pending_event(tenant_id=tenant_id, draft=draft)
    request_hash = _request_hash(draft)
    record_key = f"{tenant_id}#{idempotency_key}"
    for _ in range(_TRANSACTION_ATTEMPTS):
        now = utcnow()
        record = IdempotencyRecord(
            record_key,
            request_hash=request_hash,
            event_id=event.event_id,
            created_at=event.created_at,
            source=draft.source,
            event_type=draft.event_type,
            expires_at=now + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
        )
        # An expired record that TTL has not swept yet must not block the key.
        unused = IdempotencyRecord.record_key.does_not_exist() | (
            IdempotencyRecord.expires_at <= now
        )
        try:
            with TransactWrite(connection=dynamodb_connection()) as transaction:
                transaction.save(record, condition=unused, return_values="ALL_OLD")
                transaction.save(event)
        except TransactWriteError as exc:
            if dynamodb_error_code(exc) != _TRANSACTION_CANCELLED:
                raise
            reasons = exc.cancellation_reasons or []
            for refused in reasons:
                if refused is not None and refused.code not in _TRANSACTION_PASSING_REASONS:
                    raise permanent_write_error(refused.code or "", refused.message or "") from None
            reason = reasons[0] if reasons else None
            if reason is not None and reason.code == CONDITION_FAILED_REASON:
                existing = _live_record(reason.raw_item)
                if existing is not None and existing.request_hash != request_hash:
                    raise ConflictError(
                        "This Idempotency-Key was already used with a different request body.",
                        details={"idempotency_key": idempotency_key},
                    ) from None
                if existing is not None:
                    return _recorded(_answer(existing, replayed=True), payload)
            # A concurrent transaction on the same key (TransactionConflict), or the record
            # expired in between: back off briefly and try again.
            time.sleep(random.uniform(0.01, 0.05))  # noqa: S311 - jitter, not security
            continue
        return _recorded(_answer(event, replayed=False), payload)
    raise ServiceUnavailableError(
        "Could not settle the idempotency key; retry the request.",
        cause=UnavailableCause.CONFLICT,
    )


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One event of a batch: its draft, and its idempotency key if it has one."""

    draft: EventDraft
    idempotency_key: str | None = None


BatchResult = IngestedEvent | TriggersError
_MAYBE_STORED = "Not confirmed: it may have been stored. Retry it with an idempotency key."


def event_ingest_batch(*, tenant_id: str, items: Sequence[BatchItem]) -> list[BatchResult]:
    """Store several events; one result per item, in order: the stored (or replayed)
    event, or the error that item alone met.

    Items without an idempotency key go to DynamoDB together (events.batch: conditional
    puts in a transaction); items with one each go through the same transaction as a
    single POST.
    """
    plain = [(index, item) for index, item in enumerate(items) if item.idempotency_key is None]
    results: dict[int, BatchResult] = _ingest_plain(tenant_id, plain)
    for index, item in enumerate(items):
        if item.idempotency_key is not None:
            results[index] = _ingest_keyed(tenant_id, item)
    ordered = [results[index] for index in range(len(items))]
    stored = [r for r in ordered if isinstance(r, IngestedEvent) and not r.replayed]
    # Keyed items were counted by event_ingest, one by one.
    metrics.record_event_ingestion(
        sum(isinstance(results[index], IngestedEvent) for index, _ in plain)
    )
    failed = [r for r in ordered if isinstance(r, TriggersError)]
    logger.info(
        "events_batch_ingested",
        received=len(items),
        stored=len(stored),
        replayed=sum(isinstance(r, IngestedEvent) and r.replayed for r in ordered),
        failed=len(failed),
    )
    return ordered


def _ingest_plain(tenant_id: str, plain: list[tuple[int, BatchItem]]) -> dict[int, BatchResult]:
    events = {index: pending_item(tenant_id=tenant_id, draft=item.draft) for index, item in plain}
    try:
        failures = put_events([event.item for event in events.values()])
    except PynamoDBException as exc:  # the call itself failed: any of them may be stored
        cause = unavailable_cause(exc)
        if cause is None:
            raise
        return {index: ServiceUnavailableError(_MAYBE_STORED, cause=cause) for index in events}
    return {
        index: failures.get(position) or _answer(event, replayed=False)
        for position, (index, event) in enumerate(events.items())
    }


def _ingest_keyed(tenant_id: str, item: BatchItem) -> BatchResult:
    try:
        return event_ingest(
            tenant_id=tenant_id, draft=item.draft, idempotency_key=item.idempotency_key
        )
    except (ConflictError, ServiceUnavailableError) as exc:
        return exc
    except PynamoDBException as exc:
        cause = unavailable_cause(exc)
        if cause is None:
            raise
        return ServiceUnavailableError(_MAYBE_STORED, cause=cause)


def _is_condition_failure(exc: UpdateError) -> bool:
    return dynamodb_error_code(exc) == CONDITION_FAILED


def event_delete(*, tenant_id: str, event_id: str) -> None:
    """Delete the event: its payload and inbox keys go at once, and what is left is a
    tombstone, already expired (every read skips it), that TTL removes later.

    Not a DeleteItem: a producer's PutItem whose answer was lost may still be retried
    by the SDK, and only an item under the key makes that retry's condition fail
    (events.items.put_pending_item); with the key empty the event would come back.
    """
    event = event_get(tenant_id=tenant_id, event_id=event_id)
    now = utcnow()
    try:
        event_connection().update_item(
            event.tenant_id,
            range_key=event.created_key,
            actions=[
                Event.status.set(STATUS_DELETED),
                Event.expires_at.set(now - timedelta(seconds=1)),
                Event.payload.remove(),
                Event.inbox_tenant.remove(),
                Event.visible_key.remove(),
                Event.lease_id.remove(),
                Event.leased_at.remove(),
                Event.inbox_source.remove(),
                Event.inbox_event_type.remove(),
            ],
            condition=Event.expires_at > now,
        )
    except UpdateError as exc:
        if not _is_condition_failure(exc):
            raise
        raise NotFoundError("Event not found.") from None  # deleted by a concurrent request
    logger.info("event_deleted", event_id=event_id)
