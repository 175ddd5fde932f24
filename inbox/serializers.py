"""Query, body and response shapes of the inbox, lease and dead-letter endpoints."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from events.serializers import (
    TEXT_FIELD_MAX_LENGTH,
    BatchErrorSerializer,
    EventOutSerializer,
    RequestIdSerializer,
)
from inbox.lease_tokens import LEASE_TOKEN_MAX_LENGTH, LEASE_TOKEN_PATTERN
from inbox.leases import MAX_LEASE_SECONDS
from triggers.core.ids import EVENT_ID_PATTERN
from triggers.http.serializers import StrictCharField, StrictSerializer, trimmed_text_field

INBOX_DEFAULT_LIMIT = 50
INBOX_MAX_LIMIT = 100
LEASE_DEFAULT_LIMIT = 10
LEASE_DEFAULT_VISIBILITY_TIMEOUT = 30
MAX_LEASE_TOKENS = 100
MAX_REDRIVE_EVENTS = 100
_MAX_CURSOR_LENGTH = 1024
# A cursor as the service issues them (inbox/cursor.py): Django's signed object, URL-safe
# base64 of the position (a leading "." when compressed), ".", a 43-character HMAC.
CURSOR_PATTERN = r"^\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$"


def _filters() -> dict[str, Any]:
    return {
        "source": trimmed_text_field(required=False, max_length=TEXT_FIELD_MAX_LENGTH),
        "event_type": trimmed_text_field(required=False, max_length=TEXT_FIELD_MAX_LENGTH),
    }


def _cursor_field(help_text: str) -> StrictCharField:
    return StrictCharField(
        required=False,
        max_length=_MAX_CURSOR_LENGTH,
        validators=[RegexValidator(CURSOR_PATTERN, "Invalid cursor.")],
        help_text=help_text,
    )


class InboxQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=INBOX_MAX_LIMIT, default=INBOX_DEFAULT_LIMIT
    )
    cursor = _cursor_field(
        "The previous page's `pagination.next_cursor`, as it was given: signed, and "
        "only for the tenant it was given to. Anything else is a 400."
    )
    source = _filters()["source"]
    event_type = _filters()["event_type"]


class PaginationSerializer(serializers.Serializer[Any]):
    limit = serializers.IntegerField()
    next_cursor = serializers.CharField(allow_null=True)


class InboxResponseSerializer(serializers.Serializer[Any]):
    events = EventOutSerializer(many=True)
    pagination = PaginationSerializer()
    request_id = serializers.CharField()


# --- leases -----------------------------------------------------------------------------


def _seconds(*, minimum: int, default: int, help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=minimum, max_value=MAX_LEASE_SECONDS, default=default, help_text=help_text
    )


def _lease_token_field(**kwargs: Any) -> StrictCharField:
    return StrictCharField(
        max_length=LEASE_TOKEN_MAX_LENGTH,
        validators=[RegexValidator(LEASE_TOKEN_PATTERN, "Not a lease token.")],
        **kwargs,
    )


class LeaseRequestSerializer(StrictSerializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=INBOX_MAX_LIMIT, default=LEASE_DEFAULT_LIMIT
    )
    visibility_timeout = _seconds(
        minimum=1,
        default=LEASE_DEFAULT_VISIBILITY_TIMEOUT,
        help_text="Seconds the lease holds: no other lease returns the event meanwhile.",
    )
    source = _filters()["source"]
    event_type = _filters()["event_type"]
    cursor = _cursor_field(
        "The previous lease's `next_cursor`: continue reading where its read budget "
        "stopped (with the same filters). Without it, a lease reads from the oldest."
    )


class LeaseOutSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Ack, extend or release the event with it.")
    expires_at = serializers.DateTimeField()
    delivery_count = serializers.IntegerField(
        min_value=1, help_text="This is the event's n-th delivery (1 the first time)."
    )


class LeasedEventOutSerializer(EventOutSerializer):  # type: ignore[misc,valid-type]  # derived at import
    lease = LeaseOutSerializer()


class LeaseResponseSerializer(RequestIdSerializer):
    events = LeasedEventOutSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text=(
            "Set when the read budget ran out before the available events did (a filter "
            "whose matches are rare): pass it as `cursor` to lease on from there."
        ),
    )


class LeaseTokensSerializer(StrictSerializer):
    lease_tokens = serializers.ListField(
        child=_lease_token_field(), min_length=1, max_length=MAX_LEASE_TOKENS
    )


class ExtendRequestSerializer(LeaseTokensSerializer):
    visibility_timeout = _seconds(
        minimum=1,
        default=LEASE_DEFAULT_VISIBILITY_TIMEOUT,
        help_text=(
            "The leases now hold this many seconds from now, and at most "
            f"{MAX_LEASE_SECONDS} s from when each was taken."
        ),
    )


class ReleaseRequestSerializer(LeaseTokensSerializer):
    delay = _seconds(
        minimum=0,
        default=0,
        help_text="Seconds before a released event can be leased again.",
    )


class EventAckRequestSerializer(StrictSerializer):
    """Body of POST /v1/events/{id}/ack, optional: without a lease token the event is
    acknowledged whoever holds it."""

    lease_token = _lease_token_field(
        required=False,
        help_text="Acknowledge only while this lease holds the event (else 409 LEASE_LOST).",
    )


class EventAckResponseSerializer(RequestIdSerializer):
    event_id = serializers.CharField()
    status = serializers.CharField()
    acknowledged_at = serializers.DateTimeField()


class _ItemResultSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField(min_value=0, max_value=MAX_LEASE_TOKENS - 1)


class ItemFailedSerializer(_ItemResultSerializer):
    """One item not done, and why (404 NOT_FOUND, 409 LEASE_LOST, 400 for an extension
    past the lease's 12 hours), as the single-event endpoint would answer it."""

    error = BatchErrorSerializer()


class AckedItemSerializer(_ItemResultSerializer):
    event_id = serializers.CharField()
    status = serializers.CharField()
    acknowledged_at = serializers.DateTimeField()


class ExtendedItemSerializer(_ItemResultSerializer):
    event_id = serializers.CharField()
    lease = LeaseOutSerializer()


class ReleasedItemSerializer(_ItemResultSerializer):
    event_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["pending", "dead_lettered"],
        help_text="dead_lettered when this was the event's last allowed delivery.",
    )


