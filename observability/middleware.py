"""Request middleware: the request id, the clock and the log context of every request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from observability import dynamodb, metrics
from observability.constants import WORKER_TIMEOUT_ERROR_TYPE
from observability.logging import get_logger
from observability.routes import endpoint_of
from triggers.core.request_id import REQUEST_ID_HEADER, resolve_request_id

_META_KEY = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")

logger = get_logger(__name__)

# The requests this process is serving now, for when gunicorn kills it mid-request.
_in_flight: dict[int, HttpRequest] = {}


class RequestContextMiddleware:
    """Outermost middleware.

    - binds `request.request_id` (the caller's valid `X-Request-ID`, else a UUID4),
      writes it back into `request.META` so nothing downstream sees an unsafe value,
      and returns it in the `X-Request-ID` response header;
    - starts the monotonic clock (`request.started_at`) that `duration_ms` is measured on,
      for the log line and for the request metrics it records (every status, 4xx/5xx too);
    - binds `method`, `ip` and, once the URL is resolved, `endpoint` (the route template)
      into the structlog context, and clears that context on every way out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        structlog.contextvars.clear_contextvars()
        dynamodb.reset_request_stats()
        request.started_at = time.monotonic()  # type: ignore[attr-defined]
        request_id = resolve_request_id(request.META.get(_META_KEY))
        request.META[_META_KEY] = request_id
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.bind_contextvars(method=request.method, ip=client_ip(request))
        _in_flight[id(request)] = request
        try:
            response = self.get_response(request)
        finally:
            _in_flight.pop(id(request), None)
            structlog.contextvars.clear_contextvars()
        response[REQUEST_ID_HEADER] = request_id
        metrics.record_request(
            metrics.RequestOutcome(
                endpoint=endpoint_of(request),
                method=request.method or "",
                status_code=response.status_code,
                duration_ms=duration_ms(request),
                error_type=getattr(response, "error_code", None),
            )
        )
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        structlog.contextvars.bind_contextvars(endpoint=endpoint_of(request))


def client_ip(request: HttpRequest) -> str:
    """The caller's address: the rightmost X-Forwarded-For hop no trusted proxy could
    have been fooled into adding.

    Each of the TRUSTED_PROXY_COUNT proxies in front of the service (on Elastic Beanstalk:
    the load balancer, then nginx) appends the address of whoever connected to it; the
    hops further left were written by the client and prove nothing. So the client is the
    TRUSTED_PROXY_COUNT-th hop from the right; with no trusted proxies, or fewer hops
    than proxies (a request that did not come through them), the socket's peer.
    """
    peer = str(request.META.get("REMOTE_ADDR", ""))
    trusted: int = settings.TRUSTED_PROXY_COUNT
    if not trusted:
        return peer
    forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < trusted:
        return peer
    return hops[-trusted][:64]


def duration_ms(request: HttpRequest) -> float:
    """Milliseconds since RequestContextMiddleware saw the request."""
    started: float = getattr(request, "started_at", time.monotonic())
    return round((time.monotonic() - started) * 1000, 3)


def record_abandoned_requests() -> int:
    """gunicorn's `worker_abort` hook: the master is killing this worker (it stopped
    answering within GUNICORN_TIMEOUT), so every request it is serving dies unanswered
    (the client sees a 502 from the load balancer). Log and count each one as such.
    Returns how many there were."""
    abandoned = list(_in_flight.values())
    for request in abandoned:
        endpoint = endpoint_of(request)
        method = request.method or ""
        elapsed = duration_ms(request)
        logger.error(
            "request_abandoned",
            request_id=getattr(request, "request_id", ""),
            endpoint=endpoint,
            method=method,
            duration_ms=elapsed,
            reason="worker_timeout",
        )
        metrics.record_request(
            metrics.RequestOutcome(
                endpoint=endpoint,
                method=method,
                status_code=502,
                duration_ms=elapsed,
                error_type=WORKER_TIMEOUT_ERROR_TYPE,
            )
        )
    return len(abandoned)
