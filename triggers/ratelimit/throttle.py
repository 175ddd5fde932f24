"""The DRF throttle every authenticated request passes, and the headers it earns.

DRF checks throttles after authentication and permissions, so only requests with a
valid key are counted, and before the view reads the body: a request pays its token
before its body is parsed, and pays it even when the body turns out malformed. A batch
then pays for the rest of its events (`ApiView.charge`). The decision becomes
`X-RateLimit-*` headers, which `ApiView.finalize_response` writes on every answer
(`add_response_headers`).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from observability import metrics
from observability.logging import get_logger
from triggers.core.errors import ValidationFailedError
from triggers.core.identity import ApiKeyIdentity
from triggers.http.headers import add_response_headers
from triggers.ratelimit.leases import lease
from triggers.ratelimit.limiter import Decision, Limits, RateLimiter

__all__ = ["ApiKeyRateThrottle", "limiter"]

logger = get_logger(__name__)

_limiter: RateLimiter | None = None


def limiter() -> RateLimiter:
    """This process's limiter (a forked worker starts with none of its parent's state)."""
    global _limiter  # noqa: PLW0603 - one per process, created on first use
    if _limiter is None:
        _limiter = RateLimiter(
            lease=lease,
            window_seconds=settings.RATE_LIMIT_WINDOW_SECONDS,
            leases_per_window=settings.RATE_LIMIT_LEASES_PER_WINDOW,
            max_keys=settings.API_KEY_CACHE_MAX_KEYS,
        )
    return _limiter


def _forget_limiter() -> None:
    global _limiter  # noqa: PLW0603
    _limiter = None


os.register_at_fork(after_in_child=_forget_limiter)


def limits_of(identity: ApiKeyIdentity) -> Limits:
    """The key's own limits, else the settings' defaults."""
    return Limits(
        rate=identity.rate_limit_per_second or settings.RATE_LIMIT_PER_SECOND,
        burst=identity.rate_limit_burst or settings.RATE_LIMIT_BURST,
    )


def _decide(request: Request, identity: ApiKeyIdentity, cost: int) -> Decision:
    """Charge the key `cost` tokens, write the rate-limit headers, log and count a refusal."""
    limits = limits_of(identity)
    decision = limiter().check(identity.key_hash, limits, cost)
    add_response_headers(
        request,
        {
            "X-RateLimit-Limit": str(decision.limit),
            "X-RateLimit-Remaining": str(decision.remaining),
            "X-RateLimit-Reset": str(decision.reset_seconds),
        },
    )
    if not decision.allowed:
        logger.warning(
            "rate_limited",
            cost=cost,
            rate_limit_per_second=limits.rate,
            rate_limit_burst=limits.burst,
            retry_after_seconds=decision.retry_after_seconds,
        )
        metrics.record_rate_limited()
    return decision


class ApiKeyRateThrottle(BaseThrottle):
    """Every request costs one token, charged before its body is read or parsed."""

    def __init__(self) -> None:
        self._retry_after = 0

    def allow_request(self, request: Request, view: Any) -> bool:
        identity = request.user
        if not settings.RATE_LIMIT_ENABLED or not isinstance(identity, ApiKeyIdentity):
            return True
        decision = _decide(request, identity, 1)
        self._retry_after = decision.retry_after_seconds
        return decision.allowed

    def wait(self) -> float:
        return self._retry_after

    def charge(self, request: Request, view: Any, cost: int) -> None:
        """Charge `cost` more (ApiView.charge: a batch's events beyond its request's own
        token). Raises Throttled (429 with Retry-After) when the key cannot pay now, and
        ValidationFailedError when it never could: 1 + `cost` over its burst."""
        identity = request.user
        if not settings.RATE_LIMIT_ENABLED or not isinstance(identity, ApiKeyIdentity):
            return
        burst = limits_of(identity).burst
        if cost + 1 > burst:
            raise ValidationFailedError(
                f"This key may send at most {burst} events at once (its burst); "
                f"this batch has {cost + 1}. Send them in smaller batches.",
                details={"events": [f"More events than this key's burst ({burst})."]},
            )
        if cost > 0:
            decision = _decide(request, identity, cost)
            if not decision.allowed:
                view.throttled(request, decision.retry_after_seconds)