def _results(name: str, done: type[serializers.Serializer[Any]]) -> type[Any]:
    field = PolymorphicProxySerializer(
        component_name=name,
        serializers=[done, ItemFailedSerializer],
        resource_type_field_name=None,
        many=True,
    )
    attributes = {"results": field, "__module__": __name__, "__qualname__": f"{name}Response"}
    return type(f"{name}ResponseSerializer", (RequestIdSerializer,), attributes)


AckResultsResponseSerializer = _results("AckResult", AckedItemSerializer)
ExtendResultsResponseSerializer = _results("ExtendResult", ExtendedItemSerializer)
ReleaseResultsResponseSerializer = _results("ReleaseResult", ReleasedItemSerializer)


# --- dead letters -----------------------------------------------------------------------


class RedriveRequestSerializer(StrictSerializer):
    """Either `event_ids`, or a creation-time range `since`..`until` (with filters)."""

    event_ids = serializers.ListField(
        child=StrictCharField(
            validators=[RegexValidator(f"^{EVENT_ID_PATTERN}$", "Not an event id.")]
        ),
        min_length=1,
        max_length=MAX_REDRIVE_EVENTS,
        required=False,
    )
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    source = _filters()["source"]
    event_type = _filters()["event_type"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        by_id = "event_ids" in attrs
        by_range = {"since", "until", "source", "event_type"} & set(attrs)
        if by_id == bool(by_range):
            raise serializers.ValidationError(
                "Give either event_ids, or since and until (with source and event_type if wanted)."
            )
        if by_range and not {"since", "until"} <= set(attrs):
            raise serializers.ValidationError("A range needs both since and until.")
        if by_range and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["Must not be before since."]})
        return attrs


class RedrivenItemSerializer(serializers.Serializer[Any]):
    event_id = serializers.CharField()
    status = serializers.CharField()


class RedriveFailedSerializer(serializers.Serializer[Any]):
    event_id = serializers.CharField()
    error = BatchErrorSerializer()


class RedriveResponseSerializer(RequestIdSerializer):
    results = PolymorphicProxySerializer(
        component_name="RedriveResult",
        serializers=[RedrivenItemSerializer, RedriveFailedSerializer],
        resource_type_field_name=None,
        many=True,
    )
    more = serializers.BooleanField(
        help_text="A range: more dead letters may match; send the same request again."
    )
