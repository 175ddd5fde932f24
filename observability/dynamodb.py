"""Timing and failures of every DynamoDB call, whoever makes it.

PynamoDB announces each call with its `pre_dynamodb_send` signal; the first
time a connection's botocore client is seen, handlers are registered on it for
`before-parameter-build` (start, table, operation), `after-call` and
`after-call-error` (including connection failures). They log

- `dynamodb_call` (DEBUG): operation, table, duration_ms;
- `dynamodb_call_failed`: the same plus error_code, at INFO for the conditional
  failures the services expect (idempotent replays, repeated acks), WARNING otherwise;

and add to per-request totals that `request_finished` reports as
`dynamodb_calls` and `dynamodb_ms`. With DYNAMODB_REPORT_CAPACITY (the default), every
data-plane call also asks for `ReturnConsumedCapacity=TOTAL` (free), and the units the
request consumed are reported as `dynamodb_capacity_units`: what a request costs, by
endpoint, in the logs and in the load gate (perf/regression.py).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from pynamodb.signals import pre_dynamodb_send

from observability.logging import get_logger
from triggers.core.aws import on_each_new_client

__all__ = ["CAPACITY_OPERATIONS", "RequestStats", "connect", "request_stats", "reset_request_stats"]

logger = get_logger(__name__)

# Failures the code asks for on purpose: conditional writes that lose (idempotent replays,
# repeated acks), and DescribeTable on a table that does not exist yet (create_tables).
_EXPECTED_FAILURES = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})
_EXPECTED_MISSES = frozenset({"DescribeTable"})
_STARTED = "triggers_started"
_TABLE = "triggers_table"
_OPERATION = "triggers_operation"
# Operations that take ReturnConsumedCapacity (the data plane).
CAPACITY_OPERATIONS = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "GetItem",
        "Query",
        "Scan",
        "BatchWriteItem",
        "BatchGetItem",
        "TransactWriteItems",
        "TransactGetItems",
    }
)


@dataclass
class RequestStats:
    """One request's DynamoDB calls. A request may make calls from several threads (a
    lease writes its events in parallel), so adding is locked."""

    calls: int = 0
    total_ms: float = 0.0
    capacity_units: float | None = None  # None: no call reported what it consumed
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, duration_ms: float, capacity_units: float | None = None) -> None:
        with self._lock:
            self.calls += 1
            self.total_ms += duration_ms
            if capacity_units is not None:
                self.capacity_units = (self.capacity_units or 0.0) + capacity_units


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


def _never_raise(handler: Callable[..., None]) -> Callable[..., None]:
    """A hook must not break the DynamoDB call it observes."""

    @functools.wraps(handler)
    def guarded(**kwargs: Any) -> None:
        try:
            handler(**kwargs)
        except Exception:
            logger.debug("dynamodb_hook_failed", hook=handler.__name__, exc_info=True)

    return guarded


def _capacity_units(parsed: Any) -> float | None:
    """The units one response says its call consumed (one table's, or a list of tables'
    for batches and transactions); None when it says nothing."""
    consumed = parsed.get("ConsumedCapacity") if isinstance(parsed, dict) else None
    if not consumed:
        return None
    entries = consumed if isinstance(consumed, list) else [consumed]
    return sum(float(entry.get("CapacityUnits", 0.0)) for entry in entries)


@_never_raise
def _ask_for_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name in CAPACITY_OPERATIONS:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")


@_never_raise
def _before_parameter_build(
    params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
) -> None:
    context[_STARTED] = time.monotonic()
    context[_TABLE] = _table_of(params)
    context[_OPERATION] = model.name


def _finish(
    context: dict[str, Any], error_code: str | None, capacity_units: float | None = None
) -> None:
    started = context.get(_STARTED)
    if started is None:
        return
    duration = round((time.monotonic() - started) * 1000, 3)
    stats = _stats.get()
    if stats is not None:
        stats.add(duration, capacity_units)
    fields = {
        "operation": context.get(_OPERATION),
        "table": context.get(_TABLE),
        "duration_ms": duration,
    }
    if error_code is None:
        logger.debug("dynamodb_call", **fields)
        return
    expected = error_code in _EXPECTED_FAILURES or (
        error_code == "ResourceNotFoundException" and context.get(_OPERATION) in _EXPECTED_MISSES
    )
    level = logging.INFO if expected else logging.WARNING
    logger.log(level, "dynamodb_call_failed", error_code=error_code, **fields)


@_never_raise
def _after_call(parsed: Any, context: dict[str, Any], **_: Any) -> None:
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    _finish(context, error.get("Code") if error else None, _capacity_units(parsed))


@_never_raise
def _after_call_error(exception: Exception, context: dict[str, Any], **_: Any) -> None:
    _finish(context, type(exception).__name__)


_HOOKS = {
    "before-parameter-build.dynamodb": _before_parameter_build,
    "after-call.dynamodb": _after_call,
    "after-call-error.dynamodb": _after_call_error,
}


def _instrument(events: Any) -> None:
    for event_name, handler in _HOOKS.items():
        events.register(event_name, handler, unique_id=f"triggers-{event_name}")
    if settings.DYNAMODB_REPORT_CAPACITY:
        events.register(
            "provide-client-params.dynamodb", _ask_for_capacity, unique_id="triggers-capacity"
        )


def connect() -> None:
    """Called once from ObservabilityConfig.ready()."""
    pre_dynamodb_send.connect(on_each_new_client(_instrument), weak=False)
