"""Putting many new events at once, so that no SDK retry can overwrite one of them.

A batch's events are written with TransactWriteItems, each a put on the condition that
its key is free, under a ClientRequestToken: if botocore resends the call because the
first answer was lost, DynamoDB answers the resend from the first outcome instead of
writing again (for ten minutes), and the conditions hold even past that. A consumer's
ack or delete made in between therefore stays. BatchWriteItem has neither, which is why
it is not used; the price is DynamoDB's for transactions: two write units per KB
instead of one (docs/RELIABILITY.md).

A transaction holds at most 4 MB, so large batches are split into as few transactions
as fit. A transaction is all or nothing: a cancelled one wrote none of its events, and
one cancelled for a reason that passes (throttling, a conflict) is tried again, with
exponential back-off and jitter, while the request's deadline leaves room.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from typing import Any, Final

import orjson
from pynamodb.exceptions import TransactWriteError

from events.fields import RawItem
from events.models import Event
from triggers.core.aws import dynamodb_connection
from triggers.core.chunks import chunks
from triggers.core.deadline import remaining_seconds
from triggers.core.errors import (
    CONDITION_FAILED_REASON,
    PASSING_CANCELLATION_REASONS,
    ServiceUnavailableError,
    TriggersError,
    UnavailableCause,
    dynamodb_error_code,
    permanent_write_error,
)

__all__ = ["MAX_BATCH_ITEMS", "TRANSACTION_MAX_BYTES", "put_events"]

MAX_BATCH_ITEMS: Final = 25
# DynamoDB's limit on a transaction's total size is 4 MB; items are measured a little
# generously (as the JSON of the request that carries them, plus room for its framing).
TRANSACTION_MAX_BYTES: Final = 4_000_000 - 64_000
_ITEM_OVERHEAD_BYTES: Final = 512
_ATTEMPTS: Final = 5
_FIRST_BACKOFF_SECONDS: Final = 0.05
_CANCELLED: Final = "TransactionCanceledException"

Numbered = tuple[int, RawItem]


def _size(item: RawItem) -> int:
    # The item's own JSON is at least its DynamoDB size (names and values as UTF-8, plus
    # quotes, type tags and punctuation), and one C call instead of a walk of its
    # attributes: a batch's 25 were a sixth of its CPU outside botocore.
    return _ITEM_OVERHEAD_BYTES + len(orjson.dumps(item))


def _transactions(items: list[Numbered]) -> Iterator[list[Numbered]]:
    """The items in order, in as few groups as fit one transaction each."""
    return chunks(
        items, size_of=lambda numbered: _size(numbered[1]), max_size=TRANSACTION_MAX_BYTES
    )


def _put_request(item: RawItem) -> dict[str, Any]:
    return {
        "TableName": Event.Meta.table_name,
        "Item": item,
        "ConditionExpression": "attribute_not_exists(#key)",
        "ExpressionAttributeNames": {"#key": "created_key"},
    }


def _put_transaction(items: list[RawItem]) -> list[tuple[str, str]] | None:
    """Write the items in one transaction: None when written, else each item's
    cancellation reason (code, message); nothing was written. Raises PynamoDB's
    TransactWriteError when the call itself failed (then any outcome is possible)."""
    try:
        dynamodb_connection().transact_write_items(
            condition_check_items=[],
            delete_items=[],
            put_items=[_put_request(item) for item in items],
            update_items=[],
            client_request_token=str(uuid.uuid4()),
        )
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if dynamodb_error_code(exc) != _CANCELLED or len(reasons) != len(items):
            raise
        return [
            ("None", "") if reason is None else (reason.code or "None", reason.message or "")
            for reason in reasons
        ]
    return None


def put_events(items: list[RawItem]) -> dict[int, TriggersError]:
    """Write new event items (at most MAX_BATCH_ITEMS), each only if its key is free.
    Returns why each item not written was not (by its index): throttled until the
    request's deadline left no room for another try (503), or refused by DynamoDB for
    a reason of its own (`permanent_write_error`). Raises PynamoDB's TransactWriteError
    when a call itself failed (then any of the items may be written)."""
    failures: dict[int, TriggersError] = {}
    for group in _transactions(list(enumerate(items))):
        failures.update(_put_group(group))
    return failures


def _put_group(group: list[Numbered]) -> dict[int, TriggersError]:
    failures: dict[int, TriggersError] = {}
    pending = group
    for attempt in range(_ATTEMPTS):
        if not pending:
            return failures
        if attempt:
            backoff = random.uniform(0, _FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))  # noqa: S311
            left = remaining_seconds()
            if left is not None and left < backoff + 0.1:
                break  # no time for another try
            time.sleep(backoff)
        reasons = _put_transaction([item for _, item in pending])
        if reasons is None:
            return failures
        again: list[Numbered] = []
        for numbered, (code, message) in zip(pending, reasons, strict=True):
            if code == CONDITION_FAILED_REASON:
                continue  # its key is taken: an earlier attempt of this call wrote it
            if code in PASSING_CANCELLATION_REASONS:
                again.append(numbered)
            else:
                failures[numbered[0]] = permanent_write_error(code, message)
        pending = again
    for index, _ in pending:
        failures[index] = ServiceUnavailableError(
            "DynamoDB did not write it (throttled); retry it.", cause=UnavailableCause.THROTTLED
        )
    return failures
