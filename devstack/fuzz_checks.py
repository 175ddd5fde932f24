"""A check of the project's own for `make fuzz` (schemathesis loads this module through
SCHEMATHESIS_HOOKS): every 4xx is the error envelope, carrying the request's own id."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx is `{"error": {code, message, details, request_id}}`, with the request's id."""
    if not 400 <= response.status_code < 500:
        return None
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    headers = {name.lower(): values[0] for name, values in response.headers.items()}
    if headers.get("content-type") != "application/json":
        raise AssertionError(f"{where}: not JSON")
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(error) != {"code", "message", "details", "request_id"}:
        raise AssertionError(f"{where}: not the error envelope: {body}")
    if error["request_id"] != headers.get("x-request-id"):
        raise AssertionError(f"{where}: request_id {error['request_id']} is not X-Request-ID")
    return True
