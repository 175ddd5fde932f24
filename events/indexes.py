"""Which GSIs the live table can serve, as each process learns it from its own reads.

A Query on an index that does not exist yet, or is still backfilling, fails with a
ValidationException naming the index. The read that meets it takes a slower way
(a bounded Scan, a filtered inbox read), and the process remembers the index as
unusable for INDEX_RECHECK_SECONDS; the first read after that tries it again. Nothing
here calls DescribeTable: the request path stays on DynamoDB's data plane.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from pynamodb.exceptions import PynamoDBException

from observability import metrics
from observability.logging import get_logger
from triggers.core.errors import dynamodb_error_code

__all__ = ["is_index_unavailable", "read_with_fallback"]

logger = get_logger(__name__)

T = TypeVar("T")

# DynamoDB's messages: "The table does not have the specified index: <name>" and
# "Cannot read from backfilling global secondary index: <name>".
_UNAVAILABLE_MESSAGES = ("does not have the specified index", "backfilling global secondary index")

# index name -> monotonic time until which reads skip it
_unusable_until: dict[str, float] = {}


def is_index_unavailable(exc: PynamoDBException) -> bool:
    """The read failed because its index is missing or still backfilling."""
    if dynamodb_error_code(exc) != "ValidationException":
        return False
    message = str(exc.cause_response_message)
    return any(text in message for text in _UNAVAILABLE_MESSAGES)


def _usable(index: str) -> bool:
    until = _unusable_until.get(index)
    return until is None or time.monotonic() >= until


def _mark_unusable(index: str) -> None:
    if index not in _unusable_until:
        logger.warning(
            "index_unavailable", index=index, recheck_seconds=settings.INDEX_RECHECK_SECONDS
        )
    _unusable_until[index] = time.monotonic() + settings.INDEX_RECHECK_SECONDS


def _mark_usable(index: str) -> None:
    if _unusable_until.pop(index, None) is not None:
        logger.info("index_available", index=index)


def read_with_fallback(
    index: str, *, indexed: Callable[[], T], fallback: Callable[[], T]
) -> tuple[T, bool]:
    """`indexed()` while `index` serves reads, else `fallback()` (logged and counted).

    Returns the result and whether the index served it. Both callables must finish
    their reads before returning (PynamoDB's queries are lazy).
    """
    if _usable(index):
        try:
            result = indexed()
        except PynamoDBException as exc:
            if not is_index_unavailable(exc):
                raise
            _mark_unusable(index)
        else:
            _mark_usable(index)
            return result, True
    metrics.record_index_fallback(index)
    return fallback(), False
