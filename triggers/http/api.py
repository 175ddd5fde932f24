"""The base view and response helper shared by every v1 endpoint."""

from __future__ import annotations

from typing import Any, NoReturn

from rest_framework.exceptions import Throttled, UnsupportedMediaType
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from triggers.core.request_id import get_request_id
from triggers.http.headers import extra_response_headers

__all__ = ["ApiView", "api_response"]


def _has_body(request: Request) -> bool:
    meta = request.META
    length = meta.get("CONTENT_LENGTH") or "0"
    return length not in ("", "0") or "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "")


# Base for every v1 endpoint (its docstring would become each endpoint's OpenAPI text).
class ApiView(APIView):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if _has_body(request) and not request.content_type:
            raise UnsupportedMediaType("", detail="Content-Type must be application/json.")

    def charge(self, request: Request, cost: int) -> None:
        """Charge the request `cost` more, after the one its throttles charged before the
        body was read (a batch counts as its events): each throttle with a
        `charge(request, view, cost)` decides, and raises when the caller cannot pay."""
        for throttle in self.get_throttles():
            charge = getattr(throttle, "charge", None)
            if charge is not None:
                charge(request, self, cost)

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        # DRF appends "Expected available in N seconds."; Retry-After says the same.
        raise Throttled(wait=max(1.0, wait or 1.0), detail="Rate limit exceeded for this API key.")

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in extra_response_headers(request).items():
            response[name] = value
        return response


def api_response(
    request: Request,
    data: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A success body: the rendered data plus the request's `request_id`."""
    return Response({**data, "request_id": get_request_id(request)}, status=status, headers=headers)
