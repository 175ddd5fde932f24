"""Request bodies: at most LARGE_BODIES_PER_WORKER large ones parsed at once per process,
and none left unread when the answer goes out.

Parsing JSON costs up to ~25 times a body's size in memory (docs/SECURITY.md "Memory");
a body over MAX_EVENT_BYTES (only a batch may be that large) is let in only while this
process has room for it, and otherwise answered 503 with `Retry-After` without being
parsed. A body of unknown length (chunked) counts as large. Other requests pass
untouched, so small writes and reads never wait behind a large one.

A request answered before its body was read (a 401, a 429, that 503, a 413 that read
only up to the limit) has the rest of it read and discarded, in small chunks, before
the answer is sent: a server that closes a connection with unread data on it resets
it, and the proxy in front (nginx) may then lose the answer and report a 502.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from triggers.core import signals
from triggers.core.errors import (
    RETRY_AFTER_SECONDS,
    ErrorCode,
    ServiceUnavailableError,
    UnavailableCause,
)
from triggers.http.exceptions import django_error_response

__all__ = ["LargeBodyGateMiddleware", "is_large_body"]

_DRAIN_CHUNK_BYTES = 64 * 1024


@functools.cache
def _slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(settings.LARGE_BODIES_PER_WORKER)


def is_large_body(request: HttpRequest) -> bool:
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return True
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return True  # Django's own handling answers it; here it is simply not small
    return length > settings.MAX_EVENT_BYTES


class LargeBodyGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self._answer(request)
        _drain(request)
        return response

    def _answer(self, request: HttpRequest) -> HttpResponseBase:
        if not is_large_body(request):
            return self.get_response(request)
        if not _slots().acquire(blocking=False):
            signals.service_unavailable.send(
                sender=ServiceUnavailableError, cause=UnavailableCause.LARGE_BODIES, error=None
            )
            response = django_error_response(
                request,
                status=503,
                code=ErrorCode.SERVICE_UNAVAILABLE,
                message="This instance is reading other large bodies; retry shortly.",
            )
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        try:
            return self.get_response(request)
        finally:
            _slots().release()


def _drain(request: HttpRequest) -> None:
    """Read and discard what is left of the body (at most MAX_BATCH_BYTES more: the
    proxy in front refuses larger bodies itself)."""
    budget = settings.MAX_BATCH_BYTES + _DRAIN_CHUNK_BYTES
    try:
        while budget > 0 and (chunk := request.read(_DRAIN_CHUNK_BYTES)):
            budget -= len(chunk)
    except (OSError, ValueError):
        return  # the client went away, or the body was consumed another way
