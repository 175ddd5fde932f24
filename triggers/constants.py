"""Names shared across the project: headers, error codes, limits that are not settings."""

from __future__ import annotations

from typing import Final

API_KEY_HEADER: Final = "X-API-Key"
REQUEST_ID_HEADER: Final = "X-Request-ID"
IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
IDEMPOTENT_REPLAYED_HEADER: Final = "Idempotent-Replayed"

# Seconds a client is asked to wait when DynamoDB throttles or cannot be reached.
RETRY_AFTER_SECONDS: Final = 1

STATUS_PENDING: Final = "pending"
STATUS_ACKNOWLEDGED: Final = "acknowledged"
PRIORITIES: Final = ("low", "normal", "high")
DEFAULT_PRIORITY: Final = "normal"

TEXT_FIELD_MAX_LENGTH: Final = 100
IDEMPOTENCY_KEY_MAX_LENGTH: Final = 255
CORRELATION_ID_MAX_LENGTH: Final = 255

INBOX_DEFAULT_LIMIT: Final = 50
INBOX_MAX_LIMIT: Final = 100


class ErrorCode:
    VALIDATION_ERROR: Final = "VALIDATION_ERROR"
    UNAUTHORIZED: Final = "UNAUTHORIZED"
    FORBIDDEN: Final = "FORBIDDEN"
    NOT_FOUND: Final = "NOT_FOUND"
    METHOD_NOT_ALLOWED: Final = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE: Final = "NOT_ACCEPTABLE"
    CONFLICT: Final = "CONFLICT"
    PAYLOAD_TOO_LARGE: Final = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE: Final = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED: Final = "RATE_LIMITED"
    INTERNAL_ERROR: Final = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE: Final = "SERVICE_UNAVAILABLE"


# RFC 3339, UTC, microseconds, "Z": fixed width, so it also sorts as text.
TIMESTAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
