"""Query and response shapes of GET /v1/inbox."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from events.serializers import TEXT_FIELD_MAX_LENGTH, EventOutSerializer
from triggers.http.serializers import StrictCharField, StrictSerializer, trimmed_text_field

INBOX_DEFAULT_LIMIT = 50
INBOX_MAX_LIMIT = 100
_MAX_CURSOR_LENGTH = 1024
# A cursor as the service issues them (inbox/cursor.py): Django's signed object, URL-safe
# base64 of the position (a leading "." when compressed), ".", a 43-character HMAC.
CURSOR_PATTERN = r"^\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$"


class InboxQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=INBOX_MAX_LIMIT, default=INBOX_DEFAULT_LIMIT
    )
    cursor = StrictCharField(
        required=False,
        max_length=_MAX_CURSOR_LENGTH,
        validators=[RegexValidator(CURSOR_PATTERN, "Invalid cursor.")],
        help_text=(
            "The previous page's `pagination.next_cursor`, as it was given: signed, and "
            "only for the tenant it was given to. Anything else is a 400."
        ),
    )
    source = trimmed_text_field(required=False, max_length=TEXT_FIELD_MAX_LENGTH)  # type: ignore[assignment]  # DRF Field.source
    event_type = trimmed_text_field(required=False, max_length=TEXT_FIELD_MAX_LENGTH)


class PaginationSerializer(serializers.Serializer[Any]):
    limit = serializers.IntegerField()
    next_cursor = serializers.CharField(allow_null=True)


class InboxResponseSerializer(serializers.Serializer[Any]):
    events = EventOutSerializer(many=True)
    pagination = PaginationSerializer()
    request_id = serializers.CharField()
