"""Content handling for every endpoint: JSON in, JSON out, whatever the Accept header says.

Bodies go through `triggers.core.jsoncodec`, so numbers keep their exact text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from triggers.core.errors import PayloadTooLargeError
from triggers.core.jsoncodec import dumps_exact, loads_exact


class JSONParser(BaseParser):
    """Reads at most the view's `max_body_bytes` (default MAX_EVENT_BYTES), else 413."""

    media_type = "application/json"

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        view = (parser_context or {}).get("view")
        limit: int = getattr(view, "max_body_bytes", None) or settings.MAX_EVENT_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLargeError(
                f"The request body exceeds {limit} bytes.", details={"max_bytes": limit}
            )
        try:
            return loads_exact(raw)
        except UnicodeDecodeError:
            raise ParseError("Malformed JSON: the body is not valid UTF-8.") from None
        except json.JSONDecodeError as exc:
            message = f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
            raise ParseError(message) from None
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}.") from None


class JSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return dumps_exact(data)


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """The API speaks JSON only: the Accept header never turns a request into a 406."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type
