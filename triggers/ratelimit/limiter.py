"""The per-key limit one worker enforces: its own token bucket, spent from shared leases.

A request costing `n` (1, or the number of events in a batch) is admitted when

1. the worker's bucket for the key holds `n` tokens (`burst` at most, refilled at
   `rate` a second): this smooths bursts and is exact within one worker; and
2. the worker holds `n` tokens leased for the current window from the key's shared
   counter in DynamoDB (`leases`). A worker leases `allowance / leases_per_window`
   tokens at a time, so a key at its full rate costs `leases_per_window` DynamoDB
   writes per window per worker, whatever its request rate.

Accuracy (docs/ARCHITECTURE.md): across every worker and instance a key is never
admitted more than `allowance = max(rate x window, burst)` requests in one window; it
can be refused early by up to the leases other workers hold unused (at most one lease
each). Each worker's bucket holds `burst`, so a key spread over several workers can
burst more than `burst` at once, within the window's allowance. Refusals cost no
DynamoDB call: a bucket that is short refuses locally, and a window found short of
what a request needs is remembered until it ends. When the counter cannot be reached
the worker admits on its bucket alone for `_FAIL_OPEN_SECONDS` before asking again: the
request that found DynamoDB unavailable is a 503 (as its own call would have been), one
that found the counter misconfigured (no table, no permission) is admitted and logged
as an error. Rate limiting never takes the service down on its own.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from observability.logging import get_logger
from triggers.core.errors import describe_error, unavailable_cause
from triggers.ratelimit.bucket import TokenBucket

__all__ = ["Decision", "Lease", "Limits", "RateLimiter"]

logger = get_logger(__name__)

# After a failed lease, how long a worker admits on its bucket alone before asking again.
_FAIL_OPEN_SECONDS = 1.0

Lease = Callable[..., bool]  # triggers.ratelimit.leases.lease's signature


@dataclass(frozen=True, slots=True)
class Limits:
    rate: float  # requests per second
    burst: int  # requests at once


@dataclass(frozen=True, slots=True)
class Decision:
    """One request's answer, and what the X-RateLimit-* headers say."""

    allowed: bool
    limit: int  # the burst: requests that may be sent at once
    remaining: int  # tokens left in this worker's bucket
    reset_seconds: int  # until the bucket is full again
    retry_after_seconds: int  # 0 when allowed


@dataclass
class _KeyState:
    limits: Limits
    bucket: TokenBucket
    lock: threading.Lock = field(default_factory=threading.Lock)
    window_start: int = -1
    leased: int = 0  # tokens leased for window_start and not yet spent
    # The shared counter of window_start had fewer than this many tokens left (a lease
    # of this size was refused); a request needing as many is refused without asking.
    short_of: int | None = None
    fail_open_until: float = 0.0  # monotonic


class RateLimiter:
    def __init__(
        self,
        *,
        lease: Lease,
        window_seconds: int,
        leases_per_window: int,
        max_keys: int,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._lease = lease
        self._window_seconds = window_seconds
        self._leases_per_window = leases_per_window
        self._max_keys = max_keys
        self._clock = clock
        self._monotonic = monotonic
        self._states: dict[str, _KeyState] = {}
        self._states_lock = threading.Lock()

    def allowance(self, limits: Limits) -> int:
        """Requests a key may make in one window, all workers together."""
        return max(math.ceil(limits.rate * self._window_seconds), limits.burst)

    def check(self, key_hash: str, limits: Limits, cost: int = 1) -> Decision:
        cost = max(1, min(cost, limits.burst))  # callers refuse more than the burst
        state = self._state(key_hash, limits)
        with state.lock:
            now = self._monotonic()
            bucket = state.bucket
            if not bucket.take(cost, now):
                return self._decision(state, retry_after=bucket.seconds_until(cost))
            if not self._spend_lease(state, key_hash, cost):
                bucket.give_back(cost)
                window_end = state.window_start + self._window_seconds
                return self._decision(state, retry_after=window_end - self._clock())
            return self._decision(state, retry_after=None)

    def _decision(self, state: _KeyState, *, retry_after: float | None) -> Decision:
        bucket = state.bucket
        return Decision(
            allowed=retry_after is None,
            limit=state.limits.burst,
            remaining=bucket.remaining,
            reset_seconds=math.ceil(bucket.seconds_to_full),
            retry_after_seconds=0 if retry_after is None else max(1, math.ceil(retry_after)),
        )

    def _state(self, key_hash: str, limits: Limits) -> _KeyState:
        state = self._states.get(key_hash)
        if state is not None and state.limits == limits:
            return state
        with self._states_lock:
            state = self._states.get(key_hash)
            if state is None or state.limits != limits:  # new, or its limits were changed
                if len(self._states) >= self._max_keys:
                    for stale in list(self._states)[: self._max_keys // 3 + 1]:
                        del self._states[stale]
                bucket = TokenBucket.full(
                    rate=limits.rate, burst=limits.burst, now=self._monotonic()
                )
                state = self._states[key_hash] = _KeyState(limits=limits, bucket=bucket)
            return state

    def _spend_lease(self, state: _KeyState, key_hash: str, cost: int) -> bool:
        """Spend `cost` leased tokens of the current window, leasing more if need be."""
        window_start = int(self._clock() // self._window_seconds) * self._window_seconds
        if window_start != state.window_start:
            state.window_start, state.leased, state.short_of = window_start, 0, None
        if state.leased < cost:
            need = cost - state.leased
            if state.short_of is not None and need >= state.short_of:
                return False
            if self._monotonic() < state.fail_open_until:
                return True
            allowance = self.allowance(state.limits)
            chunk = max(need, math.ceil(allowance / self._leases_per_window))
            for tokens in dict.fromkeys((chunk, need)):  # a whole lease, else just enough
                try:
                    granted = self._lease(
                        key_hash=key_hash,
                        window_start=window_start,
                        window_seconds=self._window_seconds,
                        tokens=tokens,
                        allowance=allowance,
                    )
                except Exception as exc:
                    state.fail_open_until = self._monotonic() + _FAIL_OPEN_SECONDS
                    if unavailable_cause(exc) is not None:
                        raise  # DynamoDB is down: this request is a 503 like its own call
                    # a misconfiguration (no table, no permission) must not stop the service
                    logger.error("rate_limit_lease_failed", error=describe_error(exc))
                    return True
                if granted:
                    state.leased += tokens
                    break
            else:
                state.short_of = need
                return False
        state.leased -= cost
        return True
