"""An event body validated without building DRF serializers on the hot path.

Both this validator and EventInSerializer (the errors' wording, the OpenAPI schema) are
derived from the one table of an event's fields (events/fields.py).
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

from events.fields import METADATA_FIELDS, SENT_FIELDS, TextRule
from events.serializers import EventInSerializer, batch_error
from triggers.core.errors import ErrorCode
from triggers.core.jsoncodec import JSONTextError, dumps_exact

__all__ = ["plainly_valid_event", "validate_batch_events", "validated_event"]

_EVENT_FIELDS = frozenset(field.name for field in SENT_FIELDS)
_METADATA_FIELDS = frozenset(field.name for field in METADATA_FIELDS)
# DRF's CharField refuses NUL characters and lone UTF-16 surrogates.
_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
_PATTERNS = {
    rule.pattern: re.compile(rule.pattern)
    for rule in [*(field.rule for field in SENT_FIELDS), *(m.rule for m in METADATA_FIELDS)]
    if rule is not None and rule.pattern is not None
}


def _text(value: Any, rule: TextRule) -> str | None:
    """The value as the serializer's field would take it under `rule`, or None."""
    if rule.choices:
        return value if isinstance(value, str) and value in rule.choices else None
    if not isinstance(value, str) or _REFUSED_CHARACTERS.search(value):
        return None
    trimmed = value.strip()
    if not 0 < len(trimmed) <= rule.max_length:
        return None
    if rule.pattern is not None and not _PATTERNS[rule.pattern].fullmatch(trimmed):
        return None
    return trimmed


def _metadata(data: Any) -> dict[str, str] | None:
    if not isinstance(data, dict) or not data.keys() <= _METADATA_FIELDS:
        return None
    metadata: dict[str, str] = {}
    for field in METADATA_FIELDS:
        if field.name in data:
            value = _text(data[field.name], field.rule)
            if value is None:
                return None
            metadata[field.name] = value
    return metadata


def _payload(value: Any) -> str | None:
    if not isinstance(value, dict) or not value:
        return None
    try:
        return dumps_exact(value).decode("utf-8")
    except JSONTextError:
        return None


def plainly_valid_event(data: Any) -> dict[str, Any] | None:
    """EventInSerializer's validated data for `data`, or None when `data` is not plainly
    valid (the serializer then decides, and words the errors)."""
    if not isinstance(data, dict) or not data.keys() <= _EVENT_FIELDS:
        return None
    validated: dict[str, Any] = {}
    for field in SENT_FIELDS:
        if field.sent == "metadata":
            if field.name not in data:
                continue  # optional
            value: Any = _metadata(data[field.name])
        elif field.sent == "json_object":
            value = _payload(data.get(field.name))
        else:
            assert field.rule is not None  # noqa: S101 - every sent text field has a rule
            value = _text(data.get(field.name), field.rule)
        if value is None:
            return None
        validated[field.name] = value
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
