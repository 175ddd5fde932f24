"""The DRF throttle every authenticated request passes, and the headers it earns.

DRF checks throttles after authentication and permissions, so only requests with a
valid key are counted; a view may say what a request costs (`rate_limit_cost`, the
batch endpoint's number of events). The decision becomes `X-RateLimit-*` headers,
which `ApiView.finalize_response` writes on every answer (`add_response_headers`).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from observability import metrics
from observability.logging import get_logger
from triggers.core.identity import ApiKeyIdentity
from triggers.http.headers import add_response_headers
from triggers.ratelimit.leases import lease
from triggers.ratelimit.limiter import Limits, RateLimiter

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


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._retry_after = 0

    def allow_request(self, request: Request, view: Any) -> bool:
        identity = request.user
        if not settings.RATE_LIMIT_ENABLED or not isinstance(identity, ApiKeyIdentity):
            return True
        cost_of = getattr(view, "rate_limit_cost", None)
        cost = cost_of(request) if cost_of is not None else 1
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
            self._retry_after = decision.retry_after_seconds
            logger.warning(
                "rate_limited",
                cost=cost,
                rate_limit_per_second=limits.rate,
                rate_limit_burst=limits.burst,
                retry_after_seconds=decision.retry_after_seconds,
            )
            metrics.record_rate_limited()
        return decision.allowed

    def wait(self) -> float:
        return self._retry_after
