"""The project's exceptions and the one error envelope every failure is rendered in.

Services and selectors raise the domain errors below; `api_exception_handler`
(DRF) and the Django-level handlers in `triggers.urls` turn any exception into

    {"error": {"code", "message", "details", "request_id"}}

so no client ever sees an HTML page or a stack trace.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from pynamodb.exceptions import PynamoDBException
from rest_framework import exceptions as drf
from rest_framework.response import Response

from observability.logging import get_logger
from observability.request_id import get_request_id
from triggers.constants import RETRY_AFTER_SECONDS, ErrorCode
from triggers.jsoncodec import dumps_exact

logger = get_logger(__name__)

__all__ = [
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServiceUnavailableError",
    "TriggersError",
    "ValidationFailedError",
    "api_exception_handler",
    "django_error_response",
    "error_body",
    "is_transient_storage_error",
]


class TriggersError(Exception):
    status_code = 500
    code = ErrorCode.INTERNAL_ERROR
    default_message = "An internal error occurred."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class ValidationFailedError(TriggersError):
    status_code = 400
    code = ErrorCode.VALIDATION_ERROR
    default_message = "The request is invalid."


class NotFoundError(TriggersError):
    status_code = 404
    code = ErrorCode.NOT_FOUND
    default_message = "Not found."


class ConflictError(TriggersError):
    status_code = 409
    code = ErrorCode.CONFLICT
    default_message = "The request conflicts with the current state."


class PayloadTooLargeError(TriggersError):
    status_code = 413
    code = ErrorCode.PAYLOAD_TOO_LARGE
    default_message = "The request body is too large."


class ServiceUnavailableError(TriggersError):
    status_code = 503
    code = ErrorCode.SERVICE_UNAVAILABLE
    default_message = "The service is temporarily unavailable; retry shortly."


_TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
_TRANSIENT_CAUSES = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)


def is_transient_storage_error(exc: PynamoDBException) -> bool:
    """True when DynamoDB throttled or could not be reached: the client should retry."""
    if exc.cause_response_code in _TRANSIENT_ERROR_CODES:
        return True
    return isinstance(exc.cause, _TRANSIENT_CAUSES)


_DRF_CODES: list[tuple[type[drf.APIException], str]] = [
    (drf.ValidationError, ErrorCode.VALIDATION_ERROR),
    (drf.ParseError, ErrorCode.VALIDATION_ERROR),
    (drf.NotAuthenticated, ErrorCode.UNAUTHORIZED),
    (drf.AuthenticationFailed, ErrorCode.UNAUTHORIZED),
    (drf.PermissionDenied, ErrorCode.FORBIDDEN),
    (drf.NotFound, ErrorCode.NOT_FOUND),
    (drf.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (drf.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
    (drf.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (drf.Throttled, ErrorCode.RATE_LIMITED),
]


def error_body(
    *, code: str, message: str, request_id: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": request_id,
        }
    }


def _describe_drf(exc: drf.APIException) -> tuple[str, str, dict[str, Any]]:
    code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), ErrorCode.INTERNAL_ERROR)
    if isinstance(exc, drf.ValidationError):
        detail = exc.detail
        details = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        return code, "The request body failed validation.", details
    return code, str(exc.detail), {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception raised in a view becomes the envelope."""
    request = context.get("request")
    request_id = get_request_id(request) if request is not None else ""
    headers: dict[str, str] = {}

    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, PynamoDBException) and is_transient_storage_error(exc):
        logger.warning(
            "dynamodb_unavailable",
            error_code=exc.cause_response_code or type(exc.cause).__name__,
        )
        exc = ServiceUnavailableError()

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
        # The traceback goes to the log as fields; the client gets only the envelope.
        logger.error("request_failed", status_code=500, exc_info=exc)
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
