"""The deadline hooks on real PynamoDB calls: to DynamoDB Local, through the fault proxy.

The HTTP-level tests (test_dynamodb_faults.py) show whole requests answered in time;
these show the two mechanisms on their own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pynamodb.exceptions import GetError

from devstack.faultproxy import FaultProxy, Mode
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
    started = time.monotonic()

    # WHEN a call is made, THEN it fails at once with DeadlineExceeded: a "deadline" 503
    with deadline_after(1.04), pytest.raises(GetError) as raised:
        model.get("nobody")
    assert isinstance(raised.value.cause, DeadlineExceeded)
    assert unavailable_cause(raised.value) == "deadline"
    assert time.monotonic() - started < 0.5


def test_a_hung_attempt_is_cut_to_what_the_deadline_leaves(proxy: FaultProxy) -> None:
    # GIVEN a DynamoDB that answers after 5 s (longer than the 2 s read timeout)
    model = through(proxy)
    proxy.mode = Mode.DELAY
    started = time.monotonic()

    # WHEN a call is made with 1.6 s left (1 s of it reserved for a connect)
    with deadline_after(1.6), pytest.raises(GetError) as raised:
        model.get("nobody")

    # THEN its read timed out after about 0.6 s, and no retry was tried past the deadline
    elapsed = time.monotonic() - started
    assert unavailable_cause(raised.value) == "timeout"
    assert 0.5 < elapsed < 1.6


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
