"""The route template of a request: the `endpoint` in logs and metrics, never the raw path."""

from __future__ import annotations

import re

from django.http import HttpRequest

__all__ = ["UNMATCHED_ENDPOINT", "endpoint_of"]

# Requests that match no route share one bucket, so scanners cannot create one per path.
UNMATCHED_ENDPOINT = "unmatched"

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def endpoint_of(request: HttpRequest) -> str:
    """`/v1/events/{event_id}` for `/v1/events/8c1e...`; UNMATCHED_ENDPOINT for a 404 route."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return UNMATCHED_ENDPOINT
    return "/" + _CONVERTER.sub(r"{\1}", match.route)
