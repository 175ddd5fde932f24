"""The project's exceptions and the one error envelope every failure is rendered in.

Services and selectors raise the domain errors below; `api_exception_handler`
(DRF) and the Django-level handlers in `triggers.urls` turn any exception into

    {"error": {"code", "message", "details", "request_id"}}

so no client ever sees an HTML page or a stack trace.
"""

from __future__ import annotations

from typing import Any, Final

from botocore.exceptions import ClientError, ConnectTimeoutError, HTTPClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from pynamodb.exceptions import PynamoDBException
from rest_framework import exceptions as drf
from rest_framework.response import Response

from observability import metrics
from observability.logging import get_logger
from observability.request_id import get_request_id
from triggers.deadline import DeadlineExceeded
from triggers.jsoncodec import dumps_exact

logger = get_logger(__name__)

__all__ = [
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServiceUnavailableError",
    "TriggersError",
    "UnavailableCause",
    "ValidationFailedError",
    "api_exception_handler",
    "describe_error",
    "django_error_response",
    "dynamodb_error_code",
    "error_body",
    "unavailable_cause",
]


# Seconds a client is asked to wait when DynamoDB throttles or cannot be reached.
RETRY_AFTER_SECONDS: Final = 1


class ErrorCode:
    """The `error.code` of every error response (docs/API.md)."""

    VALIDATION_ERROR: Final = "VALIDATION_ERROR"
    UNAUTHORIZED: Final = "UNAUTHORIZED"
    NOT_FOUND: Final = "NOT_FOUND"
    METHOD_NOT_ALLOWED: Final = "METHOD_NOT_ALLOWED"
    CONFLICT: Final = "CONFLICT"
    PAYLOAD_TOO_LARGE: Final = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE: Final = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED: Final = "RATE_LIMITED"
    INTERNAL_ERROR: Final = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE: Final = "SERVICE_UNAVAILABLE"


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
    """503 with Retry-After: DynamoDB could not serve the request in time; `cause` says why
    (one of `UnavailableCause`), for logs and metrics."""

    status_code = 503
    code = ErrorCode.SERVICE_UNAVAILABLE
    default_message = "The service is temporarily unavailable; retry shortly."

    def __init__(self, message: str | None = None, *, cause: str):
        super().__init__(message)
        self.cause = cause


class UnavailableCause:
    """Why a request was answered 503: the `Cause` of the ServiceUnavailable metric."""

    DEADLINE: Final = "deadline"  # the request's DynamoDB deadline was spent
    TIMEOUT: Final = "timeout"  # DynamoDB did not answer (connect or read timeout)
    CONNECTION: Final = "connection"  # refused, reset or closed connections
    THROTTLED: Final = "throttled"  # DynamoDB throttled, after botocore's retries
    SERVER_ERROR: Final = "server_error"  # DynamoDB answered 5xx, after retries
    CONFLICT: Final = "conflict"  # concurrent transactions on one idempotency key
    SCAN_BUSY: Final = "scan_busy"  # lookup fallback: too many Scans in this process
    SCAN_BUDGET: Final = "scan_budget"  # lookup fallback: the Scan's read budget ran out


# DynamoDB error codes that mean "not now" rather than "wrong request".
_THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
    }
)
_SERVER_ERROR_CODES = frozenset({"InternalServerError", "InternalFailure", "ServiceUnavailable"})


def _underlying(exc: BaseException) -> BaseException:
    return exc.cause if isinstance(exc, PynamoDBException) and exc.cause is not None else exc


def dynamodb_error_code(exc: BaseException) -> str | None:
    """DynamoDB's error code behind an exception (`ConditionalCheckFailedException`, ...);
    None when DynamoDB gave no answer. (PynamoDB's `cause_response_code` raises
    AttributeError for timeouts, whose `response` is None.)"""
    cause = _underlying(exc)
    if isinstance(cause, ClientError):
        code = cause.response.get("Error", {}).get("Code")
        return None if code is None else str(code)
    return None


def describe_error(exc: BaseException) -> str:
    """For logs: DynamoDB's error code, else the class of what went wrong underneath."""
    return dynamodb_error_code(exc) or type(_underlying(exc)).__name__


def unavailable_cause(exc: BaseException) -> str | None:
    """Why DynamoDB could not serve a call, when the client should simply retry later;
    None for any other failure (a bug or a misconfiguration: a 500)."""
    cause = _underlying(exc)
    if isinstance(cause, DeadlineExceeded):
        return UnavailableCause.DEADLINE
    if isinstance(cause, ConnectTimeoutError | ReadTimeoutError):
        return UnavailableCause.TIMEOUT
    if isinstance(cause, BotoConnectionError | HTTPClientError):
        return UnavailableCause.CONNECTION
    code = dynamodb_error_code(cause)
    if code in _THROTTLING_CODES:
        return UnavailableCause.THROTTLED
    if code in _SERVER_ERROR_CODES:
        return UnavailableCause.SERVER_ERROR
    return None


# DRF's exceptions by status (ValidationError and ParseError are both 400, ...).
_DRF_CODES = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
}


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


def _record_unavailable(exc: ServiceUnavailableError) -> None:
    underlying = exc.__cause__
    error = None if underlying is None else describe_error(underlying)
    logger.warning("service_unavailable", cause=exc.cause, error=error)
    metrics.record_unavailable(exc.cause)


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
        _record_unavailable(exc)

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
