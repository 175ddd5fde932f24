"""A deadline for the DynamoDB work of one request.

Every request may spend at most DYNAMODB_DEADLINE_SECONDS on DynamoDB, counted from
when it arrived, across all its calls, botocore's retries and their back-off. Two
botocore hooks, installed on every client PynamoDB creates, hold it:

- `before-send` (each attempt): the attempt's read timeout is capped to what is left
  after a worst-case connect, and an attempt that would have less than
  `_MIN_ATTEMPT_SECONDS` to run is not started (`DeadlineExceeded`);
- `needs-retry` (registered first, so it is asked before botocore's standard retry
  handler): a retry whose worst-case back-off would leave no time for the attempt is
  vetoed, and the last error is raised at once.

So a request facing a hung, unreachable, throttling or failing DynamoDB ends within
the deadline, and `triggers.http.exceptions` answers it 503 with `Retry-After`. Outside
a deadline (management commands, background threads) botocore behaves as configured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError
from botocore.retries.standard import RetryEventAdapter, ThrottlingErrorDetector
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from pynamodb.signals import pre_dynamodb_send

from triggers.core.aws import on_each_new_client

__all__ = [
    "DeadlineExceeded",
    "DynamoDBDeadlineMiddleware",
    "connect",
    "deadline_after",
    "remaining_seconds",
]

# An attempt is not worth starting with less read time than this.
_MIN_ATTEMPT_SECONDS = 0.05
# botocore's standard retry mode sleeps rand(0, 1) * scale * 2 ** (attempt - 1) seconds,
# at most 20 s, with a scale of 1 s after throttling and 25 ms after other DynamoDB errors.
_THROTTLING_SCALE_SECONDS = 1.0
_OTHER_SCALE_SECONDS = 0.025
_MAX_BACKOFF_SECONDS = 20.0

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class _Deadline:
    at: float
    clock: Clock


_deadline: ContextVar[_Deadline | None] = ContextVar("dynamodb_deadline", default=None)
_throttling = ThrottlingErrorDetector(RetryEventAdapter())


class DeadlineExceeded(BotoCoreError):
    """The request's DynamoDB deadline left no time for another attempt."""

    fmt = "The request's DynamoDB deadline has passed; {operation} was not sent."


@contextmanager
def deadline_after(seconds: float, *, clock: Clock = time.monotonic) -> Iterator[None]:
    """DynamoDB calls inside finish within `seconds` (or an enclosing deadline, if
    sooner), as `clock` counts seconds (tests give a clock they move themselves)."""
    proposed = clock() + seconds
    current = _deadline.get()
    if current is not None and current.clock is clock:
        proposed = min(current.at, proposed)
    token = _deadline.set(_Deadline(at=proposed, clock=clock))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining_seconds() -> float | None:
    """Seconds left before the current deadline; None outside any deadline."""
    deadline = _deadline.get()
    return None if deadline is None else deadline.at - deadline.clock()


def _cap_attempt(request: Any, event_name: str, **_: Any) -> None:
    left = remaining_seconds()
    if left is None:
        return
    read_timeout = min(
        settings.DYNAMODB_READ_TIMEOUT_SECONDS, left - settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS
    )
    if read_timeout < _MIN_ATTEMPT_SECONDS:
        raise DeadlineExceeded(operation=event_name.rsplit(".", 1)[-1])
    # botocore's per-request override of the pool's read timeout (URLLib3Session).
    request.context["read_timeout"] = read_timeout


def _veto_late_retry(
    attempts: int, response: Any, caught_exception: Exception | None, **kwargs: Any
) -> bool | None:
    """False (no retry) when the back-off plus another attempt cannot fit the deadline;
    None leaves the decision to botocore's standard retry handler."""
    left = remaining_seconds()
    if left is None:
        return None
    if caught_exception is None and response is not None and response[0].status_code < 400:
        return None  # a success: nothing to retry
    throttled = _throttling.is_throttling_error(
        attempts=attempts, response=response, caught_exception=caught_exception, **kwargs
    )
    scale = _THROTTLING_SCALE_SECONDS if throttled else _OTHER_SCALE_SECONDS
    worst_backoff = min(scale * 2 ** (attempts - 1), _MAX_BACKOFF_SECONDS)
    needed = worst_backoff + settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS + _MIN_ATTEMPT_SECONDS
    return False if left < needed else None


def _install(events: Any) -> None:
    events.register("before-send.dynamodb", _cap_attempt, unique_id="triggers-deadline-send")
    events.register_first(
        "needs-retry.dynamodb", _veto_late_retry, unique_id="triggers-deadline-retry"
    )


def connect() -> None:
    """Install the hooks on every DynamoDB client PynamoDB uses (EventsConfig.ready())."""
    pre_dynamodb_send.connect(on_each_new_client(_install), weak=False)


class DynamoDBDeadlineMiddleware:
    """Starts each request's DynamoDB deadline (DYNAMODB_DEADLINE_SECONDS)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with deadline_after(settings.DYNAMODB_DEADLINE_SECONDS):
            return self.get_response(request)
