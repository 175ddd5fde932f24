"""The limiter's accounting, on a clock the tests move and an in-memory shared counter
that grants leases by the same rule as DynamoDB's conditional update (`leases.py`; the
real one is tested against DynamoDB Local in test_leases.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from triggers.ratelimit.bucket import TokenBucket
from triggers.ratelimit.limiter import Limits, RateLimiter

WINDOW = 10


@dataclass
class Clock:
    now: float = 1_000_000.0  # a window start

    def __call__(self) -> float:
        return self.now


@dataclass
class Counter:
    """Per (key, window): tokens granted; a lease is granted whole or not at all."""

    granted: dict[tuple[str, int], int] = field(default_factory=dict)
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def lease(
        self, *, key_hash: str, window_start: int, window_seconds: int, tokens: int, allowance: int
    ) -> bool:
        with self.lock:
            self.calls += 1
            used = self.granted.get((key_hash, window_start), 0)
            if used + tokens > allowance:
                return False
            self.granted[(key_hash, window_start)] = used + tokens
            return True


def limiter(counter: Counter, clock: Clock, *, leases_per_window: int = 20) -> RateLimiter:
    return RateLimiter(
        lease=counter.lease,
        window_seconds=WINDOW,
        leases_per_window=leases_per_window,
        max_keys=100,
        clock=clock,
        monotonic=clock,
    )


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket.full(rate=2, burst=4, now=0)
    assert [bucket.take(1, now=0) for _ in range(5)] == [True] * 4 + [False]
    assert bucket.seconds_until(1) == 0.5
    assert bucket.take(1, now=0.5)
    bucket.refill(now=100)
    assert bucket.remaining == 4


def test_a_burst_then_the_rate() -> None:
    clock, counter = Clock(), Counter()
    limits = Limits(rate=10, burst=5)
    rl = limiter(counter, clock)

    answers = [rl.check("k", limits).allowed for _ in range(7)]
    assert answers == [True] * 5 + [False] * 2

    refused = rl.check("k", limits)
    assert (refused.remaining, refused.retry_after_seconds, refused.limit) == (0, 1, 5)
    clock.now += 0.11  # one token back
    allowed = rl.check("k", limits)
    assert allowed.allowed
    assert allowed.retry_after_seconds == 0
    assert allowed.reset_seconds == 1  # 5 tokens at 10/s: under a second


def test_refusals_ask_dynamodb_nothing() -> None:
    clock, counter = Clock(), Counter()
    limits = Limits(rate=1, burst=3)
    rl = limiter(counter, clock)
    for _ in range(3):
        rl.check("k", limits)
    calls = counter.calls
    for _ in range(50):
        assert not rl.check("k", limits).allowed
    assert counter.calls == calls


def test_a_lease_serves_many_requests() -> None:
    clock, counter = Clock(), Counter()
    limits = Limits(rate=100, burst=200)  # allowance 1000 per window, leased 50 at a time
    rl = limiter(counter, clock)
    for _ in range(100):
        assert rl.check("k", limits).allowed
    assert counter.calls == 2


def test_workers_together_never_exceed_the_window_allowance() -> None:
    clock, counter = Clock(), Counter()
    limits = Limits(rate=2, burst=15)  # allowance max(2 x 10, 15) = 20 per window
    workers = [limiter(counter, clock) for _ in range(4)]  # 4 buckets of 15: 60 at once
    admitted = sum(w.check("k", limits).allowed for _ in range(20) for w in workers)
    assert admitted == 20

    refused = workers[0].check("k", limits)
    assert not refused.allowed
    assert refused.retry_after_seconds == WINDOW  # until the window ends

    clock.now += WINDOW  # a new window: a new allowance
    assert workers[0].check("k", limits).allowed


def test_a_batch_costs_its_events_and_a_short_window_still_serves_smaller_requests() -> None:
    clock, counter = Clock(), Counter()
    limits = Limits(rate=0.1, burst=30)  # allowance 30
    first, second = limiter(counter, clock), limiter(counter, clock)
    assert first.check("k", limits, cost=25).allowed
    assert not second.check("k", limits, cost=10).allowed  # only 5 left in the window
    assert second.check("k", limits, cost=5).allowed
    assert not second.check("k", limits, cost=1).allowed


def test_a_request_costing_more_than_the_burst_costs_the_burst() -> None:
    clock, counter = Clock(), Counter()
    rl = limiter(counter, clock)
    assert rl.check("k", Limits(rate=1, burst=10), cost=25).allowed


def test_keys_do_not_share_a_limit() -> None:
    clock, counter = Clock(), Counter()
    limits = Limits(rate=1, burst=1)
    rl = limiter(counter, clock)
    assert rl.check("a", limits).allowed
    assert not rl.check("a", limits).allowed
    assert rl.check("b", limits).allowed


def test_new_limits_for_a_key_take_effect() -> None:
    clock, counter = Clock(), Counter()
    rl = limiter(counter, clock)
    assert rl.check("k", Limits(rate=1, burst=1)).allowed
    assert not rl.check("k", Limits(rate=1, burst=1)).allowed
    assert rl.check("k", Limits(rate=100, burst=100)).allowed


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(min_value=0.1, max_value=50),
    burst=st.integers(min_value=1, max_value=60),
    workers=st.integers(min_value=1, max_value=5),
    leases_per_window=st.integers(min_value=1, max_value=30),
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=4),  # which worker
            st.integers(min_value=1, max_value=25),  # cost
            st.floats(min_value=0, max_value=1.5),  # seconds before it
        ),
        max_size=200,
    ),
)
def test_no_window_ever_admits_more_than_its_allowance(
    rate: float,
    burst: int,
    workers: int,
    leases_per_window: int,
    steps: list[tuple[int, int, float]],
) -> None:
    clock, counter = Clock(), Counter()
    limits = Limits(rate=rate, burst=burst)
    pool = [limiter(counter, clock, leases_per_window=leases_per_window) for _ in range(workers)]
    allowance = pool[0].allowance(limits)
    admitted: dict[int, int] = {}
    for worker, cost, pause in steps:
        clock.now += pause
        if pool[worker % workers].check("k", limits, cost).allowed:
            window = int(clock.now // WINDOW)
            admitted[window] = admitted.get(window, 0) + min(cost, burst)
    assert all(total <= allowance for total in admitted.values())
    assert all(used <= allowance for used in counter.granted.values())
