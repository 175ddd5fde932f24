"""Health of the service and its dependencies, cached briefly so polling stays cheap."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from events.models import Event
from observability.logging import get_logger

logger = get_logger(__name__)

__all__ = ["health_report"]

_CACHE_KEY = "health:dynamodb"


def _check_dynamodb() -> dict[str, Any]:
    started = time.monotonic()
    try:
        Event.describe_table()
    except Exception as exc:  # any failure means unhealthy; the class name is enough to act on
        logger.warning("health_check_failed", dependency="dynamodb", error=type(exc).__name__)
        return {"status": "unhealthy", "error": type(exc).__name__}
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
