"""The deadline hooks on real PynamoDB calls: to DynamoDB Local, through the fault proxy.

The HTTP-level tests (test_dynamodb_faults.py) show whole requests answered in time;
these show the two mechanisms on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pynamodb.exceptions import GetError

from devstack.faultproxy import FaultProxy, Mode
from devstack.testing import ManualClock
from triggers.auth.models import ApiKey
from triggers.core.aws import DynamoDBMeta
from triggers.core.deadline import DeadlineExceeded, deadline_after, remaining_seconds
from triggers.core.errors import unavailable_cause

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(tables: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream_port=int(tables.rsplit(":", 1)[1]), delay_seconds=5)
    yield proxy
    proxy.close()


def through(proxy: FaultProxy) -> Any:
    """The api-keys table, reached through the proxy."""

    class ApiKeyThroughProxy(ApiKey):
        class Meta(DynamoDBMeta):
            table_name = ApiKey.Meta.table_name
            host = proxy.url

    ApiKeyThroughProxy._connection = None  # not the parent's, which talks to DynamoDB directly
    return ApiKeyThroughProxy


def test_an_attempt_that_cannot_fit_the_deadline_is_never_sent(proxy: FaultProxy) -> None:
    # GIVEN a DynamoDB that would never answer, and a deadline shorter than a connect timeout
    model = through(proxy)
    proxy.mode = Mode.DROP

    # WHEN a call is made with 1.04 s left (1 s of it reserved for a connect: 0.04 s for
    # the attempt, under the 0.05 s one needs), on a clock that stands still
    with deadline_after(1.04, clock=frozen_clock), pytest.raises(GetError) as raised:
        model.get("nobody")

    # THEN it fails with DeadlineExceeded: a "deadline" 503
    assert isinstance(raised.value.cause, DeadlineExceeded)
    assert unavailable_cause(raised.value) == "deadline"
    # AND nothing was sent
    assert proxy.requests_seen == 0


def test_a_hung_attempt_is_cut_to_what_the_deadline_leaves(proxy: FaultProxy) -> None:
    # GIVEN a DynamoDB that answers after 5 s (longer than the 2 s read timeout)
    model = through(proxy)
    proxy.mode = Mode.DELAY
    clock = ManualClock()
    read_timeouts = read_timeouts_sent(model, clock)

    # WHEN a call is made with 1.6 s left (1 s of it reserved for a connect), on a clock
    # that moves by each attempt's whole read timeout (as a hung DynamoDB makes it)
    with deadline_after(1.6, clock=clock), pytest.raises(GetError) as raised:
        model.get("nobody")

    # THEN its one attempt was given the 0.6 s left instead of the 2 s read timeout, and
    # timed out; no retry was sent (a back-off and a connect cannot fit in 0.6 s)
    assert unavailable_cause(raised.value) == "timeout"
    assert read_timeouts == [pytest.approx(0.6)]
    assert proxy.requests_seen == 1


def frozen_clock() -> float:
    return 1000.0


def read_timeouts_sent(model: Any, clock: ManualClock) -> list[float]:
    """The read timeout each attempt of `model`'s client is sent with (botocore's own
    per-request setting, read after the deadline hook has set it); each attempt moves
    `clock` on by that much, as an attempt that times out takes it."""
    seen: list[float] = []
    client = model._get_connection().connection.client

    def record(request: Any, **_: Any) -> None:
        seen.append(request.context["read_timeout"])
        clock.now += request.context["read_timeout"]

    client.meta.events.register_last("before-send.dynamodb", record)
    return seen


def test_deadlines_nest_to_the_sooner_one() -> None:
    assert remaining_seconds() is None
    with deadline_after(10):
        with deadline_after(60):
            left = remaining_seconds()
            assert left is not None
            assert left <= 10
        with deadline_after(1):
            left = remaining_seconds()
            assert left is not None
            assert left <= 1
    assert remaining_seconds() is None


def test_outside_a_deadline_calls_are_unaffected(proxy: FaultProxy) -> None:
    assert through(proxy).count("nobody") == 0
