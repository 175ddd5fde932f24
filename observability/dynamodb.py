"""Timing and failures of every DynamoDB call, whoever makes it.

PynamoDB announces each call with its `pre_dynamodb_send` signal; the first
time a connection's botocore client is seen, handlers are registered on it for
`before-call`, `after-call` and `after-call-error`. They log

- `dynamodb_call` (DEBUG): operation, table, duration_ms;
- `dynamodb_call_failed`: the same plus error_code, at INFO for the conditional
  failures the services expect (idempotent replays, repeated acks), WARNING otherwise;

and add to per-request totals that `request_finished` reports as
`dynamodb_calls` and `dynamodb_ms`.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pynamodb.signals import pre_dynamodb_send

from observability.logging import get_logger

__all__ = ["RequestStats", "connect", "request_stats", "reset_request_stats"]

logger = get_logger(__name__)

_EXPECTED_FAILURES = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})
_STARTED = "triggers_started"
_TABLE = "triggers_table"


@dataclass
class RequestStats:
    calls: int = 0
    total_ms: float = 0.0


_stats: ContextVar[RequestStats | None] = ContextVar("dynamodb_request_stats", default=None)


def reset_request_stats() -> None:
    _stats.set(RequestStats())


def request_stats() -> RequestStats | None:
    return _stats.get()


def _table_of(params: dict[str, Any]) -> str:
    if "TableName" in params:
        return str(params["TableName"])
    tables = {
        operation["TableName"]
        for item in params.get("TransactItems", [])
        for operation in item.values()
    }
    tables.update(params.get("RequestItems", {}))
    return ",".join(sorted(tables))


def _before_call(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_STARTED] = time.monotonic()
    context[_TABLE] = _table_of(params)


def _finish(model: Any, context: dict[str, Any], error_code: str | None) -> None:
    started = context.get(_STARTED)
    if started is None:
        return
    duration = round((time.monotonic() - started) * 1000, 3)
    stats = _stats.get()
    if stats is not None:
        stats.calls += 1
        stats.total_ms += duration
    fields = {"operation": model.name, "table": context.get(_TABLE), "duration_ms": duration}
    if error_code is None:
        logger.debug("dynamodb_call", **fields)
        return
    level = logging.INFO if error_code in _EXPECTED_FAILURES else logging.WARNING
    logger.log(level, "dynamodb_call_failed", error_code=error_code, **fields)


def _after_call(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    _finish(model, context, error.get("Code") if error else None)


def _after_call_error(exception: Exception, model: Any, context: dict[str, Any], **_: Any) -> None:
    _finish(model, context, type(exception).__name__)


def _instrument(sender: Any, **_: Any) -> None:
    events = sender.client.meta.events
    # unique_id makes registration idempotent: a client is instrumented once.
    events.register("before-call.dynamodb", _before_call, unique_id="triggers-before-call")
    events.register("after-call.dynamodb", _after_call, unique_id="triggers-after-call")
    events.register(
        "after-call-error.dynamodb", _after_call_error, unique_id="triggers-after-call-error"
    )


def connect() -> None:
    """Called once from ObservabilityConfig.ready()."""
    pre_dynamodb_send.connect(_instrument, weak=False)
