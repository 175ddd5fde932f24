"""Query and response shapes of GET /v1/inbox."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from events.serializers import TEXT_FIELD_MAX_LENGTH, EventOutSerializer
from triggers.http.serializers import StrictCharField, StrictSerializer

INBOX_DEFAULT_LIMIT = 50
INBOX_MAX_LIMIT = 100
_MAX_CURSOR_LENGTH = 1024


class InboxQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=INBOX_MAX_LIMIT, default=INBOX_DEFAULT_LIMIT
    )
    cursor = StrictCharField(required=False, max_length=_MAX_CURSOR_LENGTH)
    source = StrictCharField(required=False, max_length=TEXT_FIELD_MAX_LENGTH)  # type: ignore[assignment]  # DRF Field.source
    event_type = StrictCharField(required=False, max_length=TEXT_FIELD_MAX_LENGTH)


class PaginationSerializer(serializers.Serializer[Any]):
    limit = serializers.IntegerField()
    next_cursor = serializers.CharField(allow_null=True)


class InboxResponseSerializer(serializers.Serializer[Any]):
    events = EventOutSerializer(many=True)
    pagination = PaginationSerializer()
    request_id = serializers.CharField()
