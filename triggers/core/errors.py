"""The project's errors: the codes every error response carries, the domain errors
services raise, and which DynamoDB failures mean "not now" (a 503).

`triggers.http.exceptions` renders any of them (and anything else) in the one envelope

    {"error": {"code", "message", "details", "request_id"}}
"""

from __future__ import annotations

from typing import Any, Final

from botocore.exceptions import ClientError, ConnectTimeoutError, HTTPClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError
from pynamodb.exceptions import PynamoDBException

from triggers.core.deadline import DeadlineExceeded

__all__ = [
    "CONDITION_FAILED",
    "CONDITION_FAILED_REASON",
    "PASSING_CANCELLATION_REASONS",
    "RETRY_AFTER_SECONDS",
    "ConflictError",
    "ErrorCode",
    "LeaseLostError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServiceUnavailableError",
    "TriggersError",
    "UnavailableCause",
    "ValidationFailedError",
    "WriteRefusedError",
    "describe_error",
    "dynamodb_error_code",
    "error_body",
    "permanent_write_error",
    "unavailable_cause",
]


# DynamoDB's error code when a write's condition does not hold, and the same as a
# transaction's cancellation reason for one of its items.
CONDITION_FAILED: Final = "ConditionalCheckFailedException"
CONDITION_FAILED_REASON: Final = "ConditionalCheckFailed"
# A transaction item's cancellation reasons that pass: the item was not written, and may
# be when tried again ("None": the item was fine, another one cancelled the transaction).
PASSING_CANCELLATION_REASONS: Final = frozenset(
    {
        "None",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "TransactionConflict",
        "RequestLimitExceeded",
    }
)

# Seconds a client is asked to wait when DynamoDB throttles or cannot be reached.
RETRY_AFTER_SECONDS: Final = 1


class ErrorCode:
    """The `error.code` of every error response (docs/API.md)."""

    VALIDATION_ERROR: Final = "VALIDATION_ERROR"
    UNAUTHORIZED: Final = "UNAUTHORIZED"
    NOT_FOUND: Final = "NOT_FOUND"
    METHOD_NOT_ALLOWED: Final = "METHOD_NOT_ALLOWED"
    CONFLICT: Final = "CONFLICT"
    LEASE_LOST: Final = "LEASE_LOST"
    PAYLOAD_TOO_LARGE: Final = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE: Final = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED: Final = "RATE_LIMITED"
    INTERNAL_ERROR: Final = "INTERNAL_ERROR"
    WRITE_REFUSED: Final = "WRITE_REFUSED"
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


class LeaseLostError(TriggersError):
    """409: the lease token is no longer the event's current lease (it expired, another
    consumer leased the event since, or it was released or acknowledged), so nothing
    was changed; `details.reason` says which."""

    status_code = 409
    code = ErrorCode.LEASE_LOST
    default_message = "This lease is no longer held; the event was not changed."


class PayloadTooLargeError(TriggersError):
    status_code = 413
    code = ErrorCode.PAYLOAD_TOO_LARGE
    default_message = "The request body is too large."


class WriteRefusedError(TriggersError):
    """500: DynamoDB refused a write for a reason retrying cannot change (a bug or a
    misconfiguration, never the client's to fix by waiting)."""

    code = ErrorCode.WRITE_REFUSED
    default_message = "The event could not be stored."


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
    LARGE_BODIES: Final = "large_bodies"  # too many large bodies in this process at once
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


def permanent_write_error(reason: str, message: str) -> TriggersError:
    """The error for a write DynamoDB refused for good: `reason` is its error code or a
    transaction's cancellation reason, `message` its own words (never shown to clients)."""
    if reason in {"ValidationError", "ValidationException"} and "size" in message.lower():
        return PayloadTooLargeError(
            "The event is larger than DynamoDB stores in one item (400 KB).",
            details={"reason": "item_size"},
        )
    return WriteRefusedError(
        "DynamoDB refused to store the event; retrying will not help.", details={"reason": reason}
    )


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
