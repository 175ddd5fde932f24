"""What observability hears: the fields django-structlog's request lines carry beyond its
own, and the errors the HTTP layer announces (`triggers.core.signals`), logged and
counted here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_structlog import signals

from observability import dynamodb, metrics
from observability.logging import get_logger
from observability.middleware import duration_ms
from observability.routes import endpoint_of
from triggers.core import signals as core_signals

logger = get_logger(__name__)


def _common(request: HttpRequest, log_kwargs: dict[str, Any]) -> None:
    # `request` would be "METHOD /path?query": the method and endpoint are already bound,
    # and a query string is no place to copy into logs.
    log_kwargs.pop("request", None)
    log_kwargs["path"] = request.path


def _on_started(request: HttpRequest, log_kwargs: dict[str, Any], **_: Any) -> None:
    _common(request, log_kwargs)


def _on_finished(request: HttpRequest, log_kwargs: dict[str, Any], **_: Any) -> None:
    _common(request, log_kwargs)
    status_code = log_kwargs.pop("code")
    log_kwargs["status_code"] = status_code
    log_kwargs["status_class"] = f"{status_code // 100}xx"  # for Logs Insights' strcontains()
    log_kwargs["endpoint"] = endpoint_of(request)
    log_kwargs["duration_ms"] = duration_ms(request)
    stats = dynamodb.request_stats()
    if stats is not None:
        log_kwargs["dynamodb_calls"] = stats.calls
        log_kwargs["dynamodb_ms"] = round(stats.total_ms, 3)
        if stats.capacity_units is not None:
            log_kwargs["dynamodb_capacity_units"] = round(stats.capacity_units, 3)


def _on_service_unavailable(cause: str, error: str | None, **_: Any) -> None:
    logger.warning("service_unavailable", cause=cause, error=error)
    metrics.record_unavailable(cause)


def _on_request_crashed(exc: BaseException, **_: Any) -> None:
    # The traceback goes to the log as fields; the client gets only the envelope.
    logger.error("request_failed", status_code=500, exc_info=exc)


def connect() -> None:
    core_signals.service_unavailable.connect(_on_service_unavailable, weak=False)
    core_signals.request_crashed.connect(_on_request_crashed, weak=False)
    signals.bind_extra_request_metadata.connect(_on_started, weak=False)
    signals.bind_extra_request_finished_metadata.connect(_on_finished, weak=False)
    signals.bind_extra_request_failed_metadata.connect(_on_finished, weak=False)
