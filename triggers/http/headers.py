"""Headers something earlier in a request (a throttle, ...) asks to add to its answer,
whatever the answer turns out to be (an error too); `ApiView.finalize_response` writes
them. No DRF view is imported here: DRF imports the throttle while defining APIView."""

from __future__ import annotations

from typing import Any

__all__ = ["add_response_headers", "extra_response_headers"]

_ATTRIBUTE = "extra_response_headers"


def add_response_headers(request: Any, headers: dict[str, str]) -> None:
    extra: dict[str, str] = getattr(request, _ATTRIBUTE, {})
    extra.update(headers)
    setattr(request, _ATTRIBUTE, extra)


def extra_response_headers(request: Any) -> dict[str, str]:
    return dict(getattr(request, _ATTRIBUTE, {}))
