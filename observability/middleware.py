"""Request middleware: the request id every response and log line carries."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from observability.request_id import resolve_request_id
from triggers.constants import REQUEST_ID_HEADER

_META_KEY = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")


class RequestIdMiddleware:
    """Binds `request.request_id` and echoes it in the `X-Request-ID` response header.

    An unsafe caller value is replaced in `request.META` as well, so nothing
    downstream (loggers included) ever sees it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = resolve_request_id(request.META.get(_META_KEY))
        request.META[_META_KEY] = request_id
        request.request_id = request_id  # type: ignore[attr-defined]
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response
