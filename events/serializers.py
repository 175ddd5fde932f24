"""Input and output shapes of the events endpoints.

An event's own shapes (what a producer sends, what a consumer reads) are derived from
the one table of its fields (events/fields.py), so adding a field changes no serializer.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from events.batch import MAX_BATCH_ITEMS
from events.fields import FIELDS, METADATA_FIELDS, SENT_FIELDS, TEXT_FIELD_MAX_LENGTH, TextRule
from triggers.core.errors import TriggersError
from triggers.http.serializers import (
    JSONObjectTextField,
    JSONValueField,
    RawJSONField,
    StrictSerializer,
    trimmed_text_field,
    trimmed_text_pattern,
)

__all__ = ["TEXT_FIELD_MAX_LENGTH"]  # and the serializers below

Serializer = type[serializers.Serializer[Any]]


def _derived(name: str, base: type[Any], fields: dict[str, Any], doc: str) -> Serializer:
    """A serializer class made from a table's rows (named, documented, in this module)."""
    attributes = {**fields, "__doc__": doc, "__module__": __name__, "__qualname__": name}
    serializer: Serializer = type(name, (base,), attributes)
    return serializer


def _input_text(rule: TextRule, *, required: bool) -> serializers.Field[Any, Any, Any, Any]:
    if rule.choices:
        return serializers.ChoiceField(choices=rule.choices, required=required)
    if rule.pattern is None:
        return trimmed_text_field(required=required, max_length=rule.max_length)
    # A pattern is one character class repeated (TextRule.pattern): the schema bounds it.
    core = rule.pattern.removesuffix("+")
    validators = [RegexValidator(f"^{rule.pattern}$", rule.pattern_message)]
    return trimmed_text_field(
        required=required, max_length=rule.max_length, core=core, validators=validators
    )


def _metadata_rule(name: str) -> TextRule:
    (rule,) = [field.rule for field in METADATA_FIELDS if field.name == name]
    return rule


def _idempotency_key_pattern() -> str:
    rule = _metadata_rule("idempotency_key")
    assert rule.pattern is not None  # noqa: S101 - the key's rule has one
    return trimmed_text_pattern(rule.max_length, core=rule.pattern.removesuffix("+"))


# The Idempotency-Key header's schema: the rule of metadata.idempotency_key.
IDEMPOTENCY_KEY_PATTERN = _idempotency_key_pattern()


class IdempotencyKeyHeaderSerializer(serializers.Serializer[Any]):
    """The `Idempotency-Key` header, validated like the body's `metadata.idempotency_key`."""

    idempotency_key = _input_text(_metadata_rule("idempotency_key"), required=True)


EventMetadataInSerializer = _derived(
    "EventMetadataInSerializer",
    StrictSerializer,
    {field.name: _input_text(field.rule, required=False) for field in METADATA_FIELDS},
    "",
)


def _input_field(field: Any) -> serializers.Field[Any, Any, Any, Any]:
    if field.sent == "metadata":
        return EventMetadataInSerializer(required=False)
    if field.sent == "json_object":
        return JSONObjectTextField()
    return _input_text(field.rule, required=True)


EventInSerializer = _derived(
    "EventInSerializer",
    StrictSerializer,
    {field.name: _input_field(field) for field in SENT_FIELDS},
    "Body of POST /v1/events. Text fields are trimmed, then must be 1-100 characters.",
)


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


EventMetadataOutSerializer = _derived(
    "EventMetadataOutSerializer",
    serializers.Serializer,
    {
        field.name: serializers.CharField(allow_null=field.default is None)
        for field in METADATA_FIELDS
    },
    "",
)


def _output_field(field: Any) -> serializers.Field[Any, Any, Any, Any]:
    if field.stored == "metadata":
        return EventMetadataOutSerializer()
    if field.stored == "json":
        return RawJSONField()
    if field.stored == "time":
        return serializers.DateTimeField(allow_null=field.nullable)
    if field.stored == "count":
        return serializers.IntegerField(min_value=0)
    return serializers.CharField(allow_null=field.nullable)


class EventCreatedOutSerializer(serializers.Serializer[Any]):
    event_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # DRF Field.source
    event_type = serializers.CharField()


EventOutSerializer = _derived(
    "EventOutSerializer",
    serializers.Serializer,
    {field.name: _output_field(field) for field in FIELDS if field.shown},
    "",
)


# Every success body carries the request's id. (A comment: a docstring would become the
# OpenAPI description of every subclass.)
class RequestIdSerializer(serializers.Serializer[Any]):
    request_id = serializers.CharField()


# Response shapes as documented in the OpenAPI schema: the body plus `request_id`.
class EventCreatedResponseSerializer(EventCreatedOutSerializer, RequestIdSerializer):
    pass


EventResponseSerializer = _derived(
    "EventResponseSerializer", EventOutSerializer, {"request_id": serializers.CharField()}, ""
)


class EventBatchInSerializer(StrictSerializer):
    """Body of POST /v1/events/batch. Each event is validated on its own (one invalid event
    fails only itself), so here they are only JSON values."""

    events = serializers.ListField(child=JSONValueField(), min_length=1, max_length=MAX_BATCH_ITEMS)


class BatchErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class BatchStoredResultSerializer(serializers.Serializer[Any]):
    """One event stored (or, with its idempotency key, replayed)."""

    index = serializers.IntegerField(min_value=0, max_value=MAX_BATCH_ITEMS - 1)
    event_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    status = serializers.CharField()
    replayed = serializers.BooleanField()


class BatchFailedResultSerializer(serializers.Serializer[Any]):
    """One event not stored, and why: the error that event alone met (400, 409, 413, 500
    and 503 codes, as POST /v1/events would answer them)."""

    index = serializers.IntegerField(min_value=0, max_value=MAX_BATCH_ITEMS - 1)
    error = BatchErrorSerializer()


class EventBatchResponseSerializer(RequestIdSerializer):
    results = PolymorphicProxySerializer(
        component_name="BatchResult",
        serializers=[BatchStoredResultSerializer, BatchFailedResultSerializer],
        resource_type_field_name=None,
        many=True,
    )


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_BATCH_ITEMS,
        "items": {"anyOf": [{"$ref": "#/components/schemas/EventInRequest"}, {}]},
        "description": (
            f"1-{MAX_BATCH_ITEMS} events. Each is validated on its own, exactly as POST "
            "/v1/events validates one (EventInRequest): an event that is not valid fails alone, "
            "in its own result, and the request is still a 200."
        ),
    }
)
class _BatchEventsDocsField(serializers.ListField):
    pass


class EventBatchInDocsSerializer(serializers.Serializer[Any]):
    """The batch body as documented: 1-25 events, each as POST /v1/events takes it."""

    events = _BatchEventsDocsField()


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
