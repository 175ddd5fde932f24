"""The OpenAPI document: response declarations shared by the views, and its endpoint."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework.request import Request
from rest_framework.response import Response

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


class SchemaView(SpectacularJSONAPIView):
    """`GET /v1/schema`: the OpenAPI document, built on the first request of a process and
    served from memory after (it changes only with the code; building it costs ~30 ms of
    CPU, too much for an endpoint anyone may call)."""

    _schema: ClassVar[dict[str, Any] | None] = None
    _building: ClassVar[threading.Lock] = threading.Lock()

    def _get_schema_response(self, request: Request) -> Response:
        cls = type(self)
        with cls._building:
            if cls._schema is None:
                built: Response = super()._get_schema_response(request)  # type: ignore[no-untyped-call]
                cls._schema = built.data
        return Response(data=cls._schema)
