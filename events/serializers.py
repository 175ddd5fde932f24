"""Input and output shapes of the events endpoints."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from events.batch import MAX_BATCH_ITEMS
from events.models import PRIORITIES
from triggers.core.errors import TriggersError
from triggers.http.serializers import (
    JSONObjectTextField,
    JSONValueField,
    RawJSONField,
    StrictCharField,
    StrictSerializer,
)

TEXT_FIELD_MAX_LENGTH = 100  # source, event_type: after trimming
IDEMPOTENCY_KEY_MAX_LENGTH = 255
CORRELATION_ID_MAX_LENGTH = 255

_idempotency_key_format = RegexValidator(
    r"^[\x21-\x7e]+$", "Use printable ASCII characters without spaces."
)


def _idempotency_key_field(*, required: bool) -> StrictCharField:
    return StrictCharField(
        required=required,
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
        validators=[_idempotency_key_format],
    )


class IdempotencyKeyHeaderSerializer(serializers.Serializer[Any]):
    """The `Idempotency-Key` header, validated like the body's `metadata.idempotency_key`."""

    idempotency_key = _idempotency_key_field(required=True)


class EventMetadataInSerializer(StrictSerializer):
    correlation_id = StrictCharField(required=False, max_length=CORRELATION_ID_MAX_LENGTH)
    priority = serializers.ChoiceField(choices=PRIORITIES, required=False)
    idempotency_key = _idempotency_key_field(required=False)


class EventInSerializer(StrictSerializer):
    """Body of POST /v1/events. Text fields are trimmed, then must be 1-100 characters."""

    source = StrictCharField(max_length=TEXT_FIELD_MAX_LENGTH)  # type: ignore[assignment]  # DRF Field.source
    event_type = StrictCharField(max_length=TEXT_FIELD_MAX_LENGTH)
    payload = JSONObjectTextField()
    metadata = EventMetadataInSerializer(required=False)


def resolve_idempotency_key(*, header: str | None, metadata: dict[str, Any]) -> str | None:
    """The request's idempotency key, from the header or the body (they must agree)."""
    in_body: str | None = metadata.get("idempotency_key")
    if header is None:
        return in_body
    checked = IdempotencyKeyHeaderSerializer(data={"idempotency_key": header})
    checked.is_valid(raise_exception=True)
    if in_body is not None and in_body != header:
        raise serializers.ValidationError(
            {"idempotency_key": ["The Idempotency-Key header and metadata.idempotency_key differ."]}
        )
    return header


class EventMetadataOutSerializer(serializers.Serializer[Any]):
    correlation_id = serializers.CharField(allow_null=True)
    priority = serializers.CharField()
    idempotency_key = serializers.CharField(allow_null=True)


# The response shapes (and the OpenAPI schema). events/rendering.py renders the same
# JSON faster on the hot paths; a test holds the two to the same bytes.
class EventCreatedOutSerializer(serializers.Serializer[Any]):
    event_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # DRF Field.source
    event_type = serializers.CharField()


class EventOutSerializer(serializers.Serializer[Any]):
    event_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    source = serializers.CharField()  # type: ignore[assignment]  # DRF Field.source
    event_type = serializers.CharField()
    payload = RawJSONField()
    metadata = EventMetadataOutSerializer()
    status = serializers.CharField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class EventAckOutSerializer(serializers.Serializer[Any]):
    event_id = serializers.CharField()
    status = serializers.CharField()
    acknowledged_at = serializers.DateTimeField()


class _RequestIdMixin(serializers.Serializer[Any]):
    request_id = serializers.CharField()


# Response shapes as documented in the OpenAPI schema: the body plus `request_id`.
class EventCreatedResponseSerializer(EventCreatedOutSerializer, _RequestIdMixin):
    pass


class EventResponseSerializer(EventOutSerializer, _RequestIdMixin):
    pass


class EventAckResponseSerializer(EventAckOutSerializer, _RequestIdMixin):
    pass


class EventBatchInSerializer(StrictSerializer):
    """Body of POST /v1/events/batch. Each event is validated on its own (one invalid event
    fails only itself), so here they are only JSON values."""

    events = serializers.ListField(child=JSONValueField(), min_length=1, max_length=MAX_BATCH_ITEMS)


class BatchErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class BatchResultSerializer(serializers.Serializer[Any]):
    """One event's outcome: the stored event's fields, or `error`."""

    index = serializers.IntegerField()
    event_id = serializers.CharField(required=False)
    created_at = serializers.DateTimeField(required=False)
    status = serializers.CharField(required=False)
    replayed = serializers.BooleanField(required=False)
    error = BatchErrorSerializer(required=False)


class EventBatchResponseSerializer(_RequestIdMixin):
    results = BatchResultSerializer(many=True)


class EventBatchInDocsSerializer(serializers.Serializer[Any]):
    """The batch body as documented: 1-25 events, each as POST /v1/events takes it."""

    events = EventInSerializer(many=True)


def batch_error(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    """One batch item's `error` result."""
    return {"error": {"code": code, "message": message, "details": details}}


def batch_result(outcome: Any) -> dict[str, Any]:
    """One batch item's result fields: the stored event's, or its error's."""
    if isinstance(outcome, TriggersError):
        return batch_error(outcome.code, outcome.message, outcome.details)
    return {
        "event_id": outcome.event_id,
        "created_at": outcome.created_at,
        "status": outcome.status,
        "replayed": outcome.replayed,
    }
