"""The one error envelope: every exception a request raises becomes

    {"error": {"code", "message", "details", "request_id"}}

so no client ever sees an HTML page or a stack trace. `api_exception_handler` is DRF's
handler; `django_error_response` serves Django's own errors (unknown routes, crashes
outside DRF; `triggers.urls`). What observability wants to know of an answered error
(a 503's cause, a crash's traceback) it learns from the signals in `triggers.core.signals`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from triggers.core import signals
from triggers.core.errors import (
    RETRY_AFTER_SECONDS,
    ErrorCode,
    ServiceUnavailableError,
    TriggersError,
    describe_error,
    error_body,
    unavailable_cause,
)
from triggers.core.jsoncodec import dumps_exact
from triggers.core.request_id import get_request_id

__all__ = ["api_exception_handler", "django_error_response"]


# DRF's exceptions by status (ValidationError and ParseError are both 400, ...).
_DRF_CODES = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
}


def _with_string_keys(detail: Any) -> Any:
    """DRF keys a list's errors by position (an int); JSON object keys are strings."""
    if isinstance(detail, dict):
        return {str(key): _with_string_keys(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_with_string_keys(value) for value in detail]
    return detail


def _describe_drf(exc: drf.APIException) -> tuple[str, str, dict[str, Any]]:
    code = _DRF_CODES.get(exc.status_code, ErrorCode.INTERNAL_ERROR)
    if isinstance(exc, drf.ValidationError):
        detail = _with_string_keys(exc.detail)
        details = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        return code, "The request body failed validation.", details
    return code, str(exc.detail), {}


def _announce_unavailable(exc: ServiceUnavailableError) -> None:
    underlying = exc.__cause__
    error = None if underlying is None else describe_error(underlying)
    signals.service_unavailable.send(sender=ServiceUnavailableError, cause=exc.cause, error=error)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception raised in a view becomes the envelope."""
    request = context.get("request")
    request_id = get_request_id(request) if request is not None else ""
    headers: dict[str, str] = {}

    if isinstance(exc, Http404 | PermissionDenied | drf.PermissionDenied):
        exc = drf.NotFound()  # the API answers 404, never 403, for what a caller may not see
    elif (cause := unavailable_cause(exc)) is not None:
        unavailable = ServiceUnavailableError(cause=cause)
        unavailable.__cause__ = exc
        exc = unavailable

    if isinstance(exc, ServiceUnavailableError):
        _announce_unavailable(exc)

    if isinstance(exc, TriggersError):
        status, code, message, details = exc.status_code, exc.code, exc.message, exc.details
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        code, message, details = _describe_drf(exc)
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait is not None:
            headers["Retry-After"] = str(int(wait))
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Bearer realm="triggers"'
    else:
        # The traceback goes to the log (observability); the client gets only the envelope.
        signals.request_crashed.send(sender=type(exc), exc=exc)
        status, code, message, details = 500, ErrorCode.INTERNAL_ERROR, "Internal error.", {}

    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    body = error_body(code=code, message=message, request_id=request_id, details=details)
    response = Response(body, status=status, headers=headers)
    response.error_code = code  # type: ignore[attr-defined]  # read by the metrics middleware
    return response


def django_error_response(
    request: HttpRequest, *, status: int, code: str, message: str
) -> HttpResponse:
    """Django-level errors (unknown route, crash outside DRF) in the same envelope."""
    body = error_body(code=code, message=message, request_id=get_request_id(request))
    response = HttpResponse(dumps_exact(body), status=status, content_type="application/json")
    response.error_code = code  # type: ignore[attr-defined]  # read by the metrics middleware
    return response
