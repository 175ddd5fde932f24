"""Leases from the shared counter in DynamoDB Local, and the limiter when it cannot be
reached (through the loopback fault proxy)."""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pynamodb.exceptions import UpdateError

from devstack.faultproxy import FaultProxy, Mode
from devstack.testing import ManualClock
from triggers.core.aws import DynamoDBMeta
from triggers.core.errors import unavailable_cause
from triggers.ratelimit.leases import lease
from triggers.ratelimit.limiter import Limits, RateLimiter
from triggers.ratelimit.models import RateLimitWindow, window_key

pytestmark = pytest.mark.integration


def test_concurrent_leases_never_grant_more_than_the_allowance(tables: str) -> None:
    key = uuid.uuid4().hex
    window = int(time.time())

    def take(_: int) -> int:
        granted = lease(
            key_hash=key, window_start=window, window_seconds=10, tokens=7, allowance=100
        )
        return 7 if granted else 0

    with ThreadPoolExecutor(max_workers=8) as pool:
        total = sum(pool.map(take, range(40)))

    assert total == 98  # 14 leases of 7 fit in 100; the 15th would not
    stored = RateLimitWindow.get(window_key(key, window), consistent_read=True)
    assert stored.granted == 98
    assert stored.expires_at.timestamp() > window + 10  # removed by TTL once the window is over
    assert lease(key_hash=key, window_start=window, window_seconds=10, tokens=2, allowance=100)
    assert not lease(key_hash=key, window_start=window, window_seconds=10, tokens=1, allowance=100)


@pytest.fixture
def proxy(tables: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream_port=int(tables.rsplit(":", 1)[1]), delay_seconds=5)
    yield proxy
    proxy.close()


def through(proxy: FaultProxy, *, table: str = RateLimitWindow.Meta.table_name) -> Any:
    class RateLimitWindowThroughProxy(RateLimitWindow):
        class Meta(DynamoDBMeta):
            table_name = table
            host = proxy.url

    RateLimitWindowThroughProxy._connection = None  # not the parent's
    return RateLimitWindowThroughProxy


def limiter_on(model: Any, clock: ManualClock | None = None) -> RateLimiter:
    # A window's first second by default: nothing in a test crosses into the next one.
    clock = clock or ManualClock(float(int(time.time() // 10) * 10 + 0.5))
    return RateLimiter(
        lease=functools.partial(lease, model=model),
        window_seconds=10,
        leases_per_window=20,
        max_keys=10,
        clock=clock,
        monotonic=clock,
    )


def test_an_unreachable_counter_is_a_503_then_each_worker_its_own_bucket(
    proxy: FaultProxy,
) -> None:
    # GIVEN the counter's table behind a proxy that resets every connection
    model = through(proxy)
    clock = ManualClock(float(int(time.time() // 10) * 10 + 0.5))
    limiter = limiter_on(model, clock)
    limits, key = Limits(rate=0.01, burst=3), uuid.uuid4().hex
    proxy.mode = Mode.RESET

    # WHEN a request needs a lease, THEN it fails as unavailable (the request is a 503)
    with pytest.raises(UpdateError) as raised:
        limiter.check(key, limits)
    assert unavailable_cause(raised.value) == "connection"

    # AND for the next second the bucket alone decides, without asking DynamoDB
    answers = [limiter.check(key, limits).allowed for _ in range(4)]
    assert answers == [True, True, False, False]  # the failed request's token was spent

    # AND once the counter answers again, leases are taken from it once more
    proxy.mode = Mode.PASS
    clock.now += 1.1  # past the fail-open period, still in the same window
    window = int(clock.now // 10) * 10
    assert limiter.check(key, Limits(rate=0.01, burst=2)).allowed  # new limits: a new bucket
    assert RateLimitWindow.get(window_key(key, window), consistent_read=True).granted == 1


def test_a_missing_counter_table_admits_and_logs_an_error(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    limiter = limiter_on(through(proxy, table="triggers-test-no-such-table"))
    limits = Limits(rate=0.01, burst=2)

    answers = [limiter.check("key", limits).allowed for _ in range(3)]

    assert answers == [True, True, False]  # the bucket still holds
    (logged,) = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if '"rate_limit_lease_failed"' in line
    ]
    assert (logged["level"], logged["error"]) == ("error", "ResourceNotFoundException")
