"""OpenAPI response declarations shared by the views."""

from __future__ import annotations

from typing import Any

from triggers.http.serializers import ErrorEnvelopeSerializer

_ERROR_STATUSES = {
    "read": (401, 404, 405, 429, 503),
    "list": (400, 401, 405, 429, 503),
    "write": (400, 401, 404, 405, 409, 413, 415, 429, 503),
}


def with_errors(kind: str, success: dict[int, Any]) -> dict[int, Any]:
    """`responses=` for extend_schema: the success shapes plus the error envelope."""
    responses = dict(success)
    for status in (*_ERROR_STATUSES[kind], 500):
        responses[status] = ErrorEnvelopeSerializer
    return responses
