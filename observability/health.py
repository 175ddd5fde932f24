"""Health of the service: a shallow liveness answer and a deep DynamoDB check.

- Liveness (`GET /v1/health/live`): the process is up and serving; no DynamoDB call.
  What a load balancer should ask: a DynamoDB blip must not take every instance out of
  service at once (there is nothing another instance could do better).
- Health (`GET /v1/health`): one cheap data-plane read per table (a COUNT Query of an
  empty partition), cached for HEALTH_CACHE_SECONDS per process. What monitoring and
  deploy checks should ask. No DescribeTable: control-plane calls have low rate limits.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from observability.logging import get_logger
from triggers.core.errors import describe_error
from triggers.core.tables import registered_tables

logger = get_logger(__name__)

__all__ = ["health_report", "liveness_report"]

_CACHE_KEY = "health:dynamodb"
# A partition key no item has: the probe reads nothing, and costs the minimum.
_PROBE_KEY = "~health-check"


def _check_dynamodb() -> dict[str, Any]:
    started = time.monotonic()
    try:
        for model in registered_tables():
            model.count(_PROBE_KEY, limit=1)
    except Exception as exc:  # any failure means unhealthy; what failed is enough to act on
        error = describe_error(exc)
        logger.warning("health_check_failed", dependency="dynamodb", error=error)
        return {"status": "unhealthy", "error": error}
    return {"status": "healthy", "latency_ms": round((time.monotonic() - started) * 1000, 2)}


def health_report() -> dict[str, Any]:
    """`{status, version, checks}`; the DynamoDB check is reused for HEALTH_CACHE_SECONDS."""
    dynamodb: dict[str, Any] | None = cache.get(_CACHE_KEY)
    if dynamodb is None:
        dynamodb = _check_dynamodb()
        if settings.HEALTH_CACHE_SECONDS:
            cache.set(_CACHE_KEY, dynamodb, timeout=settings.HEALTH_CACHE_SECONDS)
    checks = {"dynamodb": dynamodb}
    healthy = all(check["status"] == "healthy" for check in checks.values())
    logger.debug("health_checked", healthy=healthy, checks=checks)
    return {
        "status": "healthy" if healthy else "unhealthy",
        "version": settings.APP_VERSION,
        "checks": checks,
    }


def liveness_report() -> dict[str, Any]:
    return {"status": "alive", "version": settings.APP_VERSION}
