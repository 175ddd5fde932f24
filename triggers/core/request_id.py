"""Request ids: the caller's `X-Request-ID` when it is safe to echo, otherwise a new UUID4."""

from __future__ import annotations

import re
import uuid
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def resolve_request_id(candidate: str | None) -> str:
    if candidate and _SAFE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return str(uuid.uuid4())


def get_request_id(request: Any) -> str:
    """The id RequestContextMiddleware bound to a Django or DRF request ("" outside one)."""
    return str(getattr(request, "request_id", ""))
