"""An event body validated without building DRF serializers on the hot path.

EventInSerializer stays the definition of a valid event (and its OpenAPI schema).
`validated_event` returns exactly what the serializer's `validated_data` would be for a
body that is plainly valid, and hands anything else to the serializer, so every error
a client sees is the serializer's own. Building a serializer deep-copies its fields,
which cost a quarter of the service's CPU per POST (docs/PERFORMANCE.md); a property
test (events/tests/test_validation.py) holds the two to the same answers.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from events.models import PRIORITIES
from events.serializers import (
    CORRELATION_ID_MAX_LENGTH,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    TEXT_FIELD_MAX_LENGTH,
    EventInSerializer,
    batch_error,
)
from triggers.core.errors import ErrorCode
from triggers.core.jsoncodec import JSONTextError, dumps_exact

__all__ = ["plainly_valid_event", "validate_batch_events", "validated_event"]

_EVENT_FIELDS = frozenset({"source", "event_type", "payload", "metadata"})
_METADATA_FIELDS = frozenset({"correlation_id", "priority", "idempotency_key"})
# DRF's CharField refuses NUL characters and lone UTF-16 surrogates.
_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]+")


def _text(value: Any, max_length: int) -> str | None:
    """DRF's CharField (trimmed, not blank, at most max_length), or None."""
    if not isinstance(value, str) or _REFUSED_CHARACTERS.search(value):
        return None
    trimmed = value.strip()
    return trimmed if 0 < len(trimmed) <= max_length else None


def _metadata(data: Any) -> dict[str, str] | None:
    if not isinstance(data, dict) or not data.keys() <= _METADATA_FIELDS:
        return None
    metadata: dict[str, str] = {}
    if "correlation_id" in data:
        correlation_id = _text(data["correlation_id"], CORRELATION_ID_MAX_LENGTH)
        if correlation_id is None:
            return None
        metadata["correlation_id"] = correlation_id
    if "priority" in data:
        priority = data["priority"]
        if not isinstance(priority, str) or priority not in PRIORITIES:
            return None
        metadata["priority"] = priority
    if "idempotency_key" in data:
        key = _text(data["idempotency_key"], IDEMPOTENCY_KEY_MAX_LENGTH)
        if key is None or not _IDEMPOTENCY_KEY.fullmatch(key):
            return None
        metadata["idempotency_key"] = key
    return metadata


def plainly_valid_event(data: Any) -> dict[str, Any] | None:
    """EventInSerializer's validated data for `data`, or None when `data` is not plainly
    valid (the serializer then decides, and words the errors)."""
    if not isinstance(data, dict) or not data.keys() <= _EVENT_FIELDS:
        return None
    source = _text(data.get("source"), TEXT_FIELD_MAX_LENGTH)
    event_type = _text(data.get("event_type"), TEXT_FIELD_MAX_LENGTH)
    payload = data.get("payload")
    if source is None or event_type is None or not isinstance(payload, dict) or not payload:
        return None
    try:
        payload_text = dumps_exact(payload).decode("utf-8")
    except JSONTextError:
        return None
    validated: dict[str, Any] = {
        "source": source,
        "event_type": event_type,
        "payload": payload_text,
    }
    if "metadata" in data:
        metadata = _metadata(data["metadata"])
        if metadata is None:
            return None
        validated["metadata"] = metadata
    return validated


def validated_event(data: Any) -> dict[str, Any]:
    """The body's validated data; a ValidationError with the serializer's errors if invalid."""
    validated = plainly_valid_event(data)
    if validated is not None:
        return validated
    checked = EventInSerializer(data=data)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)


def _encoded_size(event: Any) -> int:
    try:
        return len(dumps_exact(event))
    except JSONTextError:  # a lone surrogate: the serializer says where
        return 0


def validate_batch_events(events: list[Any]) -> list[dict[str, Any]]:
    """Each event of a batch validated on its own, as POST /v1/events validates one: its
    validated data, or `{"error": {code, message, details}}` for that event alone."""
    validated = []
    for event in events:
        if _encoded_size(event) > settings.MAX_EVENT_BYTES:
            validated.append(
                batch_error(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"The event exceeds {settings.MAX_EVENT_BYTES} bytes.",
                    {"max_bytes": settings.MAX_EVENT_BYTES},
                )
            )
            continue
        plain = plainly_valid_event(event)
        if plain is not None:
            validated.append(plain)
            continue
        checked = EventInSerializer(data=event)
        if checked.is_valid():
            validated.append(dict(checked.validated_data))
        else:
            validated.append(
                batch_error(
                    ErrorCode.VALIDATION_ERROR, "The event failed validation.", checked.errors
                )
            )
    return validated
